"""Pure scoring of papers: the trending score, the topic-match score and the one-line "why".

Every weight comes from ``settings.ranking`` (RankingSettings) and ``now`` is always a parameter.

    points   = upvote_weight·upvotes + comment_weight·comments + star_weight·github_stars
    growth   = upvote_weight·Δupvotes + comment_weight·Δcomments + star_weight·Δstars
               Δ = newest signal snapshot − the snapshot closest to growth_window_hours (24 h)
               before now (or the first one); negative deltas count as 0
    activity = ln(1 + points + growth_weight·growth)
    decay    = 0.5 ** (age_hours / half_life_hours)
               age from 00:00 UTC of the announcement day, or from first_seen_at when undated
    trending = (recency_weight + activity) · decay

    topic    = min(1, clamp(relevance, 0, 1) + extra_topic_bonus·(matched topics − 1))
    score    = trending · (1 + topic_weight·topic)        (the order of a digest)

The logarithm keeps one viral paper from burying everything for a week, the decay makes a day-old
paper need about 1.6x the activity of a new one to stay level (half-life 36 h), and
``recency_weight`` gives papers without any signals (arXiv, files) a score that is pure recency,
so a channel's topics still get papers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from paperbot.config import RankingSettings

MAX_TOPICS_SHOWN = 3


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


class SnapshotLike(Protocol):
    @property
    def observed_at(self) -> datetime: ...
    @property
    def upvotes(self) -> int: ...
    @property
    def comments(self) -> int: ...
    @property
    def github_stars(self) -> int: ...


@dataclass(frozen=True)
class Growth:
    upvotes: int = 0
    comments: int = 0
    github_stars: int = 0
    hours: float = 0.0


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


def activity(signals: Signals, weights: RankingSettings) -> float:
    points = (
        weights.upvote_weight * max(0, signals.upvotes)
        + weights.comment_weight * max(0, signals.comments)
        + weights.star_weight * max(0, signals.github_stars)
    )
    grown = (
        weights.upvote_weight * max(0, signals.upvotes_growth)
        + weights.comment_weight * max(0, signals.comments_growth)
        + weights.star_weight * max(0, signals.stars_growth)
    )
    return math.log1p(max(0.0, points + weights.growth_weight * grown))


def trending_score(signals: Signals, *, now: datetime, weights: RankingSettings) -> float:
    """How much a paper is trending at `now` (see the module docstring for the formula)."""
    base = weights.recency_weight + activity(signals, weights)
    return base * decay(age_hours(signals, now=now), weights.half_life_hours)


def topic_score(relevance: float, matched_topics: int, *, weights: RankingSettings) -> float:
    """How well a paper matches a channel's topics, 0..1 (0 for a channel without topics)."""
    if matched_topics <= 0:
        return 0.0
    base = min(1.0, max(0.0, relevance))
    return min(1.0, base + weights.extra_topic_bonus * (matched_topics - 1))


def digest_score(trending: float, topic: float, *, weights: RankingSettings) -> float:
    """The order of a digest: trending, boosted by how well the paper matches the topics."""
    return trending * (1.0 + weights.topic_weight * topic)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _span(hours: float) -> str:
    if hours >= 48:
        return f"{round(hours / 24)} d"
    return f"{max(1, round(hours))} h"


def _recency(signals: Signals, now: datetime) -> str:
    if signals.announced is not None:
        days = (now.astimezone(UTC).date() - signals.announced).days
        verb = "new"
    elif signals.first_seen_at is not None:
        days = (now - signals.first_seen_at).days
        verb = "added"
    else:
        return ""
    if days <= 0:
        return f"{verb} today"
    if days == 1:
        return f"{verb} yesterday"
    if days < 7:
        return f"{verb} {days} days ago"
    day = signals.announced or signals.first_seen_at
    assert day is not None
    return f"{verb} {day.day} {day:%b %Y}"


def why_line(signals: Signals, *, now: datetime, matched_topics: Sequence[str] = ()) -> str:
    """One line saying why a paper is shown.

    e.g. "38 upvotes in 24 h · 12 comments · ★ 120 · matches: diffusion", or, for a paper
    without signals, "new yesterday · matches: diffusion".
    """
    parts: list[str] = []
    if signals.upvotes_growth > 0 and signals.growth_hours > 0:
        parts.append(f"{_count(signals.upvotes_growth, 'upvote')} in {_span(signals.growth_hours)}")
    elif signals.upvotes > 0:
        parts.append(_count(signals.upvotes, "upvote"))
    if signals.comments > 0:
        parts.append(_count(signals.comments, "comment"))
    if signals.github_stars > 0:
        stars = f"★ {signals.github_stars:,}"
        if signals.stars_growth > 0:
            stars += f" (+{signals.stars_growth:,})"
        parts.append(stars)
    if not parts:
        recency = _recency(signals, now)
        if recency:
            parts.append(recency)
    if matched_topics:
        shown = list(matched_topics[:MAX_TOPICS_SHOWN])
        more = len(matched_topics) - len(shown)
        parts.append("matches: " + ", ".join(shown) + (f" +{more} more" if more > 0 else ""))
    return " · ".join(parts)
