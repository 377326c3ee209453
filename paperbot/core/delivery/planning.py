"""Planning digests: which (channel, slot) rows are due at `now`, inserted once by any tick.

Each channel is planned on its own: a stored row that no longer works (a time zone tzdata
dropped, a schedule that does not parse) pauses that channel with a reason a person can act
on, and the others are planned as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy import and_, case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.channels import schedule
from paperbot.core.db import transaction
from paperbot.core.delivery import pauses
from paperbot.core.delivery.rows import DeliveryRow, delivery_row, insert_ignore
from paperbot.core.delivery.status import DIGEST, MANUAL, ROUNDUP, DeliveryStatus, PauseKind
from paperbot.core.engage.weekly import schedule_of as roundup_schedule
from paperbot.core.messages import ChannelRef
from paperbot.core.models import Channel, Delivery
from paperbot.core.panics import recoverable

log = logging.getLogger(__name__)


@dataclass
class Plan:
    planned: int = 0
    # (channel, reason) for each channel that could not be planned.
    troubles: list[tuple[ChannelRef, str]] = field(default_factory=list)


def _history(
    session: Session, ids: list[int], kind: str = DIGEST
) -> dict[int, tuple[datetime, int]]:
    """Per channel: its newest planned slot of this kind, and how many slots since its last
    real one expired untried (status missed: paperbot was offline)."""
    not_manual = and_(~Delivery.slot.startswith(MANUAL), Delivery.kind == kind)
    ok_at = func.max(case((Delivery.status != DeliveryStatus.MISSED, Delivery.scheduled_at)))
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
                    Delivery.channel_id == cid, Delivery.status == DeliveryStatus.MISSED, not_manual
                )
                if last_ok is not None:
                    query = query.where(Delivery.scheduled_at > last_ok)
                expired = session.scalar(query) or 0
            out[cid] = (last, expired)
    return out


def _invalid(channel: Channel, exc: BaseException) -> str:
    if isinstance(exc, ZoneInfoNotFoundError) or (
        isinstance(exc, ValueError | KeyError) and "zone" in str(exc).lower()
    ):
        return f"unknown time zone {channel.timezone!r}: run /papers schedule"
    return (
        f"the schedule {channel.digest_time!r} on {channel.days!r} no longer works:"
        " run /papers schedule"
    )


def _due_row(
    channel: Channel,
    history: tuple[datetime, int] | None,
    *,
    now: datetime,
    grace: timedelta,
    kind: str = DIGEST,
) -> DeliveryRow | None:
    window = now - grace
    last, expired = history or (None, 0)
    if last is not None:
        since = last
    else:
        # A channel's first digest: its newest slot in the grace (missed nothing yet).
        # A `--now` before the channel was added judges by the grace alone.
        since = max(channel.created_at, window) if channel.created_at <= now else window
    shape = roundup_schedule(channel) if kind == ROUNDUP else channel
    if shape is None:
        return None
    due = schedule.due_slot(shape, now=now, since=since, grace=grace)
    if due is None:
        return None
    key = f"{ROUNDUP}-{due.slot.key}" if kind == ROUNDUP else due.slot.key
    # A paused channel's slot is recorded as skipped, so resuming does not report the paused
    # days as missed.
    row = delivery_row(
        channel.id,
        key,
        due.slot.at,
        now=now,
        status=DeliveryStatus.SKIPPED if channel.paused else DeliveryStatus.PENDING,
        missed_before=due.missed + expired,
        kind=kind,
    )
    if channel.paused:
        row["error"] = f"paused: {channel.pause_reason or 'yes'}"
    return row


def plan_due(session_factory: sessionmaker[Session], *, now: datetime, grace: timedelta) -> Plan:
    """Insert the Delivery rows of every slot due at `now`; duplicates from other ticks vanish."""
    plan = Plan()
    with transaction(session_factory) as session:
        channels = session.scalars(select(Channel).where(Channel.removed_at.is_(None))).all()
        candidates: list[Channel] = []
        for channel in channels:
            ref = ChannelRef(channel.platform, channel.workspace, channel.channel)
            try:
                # Only channels with a slot inside the grace window can be due.
                if schedule.due_slot(channel, now=now, since=now - grace, grace=grace):
                    candidates.append(channel)
            except (ValueError, LookupError) as exc:
                if channel.paused:
                    continue  # paused already, with its reason: nothing new to report
                reason = _invalid(channel, exc)
                pauses.pause(session, [Channel.id == channel.id], reason, PauseKind.SCHEDULE)
                log.warning("%s: paused: %s", ref, reason)
                plan.troubles.append((ref, reason))
            except BaseException as exc:
                if not recoverable(exc):
                    raise
                log.warning("%s: could not be planned: %s", ref, type(exc).__name__)
                plan.troubles.append((ref, f"could not be planned ({type(exc).__name__})"))
        history = _history(session, [c.id for c in candidates])
        rows = [
            row
            for channel in candidates
            if (row := _due_row(channel, history.get(channel.id), now=now, grace=grace))
        ]
        rows += _roundup_rows(session, channels, plan, now=now, grace=grace)
        plan.planned = _insert(session, rows)
    return plan


def _roundup_rows(
    session: Session, channels: Sequence[Channel], plan: Plan, *, now: datetime, grace: timedelta
) -> list[DeliveryRow]:
    """The weekly roundups due at `now`: planned like digests, as rows of kind roundup. A
    roundup that cannot be planned is reported, and leaves the channel's digest alone."""
    due: list[Channel] = []
    for channel in channels:
        shape = roundup_schedule(channel)
        if shape is None:
            continue
        try:
            if schedule.due_slot(shape, now=now, since=now - grace, grace=grace):
                due.append(channel)
        except (ValueError, LookupError):
            ref = ChannelRef(channel.platform, channel.workspace, channel.channel)
            plan.troubles.append((ref, "the weekly roundup's schedule no longer works"))
    history = _history(session, [c.id for c in due], ROUNDUP)
    return [
        row
        for channel in due
        if (row := _due_row(channel, history.get(channel.id), now=now, grace=grace, kind=ROUNDUP))
    ]


def _insert(session: Session, rows: list[DeliveryRow]) -> int:
    """All rows at once; if that fails, one at a time, so one bad row stops only itself."""
    if not rows:
        return 0
    try:
        with session.begin_nested():
            return len(insert_ignore(session, rows))
    except SQLAlchemyError:
        log.warning("planning %d rows at once failed; planning them one by one", len(rows))
    done = 0
    for row in rows:
        try:
            with session.begin_nested():
                done += len(insert_ignore(session, [row]))
        except SQLAlchemyError as exc:
            log.warning("channel %s: its slot could not be planned: %s", row["channel_id"], exc)
    return done
