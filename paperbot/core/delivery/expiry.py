"""Slots past their grace period: never posted late, told apart as offline (missed) or failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core import metrics
from paperbot.core.clock import db_now
from paperbot.core.db import transaction
from paperbot.core.delivery.claiming import workspace_paused
from paperbot.core.delivery.status import DeliveryStatus
from paperbot.core.models import Channel, Delivery, DeliveryPart, PostedPaper

OFFLINE = "not sent within the grace period (paperbot was not running)"


@dataclass
class Expired:
    missed: int = 0
    failed: int = 0


def _expirable(cutoff: datetime) -> ColumnElement[bool]:
    # A digest with a part out (or possibly out) is finished or reconciled, never dropped.
    started = exists().where(
        DeliveryPart.delivery_id == Delivery.id,
        or_(DeliveryPart.message_id.is_not(None), DeliveryPart.started_at.is_not(None)),
    )
    return and_(
        Delivery.scheduled_at < cutoff,
        or_(
            Delivery.status == DeliveryStatus.PENDING,
            and_(Delivery.status == DeliveryStatus.CLAIMED, Delivery.lease_until < db_now()),
        ),
        ~started,
    )


def expire(session_factory: sessionmaker[Session], *, now: datetime, grace: timedelta) -> Expired:
    """Close unsent slots older than the grace: missed if never tried while paperbot ran
    normally, failed if it tried (or the workspace's token was refused); the next digest
    counts them either way."""
    cutoff = now - grace
    out = Expired()
    with transaction(session_factory) as session:
        rows = session.execute(
            select(
                Delivery.id,
                Delivery.attempts,
                Delivery.error,
                Channel.platform,
                workspace_paused().label("refused"),
            )
            .join(Channel, Channel.id == Delivery.channel_id)
            .where(_expirable(cutoff))
        ).all()
        missed = [(r.id, r.platform) for r in rows if r.attempts == 0 and not r.refused]
        failed = [(r.id, r.platform, r.error) for r in rows if r.attempts > 0 or r.refused]
        for delivery_id, platform in missed:
            if _close(session, delivery_id, cutoff, DeliveryStatus.MISSED, OFFLINE):
                out.missed += 1
                metrics.digest_missed(platform)
        for delivery_id, platform, error in failed:
            reason = f"not delivered within the grace period ({error or 'paused workspace'})"
            if _close(session, delivery_id, cutoff, DeliveryStatus.FAILED, reason):
                out.failed += 1
                metrics.digest_given_up(platform)
    return out


def _close(
    session: Session, delivery_id: int, cutoff: datetime, status: DeliveryStatus, error: str
) -> bool:
    closed = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, _expirable(cutoff))
        .values(status=status, error=error[:500], lease_until=None, digest=None)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).first()
    if closed is None:
        return False  # another replica closed (or claimed) it first
    # Nothing of it went out: its reserved papers may appear in a later digest.
    session.execute(delete(PostedPaper).where(PostedPaper.delivery_id == delivery_id))
    session.execute(delete(DeliveryPart).where(DeliveryPart.delivery_id == delivery_id))
    return True
