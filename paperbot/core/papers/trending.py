"""Trending from the store: the announcement window, signals with growth, the trending list."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, func, or_, select, union
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from paperbot.config import RankingSettings
from paperbot.core import db
from paperbot.core.cards import arxiv_month, has_source_date, to_card
from paperbot.core.digests.why import why_line
from paperbot.core.messages import PaperCard
from paperbot.core.models import Paper, SignalSnapshot
from paperbot.core.papers.ranking import Growth, Signals, growth, merge_growth, trending_score

# A literal IN list up to this size; beyond it the window is passed as a subquery.
MAX_LITERAL_IDS = 1000

PaperIds = Collection[int] | Select[int]


def today(now: datetime) -> date:
    return now.astimezone(UTC).date()


def in_window(since: date) -> ColumnElement[bool]:
    """Papers whose day (announced, else published, else first seen) is on or after `since`.

    The same day the search index filters on, so topic matches and the window agree.
    """
    start = datetime.combine(since, time(0, 0), tzinfo=UTC)
    return or_(
        Paper.announced >= since,
        and_(Paper.announced.is_(None), Paper.published >= since),
        and_(Paper.announced.is_(None), Paper.published.is_(None), Paper.first_seen_at >= start),
    )


def window_ids(since: date) -> Select[int]:
    return select(Paper.id).where(in_window(since))


def _id_filter(column: InstrumentedAttribute[int], ids: PaperIds) -> ColumnElement[bool]:
    if isinstance(ids, Select):
        return column.in_(ids)
    return column.in_(list(ids))


def newest_day(session: Session) -> date | None:
    """The newest paper day in the store (None for an empty store)."""
    announced = session.scalar(select(func.max(Paper.announced)))
    # Undated papers are rare (ingest fills announced); only look at them when needed.
    published = session.scalar(select(func.max(Paper.published)).where(Paper.announced.is_(None)))
    seen = session.scalar(
        select(func.max(Paper.first_seen_at)).where(
            Paper.announced.is_(None), Paper.published.is_(None)
        )
    )
    days = [d for d in (announced, published) if d is not None]
    if seen is not None:
        days.append(seen.astimezone(UTC).date() if isinstance(seen, datetime) else seen)
    return max(days) if days else None


def _picked(session: Session, picks: Subquery) -> Sequence[Any]:
    """The snapshots named by a (paper_id, source, at) subquery."""
    snap = SignalSnapshot
    return session.execute(
        select(
            snap.paper_id,
            snap.source,
            snap.observed_at,
            snap.upvotes,
            snap.comments,
            snap.github_stars,
        ).join(
            picks,
            and_(
                snap.paper_id == picks.c.paper_id,
                snap.source == picks.c.source,
                snap.observed_at == picks.c.at,
            ),
        )
    ).all()


def _growth_rows(
    session: Session, ids: PaperIds, *, now: datetime, window_hours: float
) -> dict[int, Growth]:
    """Per paper: newest snapshot vs the one closest to `window_hours` before now, set-based.

    Only three snapshots per (paper, source) can matter: the newest, the latest at or before the
    target instant and the earliest after it; SQL picks them, ranking.growth compares them.
    """
    target = now - timedelta(hours=window_hours)
    snap = SignalSnapshot
    key = (snap.paper_id, snap.source)
    of_papers = _id_filter(snap.paper_id, ids)
    picks = union(
        select(*key, func.max(snap.observed_at).label("at"))
        .where(of_papers, snap.observed_at <= now)
        .group_by(*key),
        select(*key, func.max(snap.observed_at).label("at"))
        .where(of_papers, snap.observed_at <= target)
        .group_by(*key),
        select(*key, func.min(snap.observed_at).label("at"))
        .where(of_papers, snap.observed_at > target, snap.observed_at <= now)
        .group_by(*key),
    ).subquery()
    rows = _picked(session, picks)
    grouped: dict[int, dict[str, dict[datetime, object]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        grouped[row.paper_id][row.source][row.observed_at] = row
    out: dict[int, Growth] = {}
    for paper_id, by_source in grouped.items():
        per_source = [
            growth(snaps.values(), now=now, window_hours=window_hours)  # type: ignore[arg-type]
            for snaps in by_source.values()
        ]
        out[paper_id] = merge_growth(per_source)
    return out


def _baseline_rows(session: Session, ids: PaperIds, *, at: datetime) -> dict[int, Growth]:
    """Per paper: each signal in its latest snapshot at or before `at` (largest over sources)."""
    snap = SignalSnapshot
    latest = (
        select(snap.paper_id, snap.source, func.max(snap.observed_at).label("at"))
        .where(_id_filter(snap.paper_id, ids), snap.observed_at <= at)
        .group_by(snap.paper_id, snap.source)
        .subquery()
    )
    out: dict[int, Growth] = {}
    for row in _picked(session, latest):
        prev = out.get(row.paper_id, Growth())
        out[row.paper_id] = Growth(
            max(prev.upvotes, row.upvotes or 0),
            max(prev.comments, row.comments or 0),
            max(prev.github_stars, row.github_stars or 0),
        )
    return out


def load_signals(
    session: Session,
    ids: PaperIds,
    *,
    now: datetime,
    weights: RankingSettings,
    window_start: datetime | None = None,
) -> dict[int, Signals]:
    """Signals of the given papers (ids or a window subquery) at `now`, in two queries.

    With `window_start` (long cadences) each paper also gets what it gained since then
    (one more query): its totals minus its latest snapshot at or before the start.
    """
    if not isinstance(ids, Select) and len(ids) > MAX_LITERAL_IDS:
        ids = select(Paper.id).where(Paper.id.in_(list(ids)))
    rows = session.execute(
        select(
            Paper.id,
            Paper.arxiv_id,
            Paper.announced,
            Paper.published,
            Paper.first_seen_at,
            Paper.sources,
            Paper.upvotes,
            Paper.comments,
            Paper.github_stars,
        ).where(_id_filter(Paper.id, ids))
    ).all()
    if not rows:
        return {}
    grown = _growth_rows(session, ids, now=now, window_hours=weights.growth_window_hours)
    before = _baseline_rows(session, ids, at=window_start) if window_start is not None else {}
    span = (now - window_start).total_seconds() / 3600 if window_start is not None else 0.0
    out: dict[int, Signals] = {}
    for row in rows:
        g = grown.get(row.id, Growth())
        totals = (row.upvotes or 0, row.comments or 0, row.github_stars or 0)
        gained = None
        if window_start is not None:
            base = before.get(row.id, Growth())
            gained = Growth(
                max(0, totals[0] - base.upvotes),
                max(0, totals[1] - base.comments),
                max(0, totals[2] - base.github_stars),
                span,
            )
        out[row.id] = Signals(
            upvotes=totals[0],
            comments=totals[1],
            github_stars=totals[2],
            upvotes_growth=g.upvotes,
            comments_growth=g.comments,
            stars_growth=g.github_stars,
            growth_hours=g.hours,
            announced=row.announced or row.published,
            first_seen_at=row.first_seen_at,
            published=row.published,
            dated=has_source_date(row.published, row.sources),
            first_month=arxiv_month(row.arxiv_id),
            gained=gained,
        )
    return out


def load_cards(session: Session, ids: Iterable[int]) -> dict[int, PaperCard]:
    """Cards (without why/score) for the given papers, in one query."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    papers = session.scalars(select(Paper).where(Paper.id.in_(wanted))).all()
    return {p.id: to_card(p) for p in papers}


