"""Planning digests: which (channel, slot) rows are due at `now`, inserted once by any tick."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import Settings
from paperbot.core import schedule
from paperbot.core.db import transaction
from paperbot.core.models import Channel, Delivery

# Slot keys of `/papers digest` posts; they don't count as scheduled history.
MANUAL = "manual-"


def insert_ignore(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """INSERT .. ON CONFLICT (channel, slot) DO NOTHING; the ids actually inserted.

    RETURNING, not rowcount: psycopg 3 reports -1 for multi-row ON CONFLICT inserts.
    """
    ins = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    out: list[int] = []
    for i in range(0, len(rows), 500):
        stmt = (
            ins(Delivery)
            .values(rows[i : i + 500])
            .on_conflict_do_nothing(index_elements=["channel_id", "slot"])
            .returning(Delivery.id)
        )
        out.extend(session.scalars(stmt).all())
    return out


def delivery_row(
    channel_id: int,
    slot: str,
    at: datetime,
    now: datetime,
    *,
    status: str = "pending",
    error: str | None = None,
    missed_before: int = 0,
    claimed_by: str | None = None,
    lease_until: datetime | None = None,
    attempts: int = 0,
) -> dict[str, Any]:
    """Every column of a new Delivery row, always the same keys.

    A multi-row INSERT compiles its VALUES from the first row's keys: rows with different key
    sets (a paused channel's "skipped" row beside pending ones) fail to compile for all of them.
    """
    return {
        "channel_id": channel_id,
        "slot": slot,
        "scheduled_at": at,
        "status": status,
        "attempts": attempts,
        "next_attempt_at": at,
        "claimed_by": claimed_by,
        "lease_until": lease_until,
        "send_started": False,
        "missed_before": missed_before,
        "message_ids": [],
        "error": error,
        "created_at": now,
        "sent_at": None,
    }


def _history(session: Session, ids: list[int]) -> dict[int, tuple[datetime, int]]:
    """Per channel: its newest planned slot, and how many slots since its last real one expired
    unsent (status "missed": planned, but not sent within the grace)."""
    not_manual = ~Delivery.slot.startswith(MANUAL)
    ok_at = func.max(case((Delivery.status != "missed", Delivery.scheduled_at)))
    out: dict[int, tuple[datetime, int]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        stats = session.execute(
            select(Delivery.channel_id, func.max(Delivery.scheduled_at), ok_at)
            .where(Delivery.channel_id.in_(chunk), not_manual)
            .group_by(Delivery.channel_id)
        ).all()
        for cid, last, last_ok in stats:
            expired = 0
            if last_ok is None or last_ok < last:
                query = select(func.count()).where(
                    Delivery.channel_id == cid, Delivery.status == "missed", not_manual
                )
                if last_ok is not None:
                    query = query.where(Delivery.scheduled_at > last_ok)
                expired = session.scalar(query) or 0
            out[cid] = (last, expired)
    return out


def plan_due(session_factory: sessionmaker[Session], *, now: datetime, settings: Settings) -> int:
    """Insert the Delivery rows of every slot due at `now`; duplicates from other ticks vanish."""
    grace = timedelta(hours=settings.digest.grace_hours)
    window = now - grace
    with transaction(session_factory) as session:
        channels = session.scalars(select(Channel).where(Channel.removed_at.is_(None))).all()
        # Only channels with a slot inside the grace window can be due: look up their history.
        candidates = [
            c for c in channels if schedule.due_slot(c, now=now, since=window, grace=grace)
        ]
        history = _history(session, [c.id for c in candidates])
        rows: list[dict[str, Any]] = []
        for channel in candidates:
            last, expired = history.get(channel.id, (None, 0))
            if last is not None:
                since = last
            else:
                # A channel's first digest: its newest slot in the grace (missed nothing yet).
                # A `--now` before the channel was added judges by the grace alone.
                created = channel.created_at
                since = max(created, window) if created <= now else window
            due = schedule.due_slot(channel, now=now, since=since, grace=grace)
            if due is None:
                continue
            # A paused channel's slot is recorded as skipped, so resuming does not report
            # the paused days as missed.
            rows.append(
                delivery_row(
                    channel.id,
                    due.slot.key,
                    due.slot.at,
                    now,
                    status="skipped" if channel.paused else "pending",
                    error="paused" if channel.paused else None,
                    missed_before=due.missed + expired,
                )
            )
        return len(insert_ignore(session, rows)) if rows else 0


def expire_missed(
    session_factory: sessionmaker[Session], *, now: datetime, settings: Settings
) -> int:
    """Unsent slots older than the grace are not posted late; the next digest counts them."""
    cutoff = now - timedelta(hours=settings.digest.grace_hours)
    with transaction(session_factory) as session:
        result = session.execute(
            update(Delivery)
            .where(
                Delivery.scheduled_at < cutoff,
                Delivery.send_started.is_(False),
                or_(
                    Delivery.status == "pending",
                    and_(Delivery.status == "claimed", Delivery.lease_until < now),
                ),
            )
            .values(status="missed", error="not sent within the grace period", lease_until=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)
