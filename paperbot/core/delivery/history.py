"""A channel's delivery history as people read it: last digest, what failed, what was missed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paperbot.core.delivery.status import DIGEST, MANUAL, DeliveryStatus
from paperbot.core.models import Delivery


@dataclass(frozen=True)
class Undelivered:
    count: int
    reason: str
    since: datetime | None  # the last digest that did go out


def last_sent(session: Session, channel_id: int, kind: str = DIGEST) -> datetime | None:
    """When the channel's last digest (scheduled or manual; or roundup) went out."""
    return session.scalar(
        select(func.max(Delivery.sent_at)).where(
            Delivery.channel_id == channel_id,
            Delivery.status == DeliveryStatus.SENT,
            Delivery.kind == kind,
        )
    )


def undelivered(
    session: Session, channel_id: int, *, besides: int | None = None, kind: str = DIGEST
) -> Undelivered:
    """Scheduled digests (or roundups) given up since the last one that went out, and the
    last reason (what the next one notes)."""
    scheduled = ~Delivery.slot.startswith(MANUAL)
    sent_at = session.scalar(
        select(func.max(Delivery.scheduled_at)).where(
            Delivery.channel_id == channel_id,
            Delivery.status == DeliveryStatus.SENT,
            Delivery.kind == kind,
        )
    )
    query = select(Delivery.error).where(
        Delivery.channel_id == channel_id,
        scheduled,
        Delivery.status == DeliveryStatus.FAILED,
        Delivery.kind == kind,
    )
    if sent_at is not None:
        query = query.where(Delivery.scheduled_at > sent_at)
    if besides is not None:
        query = query.where(Delivery.id != besides)
    errors = list(session.scalars(query.order_by(Delivery.scheduled_at)))
    reason = _plain(errors[-1]) if errors else ""
    return Undelivered(len(errors), reason, last_sent(session, channel_id, kind))


def _plain(error: str | None) -> str:
    return " ".join((error or "unknown error").split())[:200]


def lines(session: Session, channel_id: int, zone: ZoneInfo) -> list[str]:
    """What `/papers list` says about deliveries, offline days kept apart from failures."""
    out: list[str] = []
    sent = last_sent(session, channel_id)
    if sent is not None:
        out.append(f"Last digest: {sent.astimezone(zone):%a %d %b %H:%M}")
    failed = undelivered(session, channel_id)
    if failed.count:
        what = "1 digest" if failed.count == 1 else f"{failed.count} digests"
        out.append(f"Not delivered since then: {what} ({failed.reason})")
    query = select(func.count()).where(
        Delivery.channel_id == channel_id,
        Delivery.status == DeliveryStatus.MISSED,
        Delivery.kind == DIGEST,
    )
    if failed.since is not None:
        query = query.where(Delivery.scheduled_at > failed.since)
    missed = session.scalar(query)
    if missed:
        out.append(f"Missed while paperbot was offline: {missed}")
    return out