def rank_trending(
    signals: Mapping[int, Signals], *, now: datetime, weights: RankingSettings
) -> list[tuple[int, float]]:
    """(paper id, trending score), best first; ties go to the newer paper, then the higher id."""
    scored = [(pid, trending_score(s, now=now, weights=weights)) for pid, s in signals.items()]
    scored.sort(key=lambda item: (item[1], _day_ordinal(signals[item[0]]), item[0]), reverse=True)
    return scored


def _day_ordinal(signals: Signals) -> int:
    if signals.announced is not None:
        return signals.announced.toordinal()
    if signals.first_seen_at is not None:
        return signals.first_seen_at.date().toordinal()
    return 0


def trending_papers(
    session_factory: sessionmaker[Session],
    *,
    now: datetime,
    weights: RankingSettings,
    lookback_days: int,
    limit: int = 10,
    since_days: int | None = None,
) -> list[PaperCard]:
    """What is trending now: papers of the last `since_days` (default `lookback_days`, the
    digest's).

    When nothing is that recent (a store seeded from older sample data), the newest papers
    the store has are ranked instead, so the answer is never empty while papers exist.
    """
    days = since_days if since_days is not None else lookback_days
    since = today(now) - timedelta(days=max(0, days))
    with db.snapshot(session_factory) as session:
        signals = load_signals(session, window_ids(since), now=now, weights=weights)
        if not signals:
            newest = newest_day(session)
            if newest is None:
                return []
            since = newest - timedelta(days=lookback_days)
            signals = load_signals(session, window_ids(since), now=now, weights=weights)
        ranked = rank_trending(signals, now=now, weights=weights)[: max(0, limit)]
        cards = load_cards(session, (pid for pid, _ in ranked))
    return [
        dataclasses.replace(
            cards[pid], why=why_line(signals[pid], now=now), score=float(f"{score:.4g}")
        )
        for pid, score in ranked
        if pid in cards
    ]
