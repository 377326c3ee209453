"""arXiv over loopback: announcement feed, holiday feeds, export API, pacing, cross-source merge."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fakes.sources import (
    HF_DAY,
    FakeSources,
    fixture_bytes,
    plain_settings,
    source_settings,
)
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.models import Paper, SourceState
from paperbot.core.papers.ingest import run_source
from paperbot.core.papers.sources import arxiv
from paperbot.core.papers.sources.arxiv import arxiv_api_query
from paperbot.core.papers.sources.base import SourceError
from paperbot.core.papers.sources.config import SourceSettings
from paperbot.core.papers.sources.http import ARXIV_LIMITER, RateLimiter

NOW = datetime(2025, 8, 20, 12, 0, tzinfo=UTC)
ANNOUNCED = date(2025, 8, 20)


@pytest.fixture
def fake() -> Iterator[FakeSources]:
    ARXIV_LIMITER.reset()
    with FakeSources() as server:
        yield server


def stored(factory: sessionmaker[Session]) -> dict[str, Paper]:
    with factory() as s:
        return {p.key: p for p in s.scalars(select(Paper))}


def test_feed_entries_become_clean_papers() -> None:
    feed = arxiv.parse_feed(fixture_bytes("arxiv_rss_atom_example.xml"))
    papers = {p.key: p for p in feed.papers}
    assert feed.day == ANNOUNCED and len(papers) == 7
    align = papers["2508.13426"]
    assert align.abstract.startswith("As large language models")  # no "arXiv:… Announce Type"
    assert align.authors == ["Chunhua Liu", "Kabir Manandhar Shrestha", "Sukai Huang"]
    assert align.categories == ["cs.CL", "cs.AI"] and align.announced == ANNOUNCED
    assert align.url == "https://arxiv.org/abs/2508.13426"
    assert papers["2508.13429"].authors == ["Paulo André Lima de Castro"]
    event = papers["2508.13434"].abstract
    assert "1.13× faster" in event and "$" not in event and "\\" not in event


def test_only_configured_announce_types_are_kept() -> None:
    feed = arxiv.parse_feed(fixture_bytes("arxiv_rss_atom_example.xml"), announce_types=["new"])
    assert sorted(p.key for p in feed.papers) == ["2508.14001", "2508.14002"]
    assert feed.skipped == 5
    assert all(p.published == ANNOUNCED for p in feed.papers)


def test_holiday_feed_is_empty_not_an_error() -> None:
    feed = arxiv.parse_feed(fixture_bytes("arxiv_rss2_empty_holiday_channel_example.xml"))
    assert feed.papers == [] and feed.day == date(2025, 12, 31)


def test_not_a_feed_is_a_source_error() -> None:
    with pytest.raises(SourceError):
        arxiv.parse_feed(b"<html><body>maintenance</body></html>")


@pytest.mark.parametrize("slash", [False, True], ids=["no-slash", "slash"])
def test_run_reads_one_feed_for_all_categories(
    fake: FakeSources, make_settings: Any, session_factory: sessionmaker[Session], slash: bool
) -> None:
    settings = source_settings(make_settings, fake.url, slash=slash)
    run = run_source(
        session_factory,
        SourceSettings.of(settings),
        "arxiv",
        now=NOW,
        categories=["cs.LG", "cs.CL"],
    )
    assert run.ok and run.added == 7 and run.days == [ANNOUNCED]
    assert [h.path for h in fake.hits("/atom/")] == ["/atom/cs.LG+cs.CL"]
    papers = stored(session_factory)
    assert papers["2508.14001"].sources == ["arxiv"]
    assert papers["2508.14001"].announced == ANNOUNCED
    with session_factory() as s:
        state = s.get(SourceState, "arxiv")
        assert state is not None and state.last_day == ANNOUNCED and state.last_success_at == NOW


def test_holiday_run_succeeds_with_nothing_new(
    fake: FakeSources, make_settings: Any, session_factory: sessionmaker[Session]
) -> None:
    fake.atom_feeds["cs.LG"] = fixture_bytes("arxiv_rss2_empty_holiday_channel_example.xml")
    settings = source_settings(make_settings, fake.url)
    run = run_source(
        session_factory, SourceSettings.of(settings), "arxiv", now=NOW, categories=["cs.LG"]
    )
    assert run.ok and run.fetched == 0 and stored(session_factory) == {}
    with session_factory() as s:
        assert s.get(SourceState, "arxiv").last_success_at == NOW  # type: ignore[union-attr]


def test_api_query_by_search_and_by_id_list(fake: FakeSources) -> None:
    settings = source_settings(plain_settings, fake.url)
    found = arxiv_api_query(
        SourceSettings.of(settings), search="all:transformer AND cat:cs.LG", max_results=5
    )
    assert [p.key for p in found][:2] == ["2606.13677", "2606.13591"]
    mana = found[0]
    assert mana.published == date(2026, 6, 11) and mana.categories[0] == "cs.RO"
    assert mana.project_page == "https://zhaohengyin.github.io/mana"
    assert mana.pdf_url == "https://arxiv.org/pdf/2606.13677"

    by_id = arxiv_api_query(SourceSettings.of(settings), id_list=["2606.13591v1"])
    assert [p.key for p in by_id] == ["2606.13591"]
    search_hit, id_hit = fake.hits("/api/query")
    assert search_hit.query["search_query"] == "all:transformer AND cat:cs.LG"
    assert search_hit.query["max_results"] == "5"
    assert id_hit.query["id_list"] == "2606.13591v1"


def test_api_error_entry_is_a_source_error(fake: FakeSources) -> None:
    fake.api_feed = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry>'
        b"<id>http://arxiv.org/api/errors#incorrect_id_format_for_bad</id><title>Error</title>"
        b"<summary>incorrect id format for bad</summary></entry></feed>"
    )
    settings = source_settings(plain_settings, fake.url)
    with pytest.raises(SourceError, match="incorrect id format"):
        arxiv_api_query(SourceSettings.of(settings), search="x")


def test_requests_are_spaced_by_the_configured_interval(fake: FakeSources) -> None:
    settings = source_settings(plain_settings, fake.url, arxiv={"min_interval_seconds": 0.2})
    for _ in range(3):
        arxiv_api_query(SourceSettings.of(settings), id_list=["2606.13677"])
    starts = [h.at for h in fake.hits("/api/query")]
    assert all(b - a >= 0.18 for a, b in itertools.pairwise(starts))


def test_rate_limiter_lets_the_first_request_through_at_once() -> None:
    limiter = RateLimiter()
    limiter.wait(5.0)  # would block 5 s if the first call waited
    limiter.reset()
    limiter.wait(5.0)


def test_same_paper_from_hf_and_arxiv_is_one_row(
    fake: FakeSources, make_settings: Any, session_factory: sessionmaker[Session]
) -> None:
    # Announce the Daily Papers' MSA paper (2606.13392) in the arXiv feed, versioned.
    fake.atom_feeds["cs.CL"] = fixture_bytes("arxiv_rss_atom_example.xml").replace(
        b"2508.14001", b"2606.13392"
    )
    settings = source_settings(make_settings, fake.url)
    hf_day = date.fromisoformat(HF_DAY)
    assert (
        run_source(session_factory, SourceSettings.of(settings), "hf", now=NOW, days=[hf_day]).added
        == 30
    )
    run = run_source(
        session_factory, SourceSettings.of(settings), "arxiv", now=NOW, categories=["cs.CL"]
    )
    assert (run.added, run.updated) == (6, 1)

    papers = stored(session_factory)
    assert len(papers) == 36
    msa = papers["2606.13392"]
    assert msa.sources == ["arxiv", "hf"]
    assert msa.title == "Neural Architecture Search for Efficient Transformers"  # arXiv's
    assert msa.upvotes == 103 and msa.github_stars == 251 and msa.ai_summary  # HF's kept
    assert msa.categories == ["cs.AI", "cs.LG"] and msa.organization == "MiniMax"
    assert msa.announced == ANNOUNCED  # the earliest day it reached a feed


def test_failing_feed_is_recorded_not_raised(
    fake: FakeSources, make_settings: Any, session_factory: sessionmaker[Session]
) -> None:
    settings = source_settings(make_settings, fake.url)
    assert run_source(
        session_factory, SourceSettings.of(settings), "arxiv", now=NOW, categories=["cs.LG"]
    ).ok
    fake.fail("/atom/", status=503)
    run = run_source(
        session_factory, SourceSettings.of(settings), "arxiv", now=NOW, categories=["cs.LG"]
    )
    assert not run.ok and run.error and "503" in run.error
    assert len(stored(session_factory)) == 7
    with session_factory() as s:
        assert s.get(SourceState, "arxiv").last_error == run.error  # type: ignore[union-attr]
