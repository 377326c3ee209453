"""APScheduler 3 wiring only: when ingest, delivery and maintenance ticks run (and their `now`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from paperbot.core.panics import recoverable

log = logging.getLogger(__name__)

Tick = Callable[[datetime], Any]


class _QuietOverlap(logging.Filter):
    """A tick still running when the next is due is skipped by design (max_instances=1)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


logging.getLogger("apscheduler.scheduler").addFilter(_QuietOverlap())


def _at_edge(name: str, fn: Tick) -> Callable[[], None]:
    """Read the clock here, at the edge, and keep a failing tick from killing the scheduler."""

    def run() -> None:
        try:
            fn(datetime.now(UTC))
        except BaseException as exc:
            # A native panic (tantivy) is a BaseException: it must not kill the next ticks.
            if not recoverable(exc):
                raise
            log.exception("%s tick failed", name)

    run.__name__ = name
    return run


def build_scheduler(
    *,
    ingest: Mapping[str, tuple[float, Tick]],
    deliver: Tick,
    maintain: Tick,
    tick_seconds: float = 60.0,
    maintenance_hours: float = 24.0,
    start_delay_seconds: float = 1.0,
) -> BackgroundScheduler:
    """One in-process scheduler: ingest per source every N minutes, delivery every tick,
    maintenance daily. No job store is shared: replicas coordinate through the database.

    Every job coalesces missed runs into one, never overlaps itself (max_instances=1), and
    a run that starts late (a busy or suspended process) still runs within one interval.
    """
    scheduler = BackgroundScheduler(timezone=UTC)
    start = datetime.now(UTC) + timedelta(seconds=start_delay_seconds)

    def add(name: str, fn: Tick, seconds: float, first: datetime) -> None:
        scheduler.add_job(
            _at_edge(name, fn),
            IntervalTrigger(seconds=seconds, timezone=UTC),
            id=name,
            name=name,
            next_run_time=first,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(int(seconds), 1),
            replace_existing=True,
        )

    for source, (minutes, fn) in ingest.items():
        add(f"ingest-{source}", fn, minutes * 60.0, start)
    add("deliver", deliver, tick_seconds, start + timedelta(seconds=1))
    # Maintenance waits a little so a freshly started replica serves first.
    add("maintain", maintain, maintenance_hours * 3600.0, start + timedelta(minutes=5))
    return scheduler
