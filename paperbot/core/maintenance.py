"""Housekeeping: prune old signal snapshots and deliveries, purge removed channels' data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import EngageSettings, RetentionSettings
from paperbot.core.channels import store as channels
from paperbot.core.db import transaction
from paperbot.core.delivery.status import MANUAL, DeliveryStatus
from paperbot.core.engage import retention as engage_retention
from paperbot.core.models import Channel, Delivery, SignalSnapshot, WorkspaceState

# Delivery rows are bookkeeping; keep three months (and always each channel's newest slot,
# which is what the next digest's "missed" count is measured from).
DELIVERY_DAYS = 90


@dataclass
class MaintenanceReport:
    snapshots: int = 0
    deliveries: int = 0
    channels: int = 0
    workspaces: int = 0
    # Feedback rows (votes, signals, message and thread maps) of removed channels.
    feedback: int = 0

    def summary(self) -> str:
        return (
            f"pruned {self.snapshots} snapshots, {self.deliveries} deliveries;"
            f" purged {self.channels} channels, {self.workspaces} workspaces,"
            f" {self.feedback} feedback rows"
        )


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def prune_snapshots(session: Session, *, before: datetime) -> int:
    """Delete signal snapshots observed before `before` (papers keep their latest signals)."""
    return _count(
        session.execute(delete(SignalSnapshot).where(SignalSnapshot.observed_at < before))
    )


def prune_deliveries(session: Session, *, before: datetime) -> int:
    newest = (
        select(func.max(Delivery.id))
        .where(~Delivery.slot.startswith(MANUAL))
        .group_by(Delivery.channel_id, Delivery.kind)
    )
    return _count(
        session.execute(
            delete(Delivery).where(
                Delivery.created_at < before,
                Delivery.status.in_(DeliveryStatus.final()),
                Delivery.id.not_in(newest),
            )
        )
    )


def purge_removed(session: Session, *, before: datetime) -> tuple[int, int]:
    """Delete channels (and, by cascade, their topics, deliveries and posted papers) that were
    removed before `before`, and every channel of a workspace uninstalled before then."""
    ids, workspaces = channels.removed_before(session, before)
    deleted = _count(session.execute(delete(Channel).where(Channel.id.in_(sorted(ids)))))
    if workspaces:
        session.execute(
            delete(WorkspaceState).where(
                and_(WorkspaceState.removed_at.is_not(None), WorkspaceState.removed_at < before)
            )
        )
    return deleted, workspaces


def run_maintenance(
    session_factory: sessionmaker[Session],
    retention: RetentionSettings,
    *,
    now: datetime,
    engage: EngageSettings | None = None,
) -> MaintenanceReport:
    report = MaintenanceReport()
    with transaction(session_factory) as session:
        report.snapshots = prune_snapshots(
            session, before=now - timedelta(days=retention.snapshot_days)
        )
    with transaction(session_factory) as session:
        report.deliveries = prune_deliveries(session, before=now - timedelta(days=DELIVERY_DAYS))
    with transaction(session_factory) as session:
        # Before the channels go: feedback may have a shorter retention than the channel.
        report.feedback = engage_retention.purge_removed(
            session, before=now - timedelta(days=(engage or EngageSettings()).retention_days)
        )
    with transaction(session_factory) as session:
        report.channels, report.workspaces = purge_removed(
            session, before=now - timedelta(days=retention.removed_channel_days)
        )
    return report
