"""Pure scoring of papers: the trending score, the window score of long cadences, topic score.

Every weight comes from ``settings.ranking`` (RankingSettings) and ``now`` is always a parameter.

Daily and weekday channels (gap since the previous scheduled day < 3 days) rank by trending:

    points   = upvote_weight·upvotes + comment_weight·comments + star_weight·github_stars
    growth   = upvote_weight·Δupvotes + comment_weight·Δcomments + star_weight·Δstars
               Δ = newest signal snapshot − the snapshot closest to growth_window_hours (24 h)
               before now (or the first one); negative deltas count as 0
    activity = ln(1 + points + growth_weight·growth)
    decay    = 0.5 ** (age_hours / half_life_hours)
               age from 00:00 UTC of the announcement day, or from first_seen_at when undated
    trending = (recency_weight + activity) · decay

Channels whose gap is 3 days or more (weekly, mon+thu, a weekdays channel on Monday) rank their
window by what happened in it, without the 36 h decay:

    gained   = each signal's total − its value in the latest snapshot at or before the window
               start (00:00 UTC of the window's first day); 0 when first seen inside the window
    in_window = upvote_weight·gained upvotes + comment_weight·gained comments
               + star_weight·gained stars
    freshness = 0.5 ** (age_hours / window_hours)        (0.5 for a paper as old as the window)
    window   = sqrt(in_window) + recency_weight·freshness

Both are then boosted by the topic match:

    topic    = min(1, clamp(relevance, 0, 1) + extra_topic_bonus·(matched topics − 1))
    score    = trending (or window) · (1 + topic_weight·topic)        (the order of a digest)

The logarithm keeps one viral paper from burying everything for a week, the decay makes a day-old
paper need about 1.6x the activity of a new one to stay level (half-life 36 h), and
``recency_weight`` gives papers without any signals (arXiv, files) a score that is pure recency,
so a channel's topics still get papers. Over a long window the period's most upvoted paper should
lead, so there is no decay and a gentler compression: the square root keeps a paper with 4x the
votes about 2x ahead, more than a better topic match usually adds (a weak match at relevance 0.3
against a perfect one is 1.3 against 2), while freshness (at most recency_weight, one upvote's
worth) orders papers of similar activity newest first and ranks papers without signals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from paperbot.config import RankingSettings


@dataclass(frozen=True)
class Growth:
    """How much each signal grew over `hours`."""

    upvotes: int = 0
    comments: int = 0
    github_stars: int = 0
    hours: float = 0.0


@dataclass(frozen=True)
class Signals:
    """What the ranking knows about one paper at one instant."""

    upvotes: int = 0
    comments: int = 0
    github_stars: int = 0
    upvotes_growth: int = 0
    comments_growth: int = 0
    stars_growth: int = 0
    # Span the growth was measured over; 0 when there were fewer than two snapshots.
    growth_hours: float = 0.0
    announced: date | None = None
    first_seen_at: datetime | None = None
    published: date | None = None
    # False when `announced` is only the day paperbot first stored the paper (an undated file).
    dated: bool = True
    # The month of the first version, from the arXiv id (2606.12345: June 2026), first day.
    first_month: date | None = None
    # What each signal gained inside a long cadence's window (None: not measured).
    gained: Growth | None = None


class SnapshotLike(Protocol):
    @property
    def observed_at(self) -> datetime: ...
    @property
    def upvotes(self) -> int: ...
    @property
    def comments(self) -> int: ...
    @property
    def github_stars(self) -> int: ...


def growth(snapshots: Iterable[SnapshotLike], *, now: datetime, window_hours: float) -> Growth:
    """Newest snapshot minus the one closest to `window_hours` before now (or the first one).

    Snapshots observed after `now` are ignored, so a digest rebuilt for an earlier instant
    gives the same answer.
    """
    seen = sorted((s for s in snapshots if s.observed_at <= now), key=lambda s: s.observed_at)
    if len(seen) < 2:
        return Growth()
    newest = seen[-1]
    target = now - timedelta(hours=window_hours)
    base = min(seen[:-1], key=lambda s: abs((s.observed_at - target).total_seconds()))
    return Growth(
        upvotes=(newest.upvotes or 0) - (base.upvotes or 0),
        comments=(newest.comments or 0) - (base.comments or 0),
        github_stars=(newest.github_stars or 0) - (base.github_stars or 0),
        hours=(newest.observed_at - base.observed_at).total_seconds() / 3600,
    )


def merge_growth(per_source: Iterable[Growth]) -> Growth:
    """One paper's growth across sources: the largest delta of each signal (no double counting)."""
    items = list(per_source)
    if not items:
        return Growth()
    best = max(items, key=lambda g: (g.upvotes, g.hours))
    return Growth(
        upvotes=best.upvotes,
        comments=max(g.comments for g in items),
        github_stars=max(g.github_stars for g in items),
        hours=best.hours if best.upvotes > 0 else max(g.hours for g in items),
    )


