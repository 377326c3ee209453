"""A channel's digest at one instant: candidates, topic and never-posted filters, ranking, notes."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from paperbot.config import Settings
from paperbot.core import schedule
from paperbot.core.messages import ChannelRef, Digest, PaperCard
from paperbot.core.models import Channel, Delivery, Paper, PostedPaper, SourceState
from paperbot.core.ranking import Signals, digest_score, topic_score, trending_score, why_line
from paperbot.core.trending import (
    in_window,
    load_cards,
    load_signals,
    newest_day,
    today,
    trending_papers,
    window_ids,
)

SOURCE_NAMES = {"hf": "Hugging Face", "arxiv": "arXiv", "file": "files"}
# A source without a success for this long makes the digest "partial".
STALE_AFTER = timedelta(days=1)
LIMIT_PER_TOPIC = 200
T = TypeVar("T")


class TopicMatchLike(Protocol):
    @property
    def score(self) -> float: ...
    @property
    def topics(self) -> tuple[str, ...]: ...


class TopicMatcher(Protocol):
    """What digests need from the search index (paperbot.core.search.SearchIndex)."""

    def match_topics(
        self, topics: Sequence[str], *, since: date, now: datetime, limit_per_topic: int = ...
    ) -> Mapping[int, TopicMatchLike]: ...


class DigestCache:
    """Work shared by the digests of one tick (one `now`): window signals, cards, source health.

    Pass one to build_digest for every channel of a fan-out; without one each digest loads only
    what it needs. Entries are keyed by `now`, and a call with another `now` drops the old ones,
    so one long-lived cache serves tick after tick. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now: datetime | None = None
        self._memo: dict[tuple[Any, ...], Any] = {}

    def _get(self, now: datetime, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        full = (now, *key)
        with self._lock:
            if self._now != now:
                self._now, self._memo = now, {}
            if full in self._memo:
                return cast(T, self._memo[full])
        value = compute()
        with self._lock:
            if self._now == now:
                self._memo[full] = value
        return value

    def window(
        self, session: Session, since: date, now: datetime, settings: Settings
    ) -> dict[int, Signals]:
        weights = settings.ranking
        return self._get(
            now,
            ("window", since, tuple(weights.model_dump().values())),
            lambda: load_signals(session, window_ids(since), now=now, weights=weights),
        )

    def cards(self, session: Session, ids: Sequence[int], now: datetime) -> dict[int, PaperCard]:
        with self._lock:
            known = {pid: self._memo.get((now, "card", pid)) for pid in ids}
        missing = [pid for pid, card in known.items() if card is None]
        if missing:
            loaded = load_cards(session, missing)
            with self._lock:
                if self._now == now:
                    self._memo.update({(now, "card", pid): card for pid, card in loaded.items()})
            known.update(loaded)
        return {pid: card for pid, card in known.items() if card is not None}

    def partial(self, session: Session, now: datetime, sources: Collection[str]) -> tuple[str, ...]:
        return self._get(
            now,
            ("partial", tuple(sources)),
            lambda: partial_sources(session, now, sources=sources),
        )

    def newest(self, session: Session, now: datetime) -> date | None:
        return self._get(now, ("newest",), lambda: newest_day(session))


def partial_sources(
    session: Session, now: datetime, *, sources: Collection[str] | None = None
) -> tuple[str, ...]:
    """Display names of sources whose last run failed or that have not succeeded for a day.

    `sources` limits the check to the sources in use (default: every source with a state row).
    """
    stmt = select(SourceState)
    if sources is not None:
        stmt = stmt.where(SourceState.source.in_(list(sources)))
    out: list[str] = []
    for state in session.scalars(stmt.order_by(SourceState.source)):
        ok, failed = state.last_success_at, state.last_error_at
        if ok is None and failed is None:
            continue
        if (failed is not None and (ok is None or failed > ok)) or (
            ok is not None and now - ok > STALE_AFTER
        ):
            out.append(SOURCE_NAMES.get(state.source, state.source))
    return tuple(out)


def enabled_sources(settings: Settings) -> tuple[str, ...]:
    """The scheduled sources whose health a digest reports (files are ingested on demand)."""
    names = []
    if settings.hf.enabled:
        names.append("hf")
    if settings.arxiv.enabled:
        names.append("arxiv")
    return tuple(names)


def _zone(channel: Channel) -> ZoneInfo:
    try:
        return ZoneInfo(channel.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def digest_title(channel: Channel, now: datetime) -> str:
    local = now.astimezone(_zone(channel))
    return f"Your paper digest · {local:%a} {local.day} {local:%b %Y}"


def _schedule_gap(channel: Channel, now: datetime) -> int:
    """Days since the channel's previous scheduled weekday (1 daily, 3 on Monday for weekdays)."""
    local = now.astimezone(_zone(channel)).date()
    try:
        for back in range(1, 8):
            if schedule.slot_on(channel, local - timedelta(days=back)) is not None:
                return back
    except (ValueError, KeyError):
        pass
    return 1


def lookback_days(channel: Channel, now: datetime, settings: Settings, missed_slots: int) -> int:
    """The window in days: the configured lookback, at least the gap since the previous
    scheduled day (weekly channels see the whole week), plus one day per missed slot, capped."""
    cfg = settings.digest
    days = max(cfg.lookback_days, _schedule_gap(channel, now)) + max(0, missed_slots)
    return max(1, min(days, max(cfg.max_lookback_days, cfg.lookback_days)))


def has_received_digest(session: Session, channel_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                or_(
                    exists().where(PostedPaper.channel_id == channel_id),
                    exists().where(Delivery.channel_id == channel_id, Delivery.status == "sent"),
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
class _Candidate:
    paper_id: int
    score: float
    why: str


def _candidates(
    session: Session,
    index: TopicMatcher,
    channel: Channel,
    topics: Sequence[str],
    since: date,
    *,
    now: datetime,
    settings: Settings,
    cache: DigestCache | None,
) -> list[_Candidate]:
    """The window's never-posted candidates for the channel, best first."""
    weights = settings.ranking
    if topics:
        matches = index.match_topics(topics, since=since, now=now, limit_per_topic=LIMIT_PER_TOPIC)
        if cache is not None:
            window = cache.window(session, since, now, settings)
            signals = {pid: window[pid] for pid in matches if pid in window}
        else:
            signals = load_signals(session, list(matches), now=now, weights=weights)
        posted = _posted(session, channel.id, list(signals), since)
    else:
        matches = {}
        if cache is not None:
            signals = cache.window(session, since, now, settings)
        else:
            signals = load_signals(session, window_ids(since), now=now, weights=weights)
        posted = _posted(session, channel.id, None, since)
    out: list[_Candidate] = []
    for pid, sig in signals.items():
        if pid in posted:
            continue
        match = matches.get(pid)
        matched = tuple(match.topics) if match is not None else ()
        topic = topic_score(match.score, len(matched), weights=weights) if match else 0.0
        trending = trending_score(sig, now=now, weights=weights)
        score = digest_score(trending, topic, weights=weights)
        out.append(_Candidate(pid, score, why_line(sig, now=now, matched_topics=matched)))
    day = {pid: (s.announced or date.min).toordinal() for pid, s in signals.items()}
    out.sort(key=lambda c: (c.score, day[c.paper_id], c.paper_id), reverse=True)
    return out


def build_digest(
    session: Session,
    index: TopicMatcher,
    channel: Channel,
    *,
    now: datetime,
    settings: Settings,
    missed_slots: int = 0,
    cache: DigestCache | None = None,
) -> Digest:
    """The channel's digest at `now`: papers of the lookback window it never got, matching any
    of its topics (every paper when it has none), ranked and cut to its size.

    A channel that never received a digest, in a store whose newest papers are older than the
    window (first run on sample data), gets the newest papers instead. Otherwise a quiet day
    gives an empty digest (the delivery skips it unless the channel set post_empty).
    """
    topics = [s.topic for s in channel.subscriptions]
    span = lookback_days(channel, now, settings, missed_slots)
    since = today(now) - timedelta(days=span)
    ranked = _candidates(
        session, index, channel, topics, since, now=now, settings=settings, cache=cache
    )
    if not ranked:
        newest = cache.newest(session, now) if cache else newest_day(session)
        # Only when the store itself is older than the window (first run on sample data) and
        # only for a channel's first digest: a quiet weekend must not repost old news.
        if newest is not None and newest < since and not has_received_digest(session, channel.id):
            since = newest - timedelta(days=settings.digest.lookback_days)
            ranked = _candidates(
                session, index, channel, topics, since, now=now, settings=settings, cache=cache
            )
    size = max(1, min(channel.size or settings.digest.default_size, settings.digest.max_size))
    chosen = ranked[:size]
    ids = [c.paper_id for c in chosen]
    cards = cache.cards(session, ids, now) if cache else load_cards(session, ids)
    papers = tuple(
        dataclasses.replace(cards[c.paper_id], why=c.why, score=float(f"{c.score:.4g}"))
        for c in chosen
        if c.paper_id in cards
    )
    sources = enabled_sources(settings)
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
    "build_digest",
    "digest_title",
    "has_received_digest",
    "lookback_days",
    "partial_sources",
    "trending_papers",
]
