"""Prometheus metrics: digests sent/failed/given up, pauses, command latency, sources."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core import db
from paperbot.core.models import Channel, Delivery, SourceState, WorkspaceState

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
DIGESTS_GIVEN_UP = Counter(
    "paperbot_digests_given_up",
    "Digests paperbot tried to post and gave up on (the next digest says so)",
    ["platform"],
    registry=REGISTRY,
)
DIGESTS_MISSED = Counter(
    "paperbot_digests_missed",
    "Digests never tried within the grace period (paperbot was not running)",
    ["platform"],
    registry=REGISTRY,
)
UNRECONCILED = Counter(
    "paperbot_digest_parts_posted_unreconciled",
    "Parts posted again after the slot's grace although the platform could not say whether"
    " an earlier post went out (a possible duplicate)",
    ["platform"],
    registry=REGISTRY,
)
OPERATOR_NOTICES = Counter(
    "paperbot_operator_notices",
    "Problems reported to the operator because no person in chat could be told",
    ["kind"],
    registry=REGISTRY,
)
# Deliveries of the last week by status: the deployment's truth, whichever replica sent them.
RECENT_DAYS = 7


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
                with db.snapshot(self._factory) as session:
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


class _DeliveryState(Collector):
    """Paused channels and workspaces, and recent deliveries by status, read from the database."""

    def __init__(self) -> None:
        self._factory: sessionmaker[Session] | None = None

    def watch(self, factory: sessionmaker[Session] | None) -> None:
        self._factory = factory

    def collect(self) -> Iterator[GaugeMetricFamily]:
        channels = GaugeMetricFamily(
            "paperbot_paused_channels",
            "Channels whose digest is paused, by why (pause kind)",
            labels=["platform", "kind"],
        )
        workspaces = GaugeMetricFamily(
            "paperbot_paused_workspaces",
            "Workspaces paused because their token is refused (workspace * = the platform's own)",
            labels=["platform"],
        )
        recent = GaugeMetricFamily(
            "paperbot_recent_deliveries",
            f"Deliveries scheduled in the last {RECENT_DAYS} days, by status",
            labels=["platform", "status"],
        )
        if self._factory is not None:
            try:
                self._read(self._factory, channels, workspaces, recent)
            except Exception:  # a scrape must not fail because the database blinked
                log.warning("metrics: could not read delivery state", exc_info=True)
        yield from (channels, workspaces, recent)

    @staticmethod
    def _read(
        factory: sessionmaker[Session],
        channels: GaugeMetricFamily,
        workspaces: GaugeMetricFamily,
        recent: GaugeMetricFamily,
    ) -> None:
        since = datetime.now(UTC) - timedelta(days=RECENT_DAYS)
        with db.snapshot(factory) as session:
            for platform, kind, n in session.execute(
                select(Channel.platform, Channel.pause_kind, func.count())
                .where(Channel.paused.is_(True))
                .group_by(Channel.platform, Channel.pause_kind)
            ):
                channels.add_metric([platform, kind or "refused"], n)
            for platform, n in session.execute(
                select(WorkspaceState.platform, func.count())
                .where(WorkspaceState.paused_at.is_not(None))
                .group_by(WorkspaceState.platform)
            ):
                workspaces.add_metric([platform], n)
            for platform, status, n in session.execute(
                select(Channel.platform, Delivery.status, func.count())
                .join(Channel, Channel.id == Delivery.channel_id)
                .where(Delivery.scheduled_at >= since)
                .group_by(Channel.platform, Delivery.status)
            ):
                recent.add_metric([platform, status], n)


_LAST_INGEST = _LastIngest()
REGISTRY.register(_LAST_INGEST)
_DELIVERY_STATE = _DeliveryState()
REGISTRY.register(_DELIVERY_STATE)


def watch_database(factory: sessionmaker[Session] | None) -> None:
    """Report what the database knows (last ingests, pauses, deliveries); None stops it."""
    _LAST_INGEST.watch(factory)
    _DELIVERY_STATE.watch(factory)


def observe_command(platform: str, command: str, seconds: float) -> None:
    COMMAND_LATENCY.labels(platform=platform, command=command).observe(seconds)


def digest_sent(platform: str) -> None:
    DIGESTS_SENT.labels(platform=platform).inc()


def digest_failed(platform: str, *, retryable: bool) -> None:
    DIGESTS_FAILED.labels(platform=platform, kind="retryable" if retryable else "permanent").inc()


def digest_given_up(platform: str) -> None:
    DIGESTS_GIVEN_UP.labels(platform=platform).inc()


def digest_missed(platform: str) -> None:
    DIGESTS_MISSED.labels(platform=platform).inc()


def posted_unreconciled(platform: str) -> None:
    UNRECONCILED.labels(platform=platform).inc()


def operator_notice(kind: str) -> None:
    OPERATOR_NOTICES.labels(kind=kind).inc()


def source_error(source: str) -> None:
    SOURCE_ERRORS.labels(source=source).inc()


def source_ok(source: str, at: datetime) -> None:
    _LAST_INGEST.observe(source, at)


def render_metrics() -> tuple[bytes, str]:
    """The Prometheus text exposition of paperbot's registry and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
