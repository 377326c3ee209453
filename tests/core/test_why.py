"""The "why" line: momentum the card's totals do not show, honest recency, topics as written."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from paperbot.core.digests.why import why_line
from paperbot.core.messages import PaperCard
from paperbot.core.papers.ranking import Growth, Signals

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


def card_of(sig: Signals) -> PaperCard:
    return PaperCard(
        key="k",
        title="t",
        url="u",
        upvotes=sig.upvotes,
        comments=sig.comments,
        github_stars=sig.github_stars,
    )


def test_growth_is_shown_beside_the_totals_never_the_totals_again() -> None:
    sig = Signals(
        upvotes=48,
        comments=12,
        github_stars=120,
        upvotes_growth=38,
        comments_growth=4,
        stars_growth=40,
        growth_hours=24,
        announced=TODAY,
        published=TODAY,
    )
    line = why_line(sig, now=NOW, matched_topics=["diffusion"])
    assert line == ("+38 upvotes, +4 comments, +40 stars in 24 h · new today · matches: diffusion")
    # What a reader sees for this paper: the card's signals, then the why line.
    seen = " · ".join(card_of(sig).signals()) + " · " + line
    for figure in ("48", "12", "120"):
        assert len(re.findall(rf"\b{figure}\b", seen)) == 1, seen


def test_totals_alone_stay_on_the_card() -> None:
    sig = Signals(upvotes=38, comments=12, github_stars=1500, announced=TODAY)
    assert why_line(sig, now=NOW, matched_topics=["diffusion"]) == "new today · matches: diffusion"
    # Growth equal to the total says nothing the card does not.
    first_day = Signals(upvotes=9, upvotes_growth=9, growth_hours=20, announced=TODAY)
    assert why_line(first_day, now=NOW) == "new today"


def test_new_today_only_for_papers_announced_today() -> None:
    def line(**kw: object) -> str:
        return why_line(Signals(**kw), now=NOW)  # type: ignore[arg-type]

    assert line(announced=TODAY, published=TODAY - timedelta(days=1)) == "new today"
    assert line(announced=TODAY - timedelta(days=1)) == "new yesterday"
    assert line(announced=TODAY - timedelta(days=3)) == "new 3 days ago"
    assert line(announced=date(2026, 6, 12)) == "announced 12 Jun 2026"
    # A 2019 paper listed again today (an arXiv revision, or an old paper on HF) is not new.
    assert line(announced=TODAY, published=date(2019, 3, 4)) == "first published 4 Mar 2019"
    # An arXiv feed lists a revision with the revision's day; its id says when v1 came out.
    revision = Signals(announced=TODAY, published=TODAY, first_month=date(2019, 5, 1))
    assert why_line(revision, now=NOW) == "first published May 2019"
    this_month = Signals(announced=TODAY, published=TODAY, first_month=date(2026, 11, 1))
    assert why_line(this_month, now=NOW) == "new today"
    # Submitted on the last day of a month, announced two days later: still new.
    early = datetime(2026, 12, 2, 9, tzinfo=UTC)
    turn = Signals(announced=early.date(), first_month=date(2026, 11, 1))
    assert why_line(turn, now=early) == "new today"
    # A paper from an undated file: all paperbot knows is when it stored it.
    undated = NOW - timedelta(hours=2)
    assert line(announced=TODAY, first_seen_at=undated, dated=False) == "added today"
    stored = datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert line(announced=stored.date(), first_seen_at=stored, dated=False) == "added 20 Nov 2026"
    assert line() == ""


def test_topics_as_written_and_by_meaning_apart() -> None:
    topic = "teaching an image generator a user's specific object from a few photos"
    sig = Signals(announced=TODAY - timedelta(days=1))
    line = why_line(sig, now=NOW, matched_topics=["diffusion", topic], by_meaning=[topic])
    assert line == (
        "new yesterday · matches: diffusion · matches by meaning: teaching an image generator"
        " a user's specific object from a few photos"
    )
    rambling = topic + " taken with a phone camera in poor light"
    clipped = why_line(sig, now=NOW, matched_topics=[rambling], by_meaning=[rambling])
    assert clipped.endswith("from a few photos taken…")
    only_meaning = why_line(
        sig,
        now=NOW,
        matched_topics=["robots that learn from videos"],
        by_meaning=["robots that learn from videos"],
    )
    assert only_meaning == "new yesterday · matches by meaning: robots that learn from videos"


def test_many_topics_are_shortened() -> None:
    line = why_line(Signals(announced=TODAY), now=NOW, matched_topics=["a", "b", "c", "d", "e"])
    assert line.endswith("matches: a, b, c +2 more")
    mixed = why_line(
        Signals(announced=TODAY), now=NOW, matched_topics=["a", "b", "c", "d"], by_meaning=["d"]
    )
    assert mixed.endswith("matches: a, b, c · matches by meaning: d")


def test_a_long_cadence_shows_what_the_window_added() -> None:
    # 30 stars before the week, 70 during it; 250 upvotes all earned this week (shown on the card).
    sig = Signals(
        upvotes=250,
        github_stars=100,
        upvotes_growth=5,
        growth_hours=24,
        announced=TODAY - timedelta(days=5),
        gained=Growth(250, 0, 70),
    )
    line = why_line(sig, now=NOW, matched_topics=["agents"], window_hours=7 * 24)
    assert line == "+70 stars in 7 d · new 5 days ago · matches: agents"
