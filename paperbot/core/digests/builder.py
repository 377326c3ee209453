"""A channel's digest at one instant: candidates, topic and never-posted filters, ranking by
cadence, each topic's share, notes."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from paperbot.config import DigestSettings, RankingSettings
from paperbot.core.channels import schedule
from paperbot.core.channels.zones import zone_or_utc
from paperbot.core.digests.cache import CardBook, DigestCache
from paperbot.core.digests.request import DigestConfig, DigestRequest
from paperbot.core.digests.selection import (
    Candidate,
    DuplicateCheck,
    VectorMemo,
    choose,
    vector_similarity,
)
from paperbot.core.digests.why import why_line
from paperbot.core.engage.rerank import lift as taste_lift
from paperbot.core.messages import ChannelRef, Digest, PaperCard
from paperbot.core.models import Channel, Delivery, Paper, PostedPaper
from paperbot.core.papers.ranking import Signals, cadence_score, digest_score, topic_score
from paperbot.core.papers.source_health import partial_sources
from paperbot.core.papers.trending import (
    in_window,
    load_signals,
    newest_day,
    today,
    trending_papers,
    window_ids,
)

LIMIT_PER_TOPIC = 200
# A gap of this many days since the previous scheduled day ranks the window by what happened in
# it (ranking.window_score) instead of by the 36 h decay.
LONG_CADENCE_DAYS = 3


class TopicMatchLike(Protocol):
    """What digests read from a topic match (paperbot.core.search.TopicMatch)."""

    @property
    def score(self) -> float: ...
    @property
    def topics(self) -> tuple[str, ...]: ...
    @property
    def relevance(self) -> Mapping[str, float]: ...
    @property
    def by_meaning(self) -> tuple[str, ...]: ...


def matched_topics(match: TopicMatchLike) -> tuple[str, ...]:
    """The match's topics that scored something: a relevance of 0 is no match (the matcher's
    contract says so; this keeps one that breaks it from filling digests with noise)."""
    if match.score <= 0:
        return ()
    return tuple(t for t in match.topics if match.relevance.get(t, match.score) > 0)


class TopicMatcher(Protocol):
    """What digests need from the search index (paperbot.core.search.SearchIndex)."""

    def match_topics(
        self, topics: Sequence[str], *, since: date, now: datetime, limit_per_topic: int = ...
    ) -> Mapping[int, TopicMatchLike]: ...


@runtime_checkable
class VectorSource(Protocol):
    """A matcher that also knows papers' embeddings (HybridSearch): near-duplicates by meaning."""

    def paper_vectors(self, paper_ids: Sequence[int]) -> Mapping[int, Any]: ...


def digest_title(channel: Channel, now: datetime) -> str:
    local = now.astimezone(zone_or_utc(channel.timezone))
    return f"Your paper digest · {local:%a} {local.day} {local:%b %Y}"


def preview_slot(channel: Channel, now: datetime) -> str:
    """The slot a digest built at `now` stands for: today's (local), else the next one's."""
    local = now.astimezone(zone_or_utc(channel.timezone)).date()
    try:
        slot = schedule.slot_on(channel, local)
        if slot is not None:
            return slot.key
        zone = zone_or_utc(channel.timezone)
        return schedule.next_run(channel, now).astimezone(zone).date().isoformat()
    except (ValueError, KeyError):
        return local.isoformat()


def _schedule_gap(channel: Channel, now: datetime) -> int:
    """Days since the channel's previous scheduled weekday (1 daily, 3 on Monday for weekdays)."""
    local = now.astimezone(zone_or_utc(channel.timezone)).date()
    try:
        for back in range(1, 8):
            if schedule.slot_on(channel, local - timedelta(days=back)) is not None:
                return back
    except (ValueError, KeyError):
        pass
    return 1


def lookback_days(channel: Channel, now: datetime, cfg: DigestSettings, missed_slots: int) -> int:
    """The window in days: the configured lookback, at least the gap since the previous
    scheduled day (weekly channels see the whole week), plus one day per missed slot, capped."""
    days = max(cfg.lookback_days, _schedule_gap(channel, now)) + max(0, missed_slots)
    return max(1, min(days, max(cfg.max_lookback_days, cfg.lookback_days)))


