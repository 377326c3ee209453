"""Ingest use cases: a JSONL file, or a run of a network source with its bookkeeping."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

import httpx
from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import HFSettings
from paperbot.core.models import SourceState
from paperbot.core.papers.sources import arxiv, hf, http
from paperbot.core.papers.sources.arxiv import arxiv_api_query
from paperbot.core.papers.sources.base import PaperIn, SourceError
from paperbot.core.papers.sources.config import SourceSettings
from paperbot.core.papers.sources.files import FileScan, read_jsonl, scan_jsonl
from paperbot.core.papers.store import IngestError, IngestResult, ingest, next_change_seq
from paperbot.core.progress import Progress

log = logging.getLogger(__name__)


@dataclass
class FileIngest:
    """What `ingest_file` did: the store's result and the file's bad lines (when skipped)."""

    result: IngestResult
    scan: FileScan

    @property
    def skipped(self) -> int:
        return self.scan.bad_lines


def ingest_file(
    session_factory: sessionmaker[Session],
    path: str | Path,
    *,
    now: datetime,
    batch_size: int = 2000,
    skip_invalid: bool = False,
    on_check: Progress | None = None,
    on_ingest: Progress | None = None,
) -> FileIngest:
    """Check the whole JSONL file first, then ingest it.

    A file with bad lines raises FileFormatError (naming them) and changes nothing, unless
    `skip_invalid` asks to ingest the good lines; the scan then lists what was skipped.
    """
    scan = scan_jsonl(path, progress=on_check)
    if not skip_invalid and (error := scan.error()) is not None:
        raise error
    papers = read_jsonl(path, skip_invalid=skip_invalid)
    result = ingest(
        session_factory,
        papers,
        source="file",
        now=now,
        batch_size=batch_size,
        total=scan.papers,
        progress=on_ingest,
    )
    return FileIngest(result, scan)


# --- scheduled source runs -----------------------------------------------------------------


@dataclass
class SourceRun:
    """One run of a network source; ok=False carries a short, loggable error."""

    source: str
    ok: bool = True
    error: str | None = None
    fetched: int = 0
    result: IngestResult = field(default_factory=IngestResult)
    days: list[date] = field(default_factory=list)

    @property
    def added(self) -> int:
        return self.result.added

    @property
    def updated(self) -> int:
        return self.result.updated

    def summary(self) -> str:
        span = ""
        if self.days:
            first, last = min(self.days), max(self.days)
            span = f" for {first}" + (f"..{last}" if last != first else "")
        text = (
            f"{self.source}: {self.fetched} papers{span} ({self.added} new, {self.updated} updated)"
        )
        return text if self.ok else f"{text}; failed: {self.error}"


def _state(session: Session, source: str) -> SourceState:
    state = session.get(SourceState, source, with_for_update=True)
    if state is None:
        state = SourceState(source=source, papers_seen=0)
        session.add(state)
    return state


def _last_day(session_factory: sessionmaker[Session], source: str) -> date | None:
    with session_factory() as session:
        state = session.get(SourceState, source)
        return state.last_day if state else None


def record_run(
    session_factory: sessionmaker[Session],
    source: str,
    *,
    now: datetime,
    seen: int,
    error: str | None = None,
    day: date | None = None,
) -> None:
    """Bookkeeping after a run: success/error time, newest day fetched, papers seen."""
    with session_factory.begin() as session:
        state = _state(session, source)
        state.papers_seen = (state.papers_seen or 0) + seen
        if day is not None and (state.last_day is None or day > state.last_day):
            state.last_day = day
        if error is None:
            state.last_success_at = now
        else:
            state.last_error_at = now
            state.last_error = error[:300]


def hf_days(cfg: HFSettings, *, now: datetime, last_day: date | None) -> list[date]:
    """The recent days re-fetched (upvotes keep growing) plus missed days since last_day."""
    today = now.astimezone(UTC).date()
    recent = [today - timedelta(days=n) for n in range(cfg.days_back)]
    oldest = recent[-1]
    days = set(recent)
    if last_day is not None and last_day < oldest:
        day = max(last_day + timedelta(days=1), oldest - timedelta(days=cfg.catch_up_days))
        while day < oldest:
            days.add(day)
            day += timedelta(days=1)
    return sorted(days)


def _fetch(
    client: httpx.Client,
    sources: SourceSettings,
    source: str,
    days: list[date] | None,
    categories: list[str] | None,
    run: SourceRun,
) -> list[PaperIn]:
    """Fetch in day order, stopping at the first failure; keeps what came before it."""
    papers: list[PaperIn] = []
    # The whole run ends in time, so a slow source cannot hold the ingest lease for long.
    until = time.monotonic() + sources.http.run_deadline_seconds
    try:
        if source == "hf":
            for day in days or []:
                papers.extend(hf.fetch_day(client, sources, day, until=until))
                run.days.append(day)
        else:
            cats = categories or sources.arxiv.categories
            feed = arxiv.fetch_feed(client, sources, cats, until=until)
            papers = feed.papers
            run.days = [feed.day] if feed.day else []
    except SourceError as exc:
        run.ok, run.error = False, str(exc)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        run.ok, run.error = False, f"unexpected {source} response ({type(exc).__name__})"
    return papers


def run_source(
    session_factory: sessionmaker[Session],
    sources: SourceSettings,
    source: Literal["hf", "arxiv"],
    *,
    now: datetime,
    days: list[date] | None = None,
    categories: list[str] | None = None,
    client: httpx.Client | None = None,
) -> SourceRun:
    """Fetch a network source and ingest it; never raises for network, HTTP or parse errors."""
    if source not in ("hf", "arxiv"):
        raise ValueError(f"unknown source {source!r}")
    run = SourceRun(source=source)
    if source == "hf" and days is None:
        days = hf_days(sources.hf, now=now, last_day=_last_day(session_factory, source))
    if client is None:
        with http.make_client(sources.http) as own:
            papers = _fetch(own, sources, source, days, categories, run)
    else:
        papers = _fetch(client, sources, source, days, categories, run)
    run.fetched = len(papers)
    if papers:
        try:
            run.result = ingest(session_factory, papers, source=source, now=now)
        except IngestError as exc:  # batches before it are stored; the message holds no data
            run.ok, run.error = False, str(exc)
    if not run.ok:
        log.warning("%s source failed: %s (stored papers kept)", source, run.error)
    record_run(
        session_factory,
        source,
        now=now,
        seen=run.fetched,
        error=run.error,
        day=max(run.days) if run.days else None,
    )
    return run


__all__ = [
    "FileIngest",
    "IngestResult",
    "SourceRun",
    "arxiv_api_query",
    "hf_days",
    "ingest",
    "ingest_file",
    "next_change_seq",
    "record_run",
    "run_source",
]
