"""Topic matching for digests: which papers of a window match a channel's topics, how well.

A topic is a search (words, phrases, filters). Each paper of the window gets a relevance in
0..1 to each topic (see fusion.topic_relevance: the dense side's cosine and the lexical
side's coverage of the topic's words); it matches the topic only when that relevance clears
`search.topic_threshold`. A topic made only of filters (cat:, author:) matches every paper
it selects with relevance 1.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Protocol

from cachetools import LRUCache

from paperbot.core.search.grammar import QueryTooLong, SearchQuery, parse_query

# A paper matched "by meaning" holds less than this share of the topic's (idf-weighted) words.
BY_MEANING_COVERAGE = 0.5


@dataclass(frozen=True)
class TopicHit:
    paper_id: int
    relevance: float
    coverage: float


TopicKey = tuple[str, date, str]
# Distinct (topic, window start, day) keys one index generation keeps: every channel's topics
# over a few days fit many times over.
TOPIC_CACHE_SIZE = 4096


class TopicCache:
    """Each topic's hits in a window, for the index generation it was filled from (the owner
    clears it when the index changes). A cachetools LRU, behind a lock: a delivery tick and a
    `/papers digest` may match topics at once, and cachetools' caches are not thread-safe."""

    def __init__(self, maxsize: int = TOPIC_CACHE_SIZE) -> None:
        self._lru: LRUCache[TopicKey, list[TopicHit]] = LRUCache(maxsize)
        self._lock = threading.Lock()

    def get(self, key: TopicKey) -> list[TopicHit] | None:
        with self._lock:
            return self._lru.get(key)

    def put(self, key: TopicKey, hits: list[TopicHit]) -> None:
        with self._lock:
            self._lru[key] = hits

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()

    def __len__(self) -> int:
        return len(self._lru)


class Scorer(Protocol):
    """Relevance of the window's papers to one parsed topic, best first."""

    def topic_hits(self, query: SearchQuery, *, limit: int) -> list[TopicHit]: ...


@dataclass(frozen=True)
class TopicMatch:
    """A paper's best relevance over the topics it matches, and those topics (best first)."""

    score: float  # best relevance over matched topics, 0..1
    topics: tuple[str, ...]  # topics whose relevance cleared the threshold, best first
    relevance: Mapping[str, float] = field(default_factory=dict)  # per matched topic, 0..1
    by_meaning: tuple[str, ...] = ()  # topics matched by the dense (semantic) side only


def match_topics(
    scorer: Scorer,
    topics: Sequence[str],
    *,
    since: date,
    now: datetime,
    limit_per_topic: int,
    cache: TopicCache,
    threshold: float,
) -> dict[int, TopicMatch]:
    """Papers announced since a date whose relevance to some topic clears the threshold."""
    per_paper: dict[int, dict[str, TopicHit]] = {}
    for topic in dict.fromkeys(topics):
        key = (topic, since, now.date().isoformat())
        hits = cache.get(key)
        if hits is None:
            hits = _topic_hits(scorer, topic, since, now, limit_per_topic)
            cache.put(key, hits)
        for hit in hits:
            if hit.relevance >= threshold and hit.relevance > 0:
                per_paper.setdefault(hit.paper_id, {})[topic] = hit
    out: dict[int, TopicMatch] = {}
    for pid, matched in per_paper.items():
        order = sorted(matched, key=lambda t: -matched[t].relevance)
        out[pid] = TopicMatch(
            score=matched[order[0]].relevance,
            topics=tuple(order),
            relevance={t: matched[t].relevance for t in order},
            by_meaning=tuple(t for t in order if matched[t].coverage < BY_MEANING_COVERAGE),
        )
    return out


def _topic_hits(
    scorer: Scorer, topic: str, since: date, now: datetime, limit: int
) -> list[TopicHit]:
    try:
        parsed = parse_query(topic, now=now)
    except QueryTooLong:
        return []
    parsed = replace(parsed, since=max(since, parsed.since) if parsed.since else since)
    if not (parsed.has_text or parsed.authors or parsed.categories):
        return []
    return scorer.topic_hits(parsed, limit=limit)


__all__ = ["BY_MEANING_COVERAGE", "Scorer", "TopicHit", "TopicMatch", "match_topics"]