def has_received_digest(session: Session, channel_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                or_(
                    exists().where(PostedPaper.channel_id == channel_id),
                    exists().where(
                        Delivery.channel_id == channel_id,
                        Delivery.status == "sent",
                        Delivery.kind == "digest",
                    ),
                )
            )
        )
    )


def _posted(
    session: Session, channel_id: int, ids: Collection[int] | None, since: date
) -> set[int]:
    """The candidates this channel already got (ids None: every paper of the window)."""
    stmt = select(PostedPaper.paper_id).where(PostedPaper.channel_id == channel_id)
    if ids is None:
        stmt = stmt.join(Paper, Paper.id == PostedPaper.paper_id).where(in_window(since))
    else:
        if not ids:
            return set()
        stmt = stmt.where(PostedPaper.paper_id.in_(list(ids)))
    return set(session.scalars(stmt))


@dataclasses.dataclass(frozen=True)
class _Ranking:
    """How one digest ranks its window: the window itself, and the mode of its cadence."""

    since: date
    now: datetime
    # Set for long cadences: the window's first instant (what happened since then counts).
    window_start: datetime | None = None

    @property
    def window_hours(self) -> float | None:
        if self.window_start is None:
            return None
        return (self.now - self.window_start).total_seconds() / 3600


@dataclasses.dataclass(frozen=True)
class _Pool:
    """The window's never-posted candidates, best first, with what ranked and matched them."""

    ranked: list[Candidate]
    signals: Mapping[int, Signals]
    matches: Mapping[int, TopicMatchLike]
    # Papers the channel's taste lifted -> the title of the liked paper each is closest to.
    liked: Mapping[int, str] = dataclasses.field(default_factory=dict)


def _ranking(channel: Channel, since: date, now: datetime) -> _Ranking:
    if _schedule_gap(channel, now) < LONG_CADENCE_DAYS:
        return _Ranking(since, now)
    return _Ranking(since, now, datetime.combine(since, time(0, 0), tzinfo=UTC))


def _candidates(
    session: Session,
    index: TopicMatcher,
    channel: Channel,
    topics: Sequence[str],
    mode: _Ranking,
    *,
    weights: RankingSettings,
    cache: DigestCache | None,
) -> _Pool:
    """The window's never-posted candidates for the channel, best first."""
    since, now, start = mode.since, mode.now, mode.window_start
    matches: Mapping[int, TopicMatchLike] = {}
    labels: dict[int, tuple[str, ...]] = {}
    scores: Mapping[int, float] = {}
    if cache is not None:
        scores = cache.scores(session, since, now, weights, start)
    if topics:
        found = index.match_topics(topics, since=since, now=now, limit_per_topic=LIMIT_PER_TOPIC)
        labels = {pid: shown for pid, m in found.items() if (shown := matched_topics(m))}
        matches = {pid: found[pid] for pid in labels}
        if cache is not None:
            window = cache.window(session, since, now, weights, start)
            signals = {pid: window[pid] for pid in matches if pid in window}
        else:
            signals = load_signals(
                session, list(matches), now=now, weights=weights, window_start=start
            )
        posted = _posted(session, channel.id, list(signals), since)
    else:
        if cache is not None:
            signals = cache.window(session, since, now, weights, start)
        else:
            signals = load_signals(
                session, window_ids(since), now=now, weights=weights, window_start=start
            )
        posted = _posted(session, channel.id, None, since)
    hours = mode.window_hours
    out: list[Candidate] = []
    for pid, sig in signals.items():
        if pid in posted:
            continue
        match = matches.get(pid)
        matched = labels.get(pid, ())
        topic = topic_score(match.score, len(matched), weights=weights) if match else 0.0
        base = scores.get(pid)
        if base is None:
            base = cadence_score(sig, now=now, weights=weights, window_hours=hours)
        out.append(Candidate(pid, digest_score(base, topic, weights=weights), matched))
    day = {pid: (s.announced or date.min).toordinal() for pid, s in signals.items()}
    out.sort(key=lambda c: (c.score, day[c.paper_id], c.paper_id), reverse=True)
    return _Pool(out, signals, matches)


