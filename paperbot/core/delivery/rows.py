"""New Delivery rows: one typed builder that writes every column, and the insert that dedupes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from paperbot.core.delivery.status import DIGEST, DeliveryStatus
from paperbot.core.models import Delivery


class DeliveryRow(TypedDict):
    """Every column of a new Delivery row (the ids come from the database)."""

    channel_id: int
    slot: str
    # "digest" | "roundup"
    kind: str
    scheduled_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime
    claimed_by: str | None
    # A datetime, None, or a SQL expression (clock.db_now) for rows inserted already claimed.
    lease_until: Any
    claim_version: int
    missed_before: int
    digest: dict[str, Any] | None
    error: str | None
    created_at: datetime
    sent_at: datetime | None


def delivery_row(
    channel_id: int,
    slot: str,
    at: datetime,
    *,
    now: datetime,
    status: DeliveryStatus = DeliveryStatus.PENDING,
    missed_before: int = 0,
    kind: str = DIGEST,
) -> DeliveryRow:
    """A new row for the channel's slot firing at `at`.

    Always the same keys: a multi-row INSERT compiles its VALUES from the first row's keys,
    so rows with different key sets (a paused channel's skipped row beside pending ones)
    would fail to compile for all of them.
    """
    return DeliveryRow(
        channel_id=channel_id,
        slot=slot,
        kind=kind,
        scheduled_at=at,
        status=str(status),
        attempts=0,
        next_attempt_at=at,
        claimed_by=None,
        lease_until=None,
        claim_version=0,
        missed_before=missed_before,
        digest=None,
        error=None,
        created_at=now,
        sent_at=None,
    )


def insert_ignore(session: Session, rows: list[DeliveryRow]) -> list[int]:
    """INSERT .. ON CONFLICT (channel, slot) DO NOTHING; the ids actually inserted.

    RETURNING, not rowcount: psycopg 3 reports -1 for multi-row ON CONFLICT inserts.
    """
    ins = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    out: list[int] = []
    for i in range(0, len(rows), 500):
        stmt = (
            ins(Delivery)
            .values([dict(row) for row in rows[i : i + 500]])
            .on_conflict_do_nothing(index_elements=["channel_id", "slot"])
            .returning(Delivery.id)
        )
        out.extend(session.scalars(stmt).all())
    return out
