"""The tick functions `paperbot run` schedules besides delivery: ingest a source, maintain."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import EngageSettings, RetentionSettings
from paperbot.core import leases, maintenance, metrics
from paperbot.core.panics import recoverable
from paperbot.core.papers import ingest
from paperbot.core.papers.sources.config import SourceSettings
from paperbot.core.search import repair as index_repair

log = logging.getLogger(__name__)

INGEST_LEASE = "ingest"
SOURCES: dict[str, Literal["hf", "arxiv"]] = {"hf": "hf", "arxiv": "arxiv"}
# Renewed every third of it while a run lasts; a dead holder frees it after this long.
INGEST_LEASE_SECONDS = 300.0


Index = index_repair.RepairableIndex


def ingest_job(
    session_factory: sessionmaker[Session],
    sources: SourceSettings,
    index: Index | None,
    source: str,
    *,
    now: datetime,
    holder: str,
    after: Callable[[], object] | None = None,
) -> ingest.SourceRun | None:
    """Ingest one source if this replica holds the deployment-wide ingest lease.

    One lease for all sources: arXiv's one-request-per-3-s rule counts every replica. Every
    replica then brings its own search index up to date, whoever ingested. `after` runs
    under the lease once the ingest is done (the embedding backfill, bounded in time).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    run: ingest.SourceRun | None = None
    with leases.held(session_factory, INGEST_LEASE, holder, ttl=INGEST_LEASE_SECONDS) as mine:
        if mine:
            try:
                run = ingest.run_source(session_factory, sources, SOURCES[source], now=now)
            except BaseException as exc:
                if not recoverable(exc):
                    raise
                log.exception("ingest of %s failed", source)
                metrics.source_error(source)
            else:
                if run.ok:
                    metrics.source_ok(source, now)
                else:
                    metrics.source_error(source)
                log.info("ingest %s", run.summary())
            if after is not None:
                try:
                    after()
                except BaseException as exc:
                    if not recoverable(exc):
                        raise
                    log.exception("work after the ingest of %s failed", source)
        else:
            log.debug("ingest of %s skipped: another replica holds the lease", source)
    if index is not None:
        index_repair.catch_up(index, session_factory)
    return run


def maintenance_job(
    session_factory: sessionmaker[Session],
    retention: RetentionSettings,
    index: Index | None = None,
    *,
    now: datetime,
    engage: EngageSettings | None = None,
) -> maintenance.MaintenanceReport:
    """Daily: prune old snapshots and deliveries, purge data of long-removed channels."""
    report = maintenance.run_maintenance(session_factory, retention, now=now, engage=engage)
    log.info("maintenance: %s", report.summary())
    return report