def _paper(card: PaperCard, candidate: Candidate, pool: _Pool, mode: _Ranking) -> PaperCard:
    match = pool.matches.get(candidate.paper_id)
    why = why_line(
        pool.signals[candidate.paper_id],
        now=mode.now,
        matched_topics=candidate.topics,
        by_meaning=tuple(match.by_meaning) if match is not None else (),
        window_hours=mode.window_hours,
        liked=pool.liked.get(candidate.paper_id),
    )
    score = float(f"{candidate.score:.4g}")
    return dataclasses.replace(card, why=why, score=score, topics=candidate.topics)


def build_digest(
    session: Session,
    index: TopicMatcher,
    channel: Channel,
    config: DigestConfig,
    request: DigestRequest,
) -> Digest:
    """The channel's digest at `now`: papers of the lookback window it never got, matching any
    of its topics (every paper when it has none), ranked, each topic given its share of the
    slots, near-duplicates left out (by title; by embedding too with vectors), cut to size.

    In a store whose newest papers are older than the window (first run on sample data, or
    sources unreachable for days), a channel's first digest, and one a person asks for
    (`/papers digest`, say after subscribing to a topic), get the store's newest papers
    instead, never one posted here before. Otherwise a quiet day gives an empty digest (the
    delivery skips it unless the channel set post_empty).
    """
    now, missed_slots, cache = request.now, request.missed_slots, request.cache
    cfg, weights = config.digest, config.ranking
    topics = [s.topic for s in channel.subscriptions]
    span = lookback_days(channel, now, cfg, missed_slots)
    mode = _ranking(channel, today(now) - timedelta(days=span), now)
    pool = _candidates(session, index, channel, topics, mode, weights=weights, cache=cache)
    if not pool.ranked:
        newest = cache.newest(session, now) if cache else newest_day(session)
        # Only when the store itself is older than the window, and only for a channel's first
        # digest or one a person asked for: a scheduled digest must not repost old news.
        if (
            newest is not None
            and newest < mode.since
            and (request.manual or not has_received_digest(session, channel.id))
        ):
            mode = _ranking(channel, newest - timedelta(days=cfg.lookback_days), now)
            pool = _candidates(session, index, channel, topics, mode, weights=weights, cache=cache)
    # --- engagement: the channel's taste re-ranks (a channel without feedback: untouched)
    vectors_of = VectorMemo(index.paper_vectors) if isinstance(index, VectorSource) else None
    lifted = taste_lift(
        session, channel.id, pool.ranked, vectors_of, now=now, settings=config.engage
    )
    if lifted is not None:
        pool = dataclasses.replace(pool, ranked=lifted.ranked, liked=lifted.liked)
    size = max(1, min(channel.size or cfg.default_size, cfg.max_size))
    cards = CardBook(session, pool.ranked, now, cache, chunk=2 * size)
    similarity = None
    if vectors_of is not None:
        # The candidates a digest of this size can reach, in one lookup.
        ids = [c.paper_id for c in pool.ranked[: 4 * size + 4 * len(topics)]]
        similarity = vector_similarity(vectors_of(ids))
    chosen = choose(
        pool.ranked,
        topics,
        size,
        duplicates=DuplicateCheck(cards.title, similarity=similarity),
        share=cfg.topic_share,
    )
    papers = tuple(
        _paper(card, c, pool, mode) for c in chosen if (card := cards.get(c.paper_id)) is not None
    )
    sources = config.sources
    partial = (
        cache.partial(session, now, sources)
        if cache
        else partial_sources(session, now, sources=sources)
    )
    return Digest(
        channel=ChannelRef(channel.platform, channel.workspace, channel.channel),
        title=digest_title(channel, now),
        papers=papers,
        generated_at=now,
        missed_slots=max(0, missed_slots),
        partial_sources=partial,
        topics=tuple(topics),
    )


__all__ = [
    "DigestCache",
    "DigestConfig",
    "DigestRequest",
    "build_digest",
    "digest_title",
    "has_received_digest",
    "lookback_days",
    "partial_sources",
    "preview_slot",
    "trending_papers",
]
