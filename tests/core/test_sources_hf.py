"""Hugging Face Daily Papers over loopback: parsing, pagination, snapshots, catch-up, failures."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fakes.sources import (
    HF_DAY,
    FakeSources,
    hf_items,
    plain_settings,
    refused_url,
    source_settings,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.models import Counter, Paper, SignalSnapshot, SourceState
from paperbot.core.papers.ingest import hf_days, run_source
from paperbot.core.papers.sources import hf
from paperbot.core.papers.sources.base import SourceError
from paperbot.core.papers.sources.config import SourceSettings
from paperbot.core.papers.sources.http import make_client, parse_retry_after

DAY = date.fromisoformat(HF_DAY)
NOW = datetime(2026, 6, 13, 8, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeSources]:
    with FakeSources() as server:
        yield server


def count(factory: sessionmaker[Session], model: Any) -> int:
    with factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def papers_by_key(factory: sessionmaker[Session]) -> dict[str, Paper]:
    with factory() as s:
        return {p.key: p for p in s.scalars(select(Paper))}


def test_recorded_payload_keeps_every_signal_and_link() -> None:
    papers = {p.key: p for p in hf.parse_daily_papers(hf_items())}
    assert len(papers) == 30
    msa = papers["2606.13392"]
    assert (msa.upvotes, msa.comments, msa.github_stars) == (103, 4, 251)
    assert msa.github_repo == "https://github.com/MiniMax-AI/MSA"
    assert msa.organization == "MiniMax"
    assert msa.thumbnail and msa.thumbnail.startswith("https://cdn-thumbnails.huggingface.co/")
    assert msa.ai_summary and msa.ai_keywords
    assert msa.announced == DAY and msa.published is not None
    first = papers["2606.00467"]
    assert first.authors == ["Etienne Casanova", "Rafal Kocielnik", "R. Michael Alvarez"]
    assert first.organization == "California institute of technology"
    assert (
        papers["2606.13594"].project_page == "https://chicychen.github.io/dense-hetero-latent-mas/"
    )


@pytest.mark.parametrize("slash", [False, True], ids=["no-slash", "slash"])
def test_fetch_day_follows_pages_with_the_configured_user_agent(
    fake: FakeSources, slash: bool
) -> None:
    settings = source_settings(plain_settings, fake.url, slash=slash, hf={"page_size": 7})
    with make_client(settings.source_http) as client:
        papers = hf.fetch_day(client, SourceSettings.of(settings), DAY)
    assert len({p.key for p in papers}) == 30
    hits = fake.hits("/api/daily_papers")
    assert [h.query["p"] for h in hits] == ["0", "1", "2", "3", "4"]
    assert all(h.query["limit"] == "7" and h.query["date"] == HF_DAY for h in hits)
    assert all(h.headers["User-Agent"] == settings.source_http.user_agent for h in hits)


def test_runs_store_once_snapshot_each_time_and_bump_only_on_change(
    fake: FakeSources, make_settings: Any, session_factory: sessionmaker[Session]
) -> None:
    settings = source_settings(make_settings, fake.url)
    first = run_source(session_factory, SourceSettings.of(settings), "hf", now=NOW, days=[DAY])
    assert first.ok and first.added == 30 and first.result.snapshots == 30
    seq_after_first = papers_by_key(session_factory)["2606.13392"].change_seq

    again = run_source(session_factory, SourceSettings.of(settings), "hf", now=NOW, days=[DAY])
    assert again.ok and (again.added, again.updated, again.result.unchanged) == (0, 0, 30)
    assert again.result.last_change_seq is None
    assert count(session_factory, Paper) == 30
    assert count(session_factory, SignalSnapshot) == 60  # a snapshot per paper per run
    with session_factory() as s:
        assert s.get(Counter, "papers").value == seq_after_first  # type: ignore[union-attr]

    fake.set_upvotes("2606.13392", 140)
    grown = run_source(session_factory, SourceSettings.of(settings), "hf", now=NOW, days=[DAY])
    assert (grown.added, grown.updated) == (0, 1)
    stored = papers_by_key(session_factory)
    assert stored["2606.13392"].upvotes == 140
    assert stored["2606.13392"].change_seq > seq_after_first
    assert stored["2606.00467"].change_seq == seq_after_first
    with session_factory() as s:
        state = s.get(SourceState, "hf")
        assert state is not None and state.last_day == DAY and state.last_success_at == NOW
        assert state.papers_seen == 90 and state.last_error is None


def test_default_days_are_recent_plus_missed_days_capped() -> None:
    settings = plain_settings(hf={"days_back": 3, "catch_up_days": 5})
    recent = hf_days(settings.hf, now=NOW, last_day=None)
    assert recent == [date(2026, 6, 11), date(2026, 6, 12), date(2026, 6, 13)]
    assert hf_days(settings.hf, now=NOW, last_day=date(2026, 6, 9)) == [date(2026, 6, 10), *recent]
    caught = hf_days(settings.hf, now=NOW, last_day=date(2026, 1, 1))
    assert caught[0] == date(2026, 6, 6) and len(caught) == 8


def test_run_without_days_covers_recent_days_and_an_empty_day_is_fine(
    fake: FakeSources, make_settings: Any, session_factory: sessionmaker[Session]
) -> None:
    settings = source_settings(make_settings, fake.url)
    run = run_source(session_factory, SourceSettings.of(settings), "hf", now=NOW)
    assert run.ok and run.added == 30
    assert sorted({h.query["date"] for h in fake.hits("/api/daily_papers")}) == [
        "2026-06-11",
        "2026-06-12",
        "2026-06-13",
    ]
    empty = run_source(
        session_factory, SourceSettings.of(settings), "hf", now=NOW, days=[date(2020, 1, 1)]
    )
    assert empty.ok and empty.fetched == 0
    with session_factory() as s:
        assert s.get(SourceState, "hf").last_day == date(2026, 6, 13)  # type: ignore[union-attr]


FAULTS = {
    "500": {"status": 500},
    "429": {"status": 429, "retry_after": "0"},
    "timeout": {"hang": 1.0},
}


@pytest.mark.parametrize("mode", [*FAULTS, "refused"])
def test_failing_source_logs_once_and_keeps_stored_papers(
    fake: FakeSources,
    make_settings: Any,
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    mode: str,
) -> None:
    good = source_settings(make_settings, fake.url)
    assert run_source(session_factory, SourceSettings.of(good), "hf", now=NOW, days=[DAY]).ok
    later = datetime(2026, 6, 13, 9, 0, tzinfo=UTC)
    url = refused_url() if mode == "refused" else fake.url
    settings = source_settings(make_settings, url, source_http={"timeout_seconds": 0.2})
    if mode != "refused":
        fake.fail("/api/daily_papers", **FAULTS[mode])
    caplog.set_level(logging.WARNING)

    run = run_source(session_factory, SourceSettings.of(settings), "hf", now=later, days=[DAY])

    assert not run.ok and run.error
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "hf" in warnings[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)
    assert count(session_factory, Paper) == 30
    with session_factory() as s:
        state = s.get(SourceState, "hf")
        assert state is not None and state.last_error_at == later
        assert state.last_success_at == NOW and state.last_error == run.error
    if mode != "refused":
        assert len(fake.hits("/api/daily_papers")) == 1 + settings.source_http.max_attempts


def test_retries_are_bounded_and_recover(fake: FakeSources) -> None:
    settings = source_settings(plain_settings, fake.url, source_http={"max_attempts": 3})
    fake.fail("/api/daily_papers", status=503, times=2)
    with make_client(settings.source_http) as client:
        assert len(hf.fetch_day(client, SourceSettings.of(settings), DAY)) == 30
    assert len(fake.hits("/api/daily_papers")) == 3


def test_retry_after_is_honoured_or_the_run_gives_up(fake: FakeSources) -> None:
    settings = source_settings(plain_settings, fake.url, source_http={"max_backoff_seconds": 2})
    fake.fail("/api/daily_papers", status=429, retry_after="1", times=1)
    with make_client(settings.source_http) as client:
        assert len(hf.fetch_day(client, SourceSettings.of(settings), DAY)) == 30
    first, second = fake.hits("/api/daily_papers")[:2]
    assert second.at - first.at >= 0.95

    # Asked to wait longer than we may back off: stop now, the next scheduled run retries.
    fake.requests.clear()
    fake.fail("/api/daily_papers", status=429, retry_after="120")
    with make_client(settings.source_http) as client, pytest.raises(SourceError, match="429"):
        hf.fetch_day(client, SourceSettings.of(settings), DAY)
    assert len(fake.hits("/api/daily_papers")) == 1


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 6, 13, 8, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Sat, 13 Jun 2026 08:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Sat, 13 Jun 2026 07:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
