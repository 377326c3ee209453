"""Hostile sources over loopback: a trickle, a huge reply, an oversized page, wild Retry-After."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fakes.sources import HF_DAY, FakeSources, plain_settings, source_settings
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core import jobs, leases
from paperbot.core.models import Lease, Paper
from paperbot.core.papers.ingest import run_source
from paperbot.core.papers.sources import arxiv, hf
from paperbot.core.papers.sources.base import SourceError
from paperbot.core.papers.sources.config import SourceSettings
from paperbot.core.papers.sources.deadline import MAX_RETRY_AFTER_SECONDS, parse_retry_after
from paperbot.core.papers.sources.http import make_client

DAY = date.fromisoformat(HF_DAY)
NOW = datetime(2026, 6, 13, 8, 0, tzinfo=UTC)
MB = 1024 * 1024


@pytest.fixture
def fake() -> Iterator[FakeSources]:
    with FakeSources() as server:
        yield server


def strict(url: str, make: Any = plain_settings, **source_http: Any) -> Any:
    """Settings whose per-read timeout never fires on a trickle: only the deadline can stop it."""
    values = {"timeout_seconds": 5.0, "deadline_seconds": 0.6, "max_attempts": 2, **source_http}
    return source_settings(make, url, source_http=values)


def test_a_trickling_source_is_cut_at_the_whole_request_deadline(fake: FakeSources) -> None:
    settings = strict(fake.url)
    fake.fail("/api/daily_papers", trickle=0.02)
    started = time.monotonic()
    with make_client(settings.source_http) as client, pytest.raises(SourceError) as caught:
        hf.fetch_day(client, SourceSettings.of(settings), DAY)
    elapsed = time.monotonic() - started
    assert "no complete reply" in str(caught.value) and "2 tries" in str(caught.value)
    # Two attempts of 0.6 s and a short backoff; never the 10 MB the fake promised, byte by byte.
    assert 1.1 <= elapsed < 8.0
    assert len(fake.hits("/api/daily_papers")) == 2


def test_the_deadline_also_covers_arxiv(fake: FakeSources) -> None:
    settings = strict(fake.url, max_attempts=1)
    fake.fail("/atom/", trickle=0.02)
    started = time.monotonic()
    with (
        make_client(settings.source_http) as client,
        pytest.raises(SourceError, match="no complete reply"),
    ):
        arxiv.fetch_feed(client, SourceSettings.of(settings), ["cs.LG"])
    assert time.monotonic() - started < 8.0


@pytest.mark.parametrize("declare", [True, False], ids=["content-length", "no-length"])
def test_a_huge_reply_is_refused_without_reading_it_all(fake: FakeSources, declare: bool) -> None:
    settings = strict(fake.url, max_response_bytes=1 * MB, deadline_seconds=10.0)
    fake.fail("/api/daily_papers", huge=150 * MB, declare=declare)
    with make_client(settings.source_http) as client, pytest.raises(SourceError) as caught:
        hf.fetch_day(client, SourceSettings.of(settings), DAY)
    assert "larger than 1 MB" in str(caught.value) and "stopped reading" in str(caught.value)
    assert len(fake.hits("/api/daily_papers")) == 1  # not retried: it would be as big again
    assert fake.faults[0].sent < 20 * MB  # what the socket buffers took, far from 150 MB


def test_an_oversized_page_is_cut_to_what_was_asked(
    fake: FakeSources, caplog: pytest.LogCaptureFixture
) -> None:
    settings = strict(fake.url, deadline_seconds=30.0)
    fake.page_items = 100_000
    caplog.set_level(logging.WARNING)
    with make_client(settings.source_http) as client:
        papers = hf.fetch_day(client, SourceSettings.of(settings), DAY)
    assert len(papers) == settings.hf.page_size == 100
    assert len(fake.hits("/api/daily_papers")) == 1  # a server ignoring `limit` is asked no more
    assert any("100000 items for limit=100" in r.getMessage() for r in caplog.records)


def test_an_oversized_api_reply_is_cut_to_max_results(fake: FakeSources) -> None:
    settings = strict(fake.url)
    with make_client(settings.source_http) as client:
        full = arxiv.arxiv_api_query(
            SourceSettings.of(settings), search="all:learning", client=client
        )
        one = arxiv.arxiv_api_query(
            SourceSettings.of(settings), search="all:learning", max_results=1, client=client
        )
    assert len(full) > 1 and len(one) == 1


def test_a_hung_source_releases_the_ingest_lease_in_time(
    fake: FakeSources, make_settings: Any, session_factory: sessionmaker[Session]
) -> None:
    settings = strict(fake.url, make_settings, run_deadline_seconds=1.5, deadline_seconds=5.0)
    fake.fail("/api/daily_papers", trickle=0.02)
    started = time.monotonic()
    run = jobs.ingest_job(
        session_factory, SourceSettings.of(settings), None, "hf", now=NOW, holder="replica-a"
    )
    elapsed = time.monotonic() - started
    assert run is not None and not run.ok and "no complete reply" in (run.error or "")
    assert elapsed < 10.0  # the run's own deadline, not 3 days x 2 tries x 5 s
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Lease)) == 0
    assert leases.acquire(session_factory, "ingest", "replica-b", ttl=60)


def test_a_good_run_after_a_hostile_one_stores_papers(
    fake: FakeSources, make_settings: Any, session_factory: sessionmaker[Session]
) -> None:
    settings = strict(fake.url, make_settings, max_response_bytes=1 * MB)
    fake.fail("/api/daily_papers", huge=5 * MB, times=1)
    first = run_source(session_factory, SourceSettings.of(settings), "hf", now=NOW, days=[DAY])
    assert not first.ok and "larger than 1 MB" in (first.error or "")
    second = run_source(session_factory, SourceSettings.of(settings), "hf", now=NOW, days=[DAY])
    assert second.ok and second.added == 30
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Paper)) == 30


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("inf", None),
        ("-inf", None),
        ("nan", None),
        ("-5", None),
        ("1e999", None),
        ("1e9", MAX_RETRY_AFTER_SECONDS),
        ("86400", MAX_RETRY_AFTER_SECONDS),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER_SECONDS),
        ("Mon, 01 Jan 0001 00:00:00 GMT", 0.0),
        ("2.5", 2.5),
        ("Sat, 13 Jun 2026 08:00:30 GMT", 30.0),
        ("x" * 10_000, None),
        ("", None),
    ],
)
def test_retry_after_is_clamped(header: str, expected: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == expected


@pytest.mark.parametrize("header", ["inf", "nan", "-1", "1e999"])
def test_a_wild_retry_after_falls_back_to_the_default_backoff(
    fake: FakeSources, header: str
) -> None:
    settings = strict(fake.url, deadline_seconds=10.0, max_attempts=3)
    fake.fail("/api/daily_papers", status=429, retry_after=header, times=1)
    with make_client(settings.source_http) as client:
        assert len(hf.fetch_day(client, SourceSettings.of(settings), DAY)) == 30
    first, second = fake.hits("/api/daily_papers")[:2]
    assert second.at - first.at < 5.0  # the test settings' 0.01 s backoff, not forever


def test_a_retry_after_beyond_max_backoff_gives_up_until_the_next_run(fake: FakeSources) -> None:
    settings = strict(fake.url, max_backoff_seconds=1.0)
    fake.fail("/api/daily_papers", status=429, retry_after="1e9")
    started = time.monotonic()
    with (
        make_client(settings.source_http) as client,
        pytest.raises(SourceError, match="retry after 3600s"),
    ):
        hf.fetch_day(client, SourceSettings.of(settings), DAY)
    assert time.monotonic() - started < 5.0 and len(fake.hits("/api/daily_papers")) == 1
