"""Digests and the trending list on a real store and a real search index (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import Settings
from paperbot.core.digests.builder import (
    DigestCache,
    build_digest,
    partial_sources,
    trending_papers,
)
from paperbot.core.digests.request import DigestConfig, DigestRequest
from paperbot.core.models import Channel, Delivery, Paper, PostedPaper, SourceState, Subscription
from paperbot.core.papers.ingest import ingest
from paperbot.core.papers.sources.base import PaperIn
from paperbot.core.search import SearchIndex

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


def paper(
    n: int,
    title: str,
    *,
    days_ago: int = 0,
    upvotes: int | None = None,
    comments: int | None = None,
    on: date | None = None,
) -> PaperIn:
    return PaperIn(
        title=title,
        abstract=f"{title}. We study this problem and report results.",
        arxiv_id=f"2611.{n:05d}",
        announced=on or TODAY - timedelta(days=days_ago),
        upvotes=upvotes,
        comments=comments,
        source="hf" if upvotes is not None or comments is not None else "arxiv",
    )


@pytest.fixture
def store(session_factory: sessionmaker[Session], index: SearchIndex) -> Any:
    """Ingest papers (at an instant) and bring the index up to date."""

    def add(papers: Sequence[PaperIn], *, at: datetime = NOW - timedelta(hours=1)) -> None:
        ingest(session_factory, papers, source=papers[0].source, now=at)
        index.catch_up(session_factory)

    return add


def make_channel(
    session_factory: sessionmaker[Session],
    topics: Sequence[str] = (),
    *,
    size: int = 5,
    name: str = "C1",
    **fields: Any,
) -> int:
    with session_factory.begin() as s:
        channel = Channel(
            platform="slack", workspace="T1", channel=name, size=size, created_at=NOW, **fields
        )
        channel.subscriptions = [Subscription(topic=t, created_at=NOW) for t in topics]
        s.add(channel)
        s.flush()
        return channel.id


def digest_titles(
    session_factory: sessionmaker[Session],
    index: SearchIndex,
    channel_id: int,
    settings: Settings,
    *,
    now: datetime = NOW,
    missed: int = 0,
    cache: DigestCache | None = None,
) -> list[str]:
    with session_factory() as s:
        channel = s.get_one(Channel, channel_id)
        digest = build_digest(
            s,
            index,
            channel,
            DigestConfig.of(settings),
            DigestRequest(now, missed_slots=missed, cache=cache),
        )
    return [p.title for p in digest.papers]


def mark_posted(session_factory: sessionmaker[Session], channel_id: int, title: str) -> None:
    with session_factory.begin() as s:
        pid = s.scalar(select(Paper.id).where(Paper.title == title))
        assert pid is not None
        s.add(PostedPaper(channel_id=channel_id, paper_id=pid, posted_at=NOW - timedelta(days=1)))


def test_topic_filter_keeps_matching_papers_and_says_why(
    session_factory: sessionmaker[Session], index: SearchIndex, store: Any, settings: Settings
) -> None:
    store(
        [
            paper(1, "Diffusion models for video generation", upvotes=38),
            paper(2, "Reinforcement learning for robot arms", upvotes=90),
            paper(3, "Latent diffusion with fewer steps", days_ago=1),
        ]
    )
    cid = make_channel(session_factory, ["diffusion"])
    with session_factory() as s:
        digest = build_digest(
            s, index, s.get_one(Channel, cid), DigestConfig.of(settings), DigestRequest(NOW)
        )
    assert [p.title for p in digest.papers] == [
        "Diffusion models for video generation",
        "Latent diffusion with fewer steps",
    ]
    assert digest.papers[0].why == "new today · matches: diffusion"
    assert digest.papers[0].signals() == ("▲ 38 upvotes",)
    assert digest.papers[1].why == "new yesterday · matches: diffusion"
    assert digest.topics == ("diffusion",)
    assert digest.title == "Your paper digest · Fri 27 Nov 2026"
    assert digest.channel.channel == "C1"


def test_never_posts_a_paper_twice(
    session_factory: sessionmaker[Session], index: SearchIndex, store: Any, settings: Settings
) -> None:
    store([paper(1, "Diffusion A", upvotes=50), paper(2, "Diffusion B", upvotes=5)])
    cid = make_channel(session_factory, ["diffusion"])
    other = make_channel(session_factory, ["diffusion"], name="C2")
    mark_posted(session_factory, cid, "Diffusion A")
    assert digest_titles(session_factory, index, cid, settings) == ["Diffusion B"]
    # Another channel still gets it.
    assert digest_titles(session_factory, index, other, settings) == ["Diffusion A", "Diffusion B"]


def test_size_cuts_the_ranked_list(
    session_factory: sessionmaker[Session], index: SearchIndex, store: Any, settings: Settings
) -> None:
    store([paper(i, f"Transformer study {i}", upvotes=i * 10) for i in range(1, 8)])
    cid = make_channel(session_factory, ["transformer"], size=3)
    assert digest_titles(session_factory, index, cid, settings) == [
        "Transformer study 7",
        "Transformer study 6",
        "Transformer study 5",
    ]


def test_channel_without_topics_gets_all_papers_ranked(
    session_factory: sessionmaker[Session], index: SearchIndex, store: Any, settings: Settings
) -> None:
    store([paper(1, "Quiet paper", upvotes=2), paper(2, "Loud paper", upvotes=200)])
    store([paper(3, "Graph networks", days_ago=2), paper(4, "Speech codecs")])
    cid = make_channel(session_factory)
    assert digest_titles(session_factory, index, cid, settings) == [
        "Loud paper",
        "Quiet paper",
        "Speech codecs",
        "Graph networks",
    ]


def test_upvote_growth_between_snapshots_ranks_and_explains(
    session_factory: sessionmaker[Session], index: SearchIndex, store: Any, settings: Settings
) -> None:
    day_before = NOW - timedelta(hours=25)
    store([paper(1, "Steady", upvotes=60), paper(2, "Rising", upvotes=2)], at=day_before)
    store(
        [paper(1, "Steady", upvotes=61), paper(2, "Rising", upvotes=45, comments=7)],
        at=NOW - timedelta(hours=1),
    )
    cid = make_channel(session_factory)
    with session_factory() as s:
        digest = build_digest(
            s, index, s.get_one(Channel, cid), DigestConfig.of(settings), DigestRequest(NOW)
        )
    assert [p.title for p in digest.papers] == ["Rising", "Steady"]
    assert digest.papers[0].why == "+43 upvotes in 24 h · new today"
    assert digest.papers[0].signals() == ("▲ 45 upvotes", "7 comments")
    assert digest.papers[0].upvotes == 45
    assert digest.papers[0].score > digest.papers[1].score


def test_lookback_window_and_missed_slot_extension(
    session_factory: sessionmaker[Session], index: SearchIndex, store: Any, make_settings: Any
) -> None:
    settings = make_settings(digest={"lookback_days": 3, "max_lookback_days": 6})
    store([paper(d, f"Robotics day {d}", days_ago=d) for d in (0, 3, 5, 9)])
    cid = make_channel(session_factory, ["robotics"])
    assert digest_titles(session_factory, index, cid, settings) == [
        "Robotics day 0",
        "Robotics day 3",
    ]
    # Two missed digests: two more days; many missed: capped at max_lookback_days.
    assert "Robotics day 5" in digest_titles(session_factory, index, cid, settings, missed=2)
    capped = digest_titles(session_factory, index, cid, settings, missed=30)
    assert "Robotics day 5" in capped
    assert "Robotics day 9" not in capped


def test_weekly_channel_looks_back_over_the_whole_week(
    session_factory: sessionmaker[Session], index: SearchIndex, store: Any, settings: Settings
) -> None:
    store([paper(1, "Robotics midweek", days_ago=6), paper(2, "Parsing today")])
    daily = make_channel(session_factory, ["robotics"])
    weekly = make_channel(session_factory, ["robotics"], name="C2", days="fri")
    assert digest_titles(session_factory, index, daily, settings) == []
    assert digest_titles(session_factory, index, weekly, settings) == ["Robotics midweek"]


def test_first_digest_of_a_new_store_shows_its_newest_papers(
    session_factory: sessionmaker[Session], index: SearchIndex, store: Any, settings: Settings
) -> None:
    june = date(2026, 6, 12)
    store(
        [
            paper(1, "Diffusion in June", on=june, upvotes=12),
            paper(2, "Older diffusion work", on=june - timedelta(days=30), upvotes=99),
            paper(3, "Parsing in June", on=june, upvotes=40),
        ],
        at=NOW - timedelta(minutes=5),
    )
    fresh = make_channel(session_factory, ["diffusion"])
    with session_factory() as s:
        digest = build_digest(
            s, index, s.get_one(Channel, fresh), DigestConfig.of(settings), DigestRequest(NOW)
        )
    # The newest papers the store has, still topic-matched; not last month's.
    assert [p.title for p in digest.papers] == ["Diffusion in June"]
    assert digest.papers[0].why == "announced 12 Jun 2026 · matches: diffusion"
    everything = make_channel(session_factory, name="C2")
    assert digest_titles(session_factory, index, everything, settings) == [
        "Parsing in June",
        "Diffusion in June",
    ]


def test_no_old_news_for_a_channel_that_already_got_digests(
    session_factory: sessionmaker[Session], index: SearchIndex, store: Any, settings: Settings
) -> None:
    store([paper(1, "Diffusion in June", on=date(2026, 6, 12))])
    posted_before = make_channel(session_factory, ["diffusion"])
    store([paper(2, "Diffusion in May", on=date(2026, 5, 1))])
    mark_posted(session_factory, posted_before, "Diffusion in May")
    delivered = make_channel(session_factory, ["diffusion"], name="C2")
    with session_factory.begin() as s:
        s.add(
            Delivery(
                channel_id=delivered,
                slot="2026-11-26",
                scheduled_at=NOW - timedelta(days=1),
                status="sent",
                next_attempt_at=NOW - timedelta(days=1),
                created_at=NOW - timedelta(days=1),
                sent_at=NOW - timedelta(days=1),
            )
        )
    assert digest_titles(session_factory, index, posted_before, settings) == []
    assert digest_titles(session_factory, index, delivered, settings) == []


def test_quiet_day_gives_an_empty_digest_with_its_notes(
    session_factory: sessionmaker[Session], index: SearchIndex, store: Any, settings: Settings
) -> None:
    store([paper(1, "Diffusion A", days_ago=1)])
    cid = make_channel(session_factory, ["diffusion"])
    mark_posted(session_factory, cid, "Diffusion A")
    with session_factory() as s:
        digest = build_digest(
            s,
            index,
            s.get_one(Channel, cid),
            DigestConfig.of(settings),
            DigestRequest(NOW, missed_slots=2),
        )
    assert digest.papers == ()
    assert digest.missed_slots == 2
    assert "missed 2 digests" in digest.notes[0]


def test_partial_sources_from_source_state(
    session_factory: sessionmaker[Session], index: SearchIndex, store: Any, settings: Settings
) -> None:
    store([paper(1, "Diffusion A", upvotes=3)])
    with session_factory.begin() as s:
        s.add_all(
            [
                # Failed after its last success.
                SourceState(
                    source="hf",
                    last_success_at=NOW - timedelta(hours=3),
                    last_error_at=NOW - timedelta(hours=1),
                    last_error="HTTP 503",
                ),
                # Fine: failed earlier, succeeded since.
                SourceState(
                    source="arxiv",
                    last_success_at=NOW - timedelta(hours=2),
                    last_error_at=NOW - timedelta(hours=5),
                ),
            ]
        )
    cid = make_channel(session_factory, ["diffusion"])
    with session_factory() as s:
        digest = build_digest(
            s, index, s.get_one(Channel, cid), DigestConfig.of(settings), DigestRequest(NOW)
        )
        assert digest.partial_sources == ("Hugging Face",)
        assert digest.notes == (
            "Some sources could not be reached (Hugging Face): this digest may be incomplete.",
        )
        # arXiv without a success for more than a day is partial too.
        assert partial_sources(s, NOW + timedelta(hours=23)) == ("arXiv", "Hugging Face")
    quiet = make_settings_without_hf(settings)
    with session_factory() as s:
        digest = build_digest(
            s, index, s.get_one(Channel, cid), DigestConfig.of(quiet), DigestRequest(NOW)
        )
    assert digest.partial_sources == ()


def trend_settings(settings: Settings) -> dict[str, Any]:
    return {"weights": settings.ranking, "lookback_days": settings.digest.lookback_days}


def make_settings_without_hf(settings: Settings) -> Settings:
    return settings.model_copy(update={"hf": settings.hf.model_copy(update={"enabled": False})})


def test_title_uses_the_channel_zone(
    session_factory: sessionmaker[Session], index: SearchIndex, settings: Settings
) -> None:
    cid = make_channel(session_factory, timezone="Pacific/Auckland")
    evening = NOW + timedelta(hours=5)  # 14:00 UTC is 03:00 on Saturday in Auckland
    with session_factory() as s:
        digest = build_digest(
            s, index, s.get_one(Channel, cid), DigestConfig.of(settings), DigestRequest(evening)
        )
    assert digest.title == "Your paper digest · Sat 28 Nov 2026"
    assert digest.papers == ()


def test_shared_cache_gives_the_same_digests(
    session_factory: sessionmaker[Session], index: SearchIndex, store: Any, settings: Settings
) -> None:
    store([paper(i, f"Diffusion {i}", upvotes=i) for i in range(1, 6)])
    store([paper(10 + i, f"Robotics {i}", days_ago=i) for i in range(3)])
    channels = [
        make_channel(session_factory, ["diffusion"], size=3),
        make_channel(session_factory, name="C2"),
        make_channel(session_factory, ["robotics", "diffusion"], name="C3"),
    ]
    mark_posted(session_factory, channels[0], "Diffusion 5")
    cache = DigestCache()
    for cid in channels:
        plain = digest_titles(session_factory, index, cid, settings)
        assert digest_titles(session_factory, index, cid, settings, cache=cache) == plain


def test_trending_ranks_recent_papers_and_falls_back_to_the_newest(
    session_factory: sessionmaker[Session], store: Any, settings: Settings
) -> None:
    assert trending_papers(session_factory, now=NOW, **trend_settings(settings)) == []
    store([paper(1, "Old but loved", on=date(2026, 6, 1), upvotes=500)])
    store([paper(2, "June follow-up", on=date(2026, 6, 12), upvotes=4)])
    store([paper(3, "June baseline", on=date(2026, 6, 12))])
    fallback = trending_papers(session_factory, now=NOW, **trend_settings(settings))
    assert [c.title for c in fallback] == ["June follow-up", "June baseline"]
    store([paper(4, "Fresh", upvotes=20), paper(5, "Fresher", upvotes=80)])
    cards = trending_papers(session_factory, now=NOW, **trend_settings(settings), limit=1)
    assert [(c.title, c.why, c.upvotes) for c in cards] == [("Fresher", "new today", 80)]
    wide = trending_papers(session_factory, now=NOW, **trend_settings(settings), since_days=365)
    assert [c.title for c in wide][:2] == ["Fresher", "Fresh"]
    assert len(wide) == 5


def test_a_monday_after_a_weekdays_friday_ranks_the_long_weekend_by_its_votes(
    session_factory: sessionmaker[Session], index: SearchIndex, store: Any, settings: Settings
) -> None:
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    friday = date(2026, 11, 27)
    store(
        [
            paper(1, "Agents that plan, Friday's favourite", on=friday, upvotes=200),
            paper(2, "Agents that act, posted this morning", on=monday.date(), upvotes=5),
        ],
        at=monday - timedelta(hours=1),
    )
    weekdays = make_channel(session_factory, ["agents"], days="weekdays")
    daily = make_channel(session_factory, ["agents"], name="C2")
    weekend = digest_titles(session_factory, index, weekdays, settings, now=monday)
    assert weekend[0] == "Agents that plan, Friday's favourite"
    # A daily channel saw Friday's paper on Saturday already; its decay favours today's.
    assert digest_titles(session_factory, index, daily, settings, now=monday)[0] == (
        "Agents that act, posted this morning"
    )
    # On Tuesday the weekdays channel is back to daily ranking.
    tuesday = monday + timedelta(days=1)
    store([paper(3, "Agents that talk", on=tuesday.date(), upvotes=5)], at=tuesday)
    store([paper(4, "Agents that sleep", on=monday.date(), upvotes=9)], at=tuesday)
    assert digest_titles(session_factory, index, weekdays, settings, now=tuesday)[:2] == [
        "Agents that talk",
        "Agents that sleep",
    ]
