"""The one line under each paper saying why it is shown: momentum, recency, matched topics.

The card's signal line shows each paper's totals (upvotes, comments, stars); this line adds only
what those totals do not say (how fast they grew, how new the paper is, which topics it matches),
so a reader sees every figure once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from paperbot.core.papers.ranking import Growth, Signals

MAX_TOPICS_SHOWN = 3
TOPIC_CHARS = 80
# A paper announced this long after its first publication is a revision or a re-listing: not "new".
NEW_WITHIN_DAYS = 7


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _span(hours: float) -> str:
    if hours >= 48:
        return f"{round(hours / 24)} d"
    return f"{max(1, round(hours))} h"


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def momentum(grown: Growth, totals: Signals) -> str:
    """e.g. "+38 upvotes, +4 comments in 24 h": growth that the totals alone do not show.

    A gain equal to the total is left out: the card already shows that figure.
    """
    if grown.hours <= 0:
        return ""
    pairs = (
        (grown.upvotes, totals.upvotes, "upvote"),
        (grown.comments, totals.comments, "comment"),
        (grown.github_stars, totals.github_stars, "star"),
    )
    bits = [f"+{_count(gain, word)}" for gain, total, word in pairs if 0 < gain < total]
    return f"{', '.join(bits)} in {_span(grown.hours)}" if bits else ""


def recency(signals: Signals, now: datetime) -> str:
    """How new the paper is: "new today" only for a paper first announced today."""
    today = now.astimezone(UTC).date()
    day = signals.announced if signals.dated else None
    if day is not None:
        if signals.published is not None and (day - signals.published).days > NEW_WITHIN_DAYS:
            return f"first published {_day(signals.published)}"
        month = signals.first_month
        if month is not None and (day - _month_end(month)).days > NEW_WITHIN_DAYS:
            # A feed lists revisions with the day of the revision; the id says when v1 came.
            return f"first published {month:%b %Y}"
        days = (today - day).days
        if days >= NEW_WITHIN_DAYS:
            return f"announced {_day(day)}"
        verb = "new"
    elif signals.first_seen_at is not None:
        day = signals.first_seen_at.astimezone(UTC).date()
        days = (today - day).days
        if days >= NEW_WITHIN_DAYS:
            return f"added {_day(day)}"
        verb = "added"
    else:
        return ""
    if days <= 0:
        return f"{verb} today"
    if days == 1:
        return f"{verb} yesterday"
    return f"{verb} {days} days ago"


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _topic(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= TOPIC_CHARS:
        return text
    return text[:TOPIC_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def _topics(label: str, topics: Sequence[str], room: int) -> tuple[str, int]:
    shown = [_topic(t) for t in topics[:room]]
    more = len(topics) - len(shown)
    text = label + ", ".join(shown) + (f" +{more} more" if more > 0 else "")
    return text, room - len(shown)


def why_line(
    signals: Signals,
    *,
    now: datetime,
    matched_topics: Sequence[str] = (),
    by_meaning: Sequence[str] = (),
    window_hours: float | None = None,
    liked: str | None = None,
) -> str:
    """One line saying why a paper is shown, e.g. "+38 upvotes in 24 h · new today · matches:
    diffusion", or "new yesterday · matches by meaning: robots that learn from videos".

    `matched_topics` are the channel's topics as the user wrote them, best first; those in
    `by_meaning` matched only by meaning. `window_hours` is set for long cadences, whose
    momentum is what the paper gained in the window instead of the last day's growth.
    `liked`: the title of the paper the channel liked that this one is closest to, when the
    channel's taste lifted it ("liked: ...").
    """
    if window_hours is not None:
        gained = signals.gained or Growth()
        grown = Growth(gained.upvotes, gained.comments, gained.github_stars, window_hours)
    else:
        grown = Growth(
            signals.upvotes_growth,
            signals.comments_growth,
            signals.stars_growth,
            signals.growth_hours,
        )
    parts = [momentum(grown, signals), recency(signals, now)]
    meaning = set(by_meaning)
    lexical = [t for t in matched_topics if t not in meaning]
    dense = [t for t in matched_topics if t in meaning]
    room = MAX_TOPICS_SHOWN
    if lexical:
        text, room = _topics("matches: ", lexical, room)
        parts.append(text)
    if dense:
        text, room = _topics("matches by meaning: ", dense, max(1, room))
        parts.append(text)
    if liked:
        parts.append("liked: " + _topic(liked))
    return " · ".join(p for p in parts if p)


__all__ = ["momentum", "recency", "why_line"]
