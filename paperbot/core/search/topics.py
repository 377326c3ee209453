"""Topic matching for digests: which papers of a window match a channel's topics, how well."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Protocol

from paperbot.core.search.grammar import SearchQuery, parse_query
from paperbot.core.search.hits import SearchHits

TopicHits = list[tuple[int, float]]
TopicCache = MutableMapping[tuple[str, date, str], TopicHits]


class Engine(Protocol):
    """What topic matching runs on: any engine with a search(query, limit=...) method."""

    def search(self, query: SearchQuery, *, limit: int, offset: int = ...) -> SearchHits: ...


@dataclass(frozen=True)
class TopicMatch:
    """A paper's best relevance (0..1, relative to the topic's best paper) and its topics."""

    score: float
    topics: tuple[str, ...]


def match_topics(
    engine: Engine,
    topics: Sequence[str],
    *,
    since: date,
    now: datetime,
    limit_per_topic: int,
    cache: TopicCache,
) -> dict[int, TopicMatch]:
    """Papers announced since a date matching any topic, with best relevance and topics."""
    out: dict[int, TopicMatch] = {}
    for topic in topics:
        key = (topic, since, now.date().isoformat())
        hits = cache.get(key)
        if hits is None:
            hits = topic_hits(engine, topic, since, now, limit_per_topic)
            cache[key] = hits
        for pid, score in hits:
            prev = out.get(pid)
            if prev is None:
                out[pid] = TopicMatch(score, (topic,))
            else:
                out[pid] = TopicMatch(max(prev.score, score), (*prev.topics, topic))
    return out


def topic_hits(engine: Engine, topic: str, since: date, now: datetime, limit: int) -> TopicHits:
    """One topic's papers since a date with relevance relative to its best match."""
    try:
        parsed = parse_query(topic, now=now)
    except ValueError:
        return []
    floor = max(since, parsed.since) if parsed.since else since
    parsed = replace(parsed, since=floor)
    if not (parsed.has_text or parsed.authors or parsed.categories):
        return []
    hits = engine.search(parsed, limit=limit).hits
    if not parsed.has_text:
        return [(pid, 1.0) for pid, _ in hits]
    best = hits[0][1] if hits and hits[0][1] > 0 else 1.0
    return [(pid, min(1.0, score / best)) for pid, score in hits]


__all__ = ["TopicMatch", "match_topics", "topic_hits"]
