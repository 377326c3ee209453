"""Prometheus metrics: digests sent/failed, command latency, source errors, last ingest."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.models import SourceState

log = logging.getLogger(__name__)

# One registry per process, not prometheus_client's global one, so tests and embedders can
# render exactly paperbot's metrics.
REGISTRY = CollectorRegistry(auto_describe=True)

DIGESTS_SENT = Counter(
    "paperbot_digests_sent", "Digests posted to a channel", ["platform"], registry=REGISTRY
)
DIGESTS_FAILED = Counter(
    "paperbot_digests_failed",
    "Digest posts that failed (kind: retryable or permanent)",
    ["platform", "kind"],
    registry=REGISTRY,
)
COMMAND_LATENCY = Histogram(
    "paperbot_command_latency_seconds",
    "Time to answer a /papers command",
    ["platform", "command"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
    registry=REGISTRY,
)
SOURCE_ERRORS = Counter(
    "paperbot_source_errors", "Failed ingest runs per source", ["source"], registry=REGISTRY
)


class _LastIngest(Collector):
    """Last successful ingest per source: this process's runs, and the database's view.

    Only one replica ingests at a time, so every replica reads SourceState to report the
    deployment's truth, not just its own runs.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, float] = {}
        self._factory: sessionmaker[Session] | None = None

    def observe(self, source: str, at: datetime) -> None:
        with self._lock:
            self._seen[source] = max(self._seen.get(source, 0.0), at.timestamp())

    def watch(self, factory: sessionmaker[Session] | None) -> None:
        self._factory = factory

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            values = dict(self._seen)
        if self._factory is not None:
            try:
                with self._factory() as session:
                    rows = session.execute(
                        select(SourceState.source, SourceState.last_success_at)
                    ).all()
                for source, at in rows:
                    if at is not None:
                        values[source] = max(values.get(source, 0.0), at.timestamp())
            except Exception:  # a scrape must not fail because the database blinked
                log.warning("metrics: could not read source states", exc_info=True)
        family = GaugeMetricFamily(
            "paperbot_last_successful_ingest_timestamp_seconds",
            "Unix time of the last successful ingest per source",
            labels=["source"],
        )
        for source, value in sorted(values.items()):
            family.add_metric([source], value)
        yield family


_LAST_INGEST = _LastIngest()
REGISTRY.register(_LAST_INGEST)


def watch_sources(factory: sessionmaker[Session] | None) -> None:
    """Report last ingests from this database's SourceState rows (None stops it)."""
    _LAST_INGEST.watch(factory)


def observe_command(platform: str, command: str, seconds: float) -> None:
    COMMAND_LATENCY.labels(platform=platform, command=command).observe(seconds)


def digest_sent(platform: str) -> None:
    DIGESTS_SENT.labels(platform=platform).inc()


def digest_failed(platform: str, *, retryable: bool) -> None:
    DIGESTS_FAILED.labels(platform=platform, kind="retryable" if retryable else "permanent").inc()


def source_error(source: str) -> None:
    SOURCE_ERRORS.labels(source=source).inc()


def source_ok(source: str, at: datetime) -> None:
    _LAST_INGEST.observe(source, at)


def render_metrics() -> tuple[bytes, str]:
    """The Prometheus text exposition of paperbot's registry and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