def reference_time(signals: Signals) -> datetime | None:
    """The instant a paper's age is counted from."""
    if signals.announced is not None:
        return datetime.combine(signals.announced, time(0, 0), tzinfo=UTC)
    return signals.first_seen_at


def age_hours(signals: Signals, *, now: datetime) -> float:
    ref = reference_time(signals)
    if ref is None:
        return 0.0
    return max(0.0, (now - ref).total_seconds() / 3600)


def decay(hours: float, half_life_hours: float) -> float:
    """0.5 at one half-life, 0.25 at two, ...; 1.0 for age 0."""
    return 0.5 ** (max(0.0, hours) / half_life_hours)


def points(upvotes: int, comments: int, stars: int, weights: RankingSettings) -> float:
    """The weighted sum of three signals (negative values count 0)."""
    return (
        weights.upvote_weight * max(0, upvotes)
        + weights.comment_weight * max(0, comments)
        + weights.star_weight * max(0, stars)
    )


def activity(signals: Signals, weights: RankingSettings) -> float:
    total = points(signals.upvotes, signals.comments, signals.github_stars, weights)
    grown = points(signals.upvotes_growth, signals.comments_growth, signals.stars_growth, weights)
    return math.log1p(max(0.0, total + weights.growth_weight * grown))


def trending_score(signals: Signals, *, now: datetime, weights: RankingSettings) -> float:
    """How much a paper is trending at `now` (see the module docstring for the formula)."""
    base = weights.recency_weight + activity(signals, weights)
    return base * decay(age_hours(signals, now=now), weights.half_life_hours)


def gained_in_window(signals: Signals) -> Growth:
    """What the paper earned inside the window (its totals when that was not measured)."""
    if signals.gained is not None:
        return signals.gained
    return Growth(signals.upvotes, signals.comments, signals.github_stars)


def window_score(
    signals: Signals, *, now: datetime, window_hours: float, weights: RankingSettings
) -> float:
    """A long cadence's score: what happened in the window, freshness only as a tie-break."""
    g = gained_in_window(signals)
    earned = points(g.upvotes, g.comments, g.github_stars, weights)
    freshness = decay(age_hours(signals, now=now), max(1.0, window_hours))
    return math.sqrt(earned) + weights.recency_weight * freshness


def cadence_score(
    signals: Signals, *, now: datetime, weights: RankingSettings, window_hours: float | None = None
) -> float:
    """The score before topics: trending, or for a long cadence (window_hours set) the window's."""
    if window_hours is None:
        return trending_score(signals, now=now, weights=weights)
    return window_score(signals, now=now, window_hours=window_hours, weights=weights)


def topic_score(relevance: float, matched_topics: int, *, weights: RankingSettings) -> float:
    """How well a paper matches a channel's topics, 0..1 (0 for a channel without topics)."""
    if matched_topics <= 0:
        return 0.0
    base = min(1.0, max(0.0, relevance))
    return min(1.0, base + weights.extra_topic_bonus * (matched_topics - 1))


def digest_score(trending: float, topic: float, *, weights: RankingSettings) -> float:
    """The order of a digest: trending, boosted by how well the paper matches the topics."""
    return trending * (1.0 + weights.topic_weight * topic)
