"""Which paper a message shows, for reactions: a digest part with one paper, or a recorded
share/discuss post with one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from paperbot.core.models import Delivery, DeliveryPart, EngageMessage

KINDS = ("share", "discuss")


def record(
    session: Session,
    channel_id: int,
    message_id: str,
    papers: Sequence[str],
    kind: str,
    now: datetime,
) -> bool:
    """Remember a message paperbot posted outside a digest; False if it was known already."""
    ins = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        ins(EngageMessage)
        .values(
            channel_id=channel_id,
            message_id=message_id[:64],
            kind=kind,
            papers=list(dict.fromkeys(papers)),
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["channel_id", "message_id"])
        .returning(EngageMessage.id)
    )
    return session.scalar(stmt) is not None


def papers_of(session: Session, channel_id: int, message_id: str) -> tuple[str, ...] | None:
    """The paper keys a message in this channel shows; None for a message paperbot never
    posted (or posted elsewhere)."""
    part = session.scalar(
        select(DeliveryPart.papers)
        .join(Delivery, Delivery.id == DeliveryPart.delivery_id)
        .where(DeliveryPart.message_id == message_id[:64], Delivery.channel_id == channel_id)
        .limit(1)
    )
    if part is not None:
        return tuple(part)
    posted = session.scalar(
        select(EngageMessage.papers).where(
            EngageMessage.channel_id == channel_id, EngageMessage.message_id == message_id[:64]
        )
    )
    return tuple(posted) if posted is not None else None


def only_paper(session: Session, channel_id: int, message_id: str) -> str | None:
    """The one paper this message shows; None when it shows several, none, or is unknown."""
    papers = papers_of(session, channel_id, message_id)
    return papers[0] if papers is not None and len(papers) == 1 else None
