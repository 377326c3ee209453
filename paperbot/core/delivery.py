"""Exactly-once digests: claim planned slots with a lease, send, record the outcome."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import Settings
from paperbot.core import metrics
from paperbot.core.db import transaction
from paperbot.core.messages import ChannelRef, Digest
from paperbot.core.models import Channel, Delivery, Paper, PostedPaper
from paperbot.core.planning import MANUAL, delivery_row, expire_missed, insert_ignore, plan_due
from paperbot.core.ports import ChatPlatform, DeliveryError

log = logging.getLogger(__name__)

__all__ = ["DeliveryOutcome", "DeliveryReport", "deliver_due", "deliver_now", "plan_due"]

DigestBuilder = Callable[[Session, Channel, datetime, int], Digest]
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
Status = Literal[
    "sent", "reconciled", "empty", "skipped", "retry", "failed", "paused", "expired", "duplicate"
]


@dataclass(frozen=True)
class DeliveryOutcome:
    status: Status
    delivery_id: int | None
    message: str
    message_ids: tuple[str, ...] = ()


@dataclass
class DeliveryReport:
    planned: int = 0
    sent: int = 0
    reconciled: int = 0
    skipped_empty: int = 0
    skipped: int = 0
    failed_retryable: int = 0
    failed: int = 0
    paused: int = 0
    expired: int = 0

    def add(self, outcome: DeliveryOutcome) -> None:
        name = {"empty": "skipped_empty", "retry": "failed_retryable"}.get(outcome.status)
        name = name or outcome.status
        if name in {f.name for f in fields(self)}:
            setattr(self, name, getattr(self, name) + 1)

    def summary(self) -> str:
        return ", ".join(
            f"{f.name.replace('_', ' ')} {getattr(self, f.name)}" for f in fields(self)
        )


@dataclass(frozen=True)
class _Claim:
    id: int
    channel_id: int
    platform: str
    attempts: int
    send_started: bool
    missed_before: int
    manual: bool


class _Clock:
    """The pass's instant plus the real time elapsed since, so leases stay honest in long passes."""

    def __init__(self, now: datetime) -> None:
        self.start, self._t0 = now, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._t0)


def _claim(
    session_factory: sessionmaker[Session],
    now: datetime,
    worker_id: str,
    settings: Settings,
    platforms: list[str],
) -> _Claim | None:
    claimable = and_(
        Delivery.next_attempt_at <= now,
        or_(
            Delivery.status == "pending",
            and_(Delivery.status == "claimed", Delivery.lease_until < now),
        ),
    )
    for _ in range(5):
        with transaction(session_factory) as session:
            query = (
                select(Delivery.id, Channel.platform)
                .join(Channel, Channel.id == Delivery.channel_id)
                .where(claimable, Channel.platform.in_(platforms))
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(1)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(of=Delivery, skip_locked=True)
            candidate = session.execute(query).first()
            if candidate is None:
                return None
            found, platform = candidate
            # Compare-and-set: on SQLite (no row locks) this is what makes the claim exclusive.
            won = session.execute(
                update(Delivery)
                .where(Delivery.id == found, claimable)
                .values(
                    status="claimed",
                    claimed_by=worker_id,
                    lease_until=now + timedelta(seconds=settings.digest.lease_seconds),
                    attempts=Delivery.attempts + 1,
                )
                .returning(
                    Delivery.channel_id,
                    Delivery.attempts,
                    Delivery.send_started,
                    Delivery.missed_before,
                    Delivery.slot,
                )
                .execution_options(synchronize_session=False)
            ).first()
            if won is not None:
                cid, attempts, started, missed, slot = won
                manual = slot.startswith(MANUAL)
                return _Claim(found, cid, platform, attempts, started, missed, manual)
    return None


def _still_mine(claim: _Claim, worker_id: str) -> Any:
    return and_(
        Delivery.id == claim.id,
        Delivery.status == "claimed",
        Delivery.claimed_by == worker_id,
        Delivery.attempts == claim.attempts,
    )


def _finish(session: Session, claim: _Claim, **values: Any) -> None:
    values.setdefault("lease_until", None)
    session.execute(
        update(Delivery)
        .where(Delivery.id == claim.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _record_sent(
    session_factory: sessionmaker[Session], claim: _Claim, ids: list[str], at: datetime
) -> None:
    """One transaction: the delivery is sent, its message ids and its papers are posted."""
    with transaction(session_factory) as session:
        _finish(session, claim, status="sent", message_ids=list(ids), sent_at=at, error=None)
        session.execute(
            update(PostedPaper)
            .where(PostedPaper.delivery_id == claim.id)
            .values(posted_at=at)
            .execution_options(synchronize_session=False)
        )


def _reserve(session: Session, claim: _Claim, keys: list[str], at: datetime) -> None:
    """Write the digest's papers before posting, so a crash after the post knows what went out."""
    if not keys:
        return
    ids = session.scalars(select(Paper.id).where(Paper.key.in_(keys))).all()
    ins = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    rows = [
        {"channel_id": claim.channel_id, "paper_id": pid, "delivery_id": claim.id, "posted_at": at}
        for pid in ids
    ]
    if rows:
        session.execute(
            ins(PostedPaper)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["channel_id", "paper_id"])
        )


def _unreserve(session: Session, claim: _Claim) -> None:
    session.execute(delete(PostedPaper).where(PostedPaper.delivery_id == claim.id))


def _backoff(attempts: int, retry_after: float | None) -> timedelta:
    wait = min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)
    return max(wait, timedelta(seconds=retry_after or 0))


def _failed(
    session_factory: sessionmaker[Session],
    claim: _Claim,
    channel: ChannelRef,
    exc: DeliveryError,
    *,
    now: datetime,
    settings: Settings,
) -> DeliveryOutcome:
    metrics.digest_failed(channel.platform, retryable=exc.retryable)
    reason = exc.reason[:500]
    with transaction(session_factory) as session:
        if not exc.retryable:
            _unreserve(session, claim)
            _finish(session, claim, status="failed", error=reason, send_started=False)
            session.execute(
                update(Channel)
                .where(Channel.id == claim.channel_id)
                .values(paused=True, pause_reason=reason)
                .execution_options(synchronize_session=False)
            )
            log.warning("delivery %s to %s paused the channel: %s", claim.id, channel, reason)
            return DeliveryOutcome("paused", claim.id, f"I cannot post here ({reason}).")
        if claim.attempts >= settings.digest.max_attempts:
            _unreserve(session, claim)
            _finish(session, claim, status="failed", error=reason, send_started=False)
            log.warning("delivery %s to %s gave up: %s", claim.id, channel, reason)
            return DeliveryOutcome("failed", claim.id, f"Posting failed ({reason}).")
        # send_started stays set: the next attempt asks find_posted before posting again.
        retry_at = now + _backoff(claim.attempts, exc.retry_after)
        _finish(session, claim, status="pending", error=reason, next_attempt_at=retry_at)
    log.info("delivery %s to %s will retry at %s: %s", claim.id, channel, retry_at, reason)
    return DeliveryOutcome(
        "retry", claim.id, f"Posting failed for now ({reason}); paperbot will retry shortly."
    )


def _process(
    session_factory: sessionmaker[Session],
    platform: ChatPlatform,
    build: DigestBuilder,
    claim: _Claim,
    *,
    now: datetime,
    clock: Callable[[], datetime],
    settings: Settings,
    worker_id: str,
) -> DeliveryOutcome:
    with session_factory() as session:
        channel = session.get(Channel, claim.channel_id)
        if channel is None:
            return DeliveryOutcome("skipped", claim.id, "Not posted: channel removed.")
        ref = ChannelRef(channel.platform, channel.workspace, channel.channel)
        gone = channel.removed_at is not None or (channel.paused and not claim.manual)
        reason = "channel removed" if channel.removed_at is not None else "paused"
    try:
        return _send(
            session_factory,
            platform,
            build,
            claim,
            ref,
            gone=gone,
            reason=reason,
            now=now,
            clock=clock,
            worker_id=worker_id,
        )
    except DeliveryError as exc:
        return _failed(session_factory, claim, ref, exc, now=clock(), settings=settings)
    except Exception as exc:  # an adapter bug or a network error it did not classify
        log.exception("delivery %s to %s failed unexpectedly", claim.id, ref)
        error = DeliveryError(f"unexpected error: {type(exc).__name__}", retryable=True)
        return _failed(session_factory, claim, ref, error, now=clock(), settings=settings)


def _send(
    session_factory: sessionmaker[Session],
    platform: ChatPlatform,
    build: DigestBuilder,
    claim: _Claim,
    ref: ChannelRef,
    *,
    gone: bool,
    reason: str,
    now: datetime,
    clock: Callable[[], datetime],
    worker_id: str,
) -> DeliveryOutcome:
    key = str(claim.id)
    if claim.send_started:
        # The previous holder may have posted and died before recording it: ask first.
        found = platform.find_posted(ref, key)
        if found:
            _record_sent(session_factory, claim, found, clock())
            metrics.digest_sent(ref.platform)
            log.info("delivery %s to %s was already posted: recorded", claim.id, ref)
            return DeliveryOutcome("reconciled", claim.id, "Already posted.", tuple(found))
    if gone:
        with transaction(session_factory) as tx:
            _unreserve(tx, claim)
            _finish(tx, claim, status="skipped", error=reason, send_started=False)
        return DeliveryOutcome("skipped", claim.id, f"Not posted: {reason}.")
    with transaction(session_factory) as tx:
        _unreserve(tx, claim)
    with session_factory() as session:
        channel = session.get(Channel, claim.channel_id)
        assert channel is not None
        digest = build(session, channel, now, claim.missed_before)
        post_empty = channel.post_empty
    if not digest.papers and not post_empty:
        with transaction(session_factory) as tx:
            _finish(tx, claim, status="skipped", error="empty", send_started=False)
        return DeliveryOutcome("empty", claim.id, "No new papers for this channel yet.")
    with transaction(session_factory) as tx:
        mine = tx.execute(
            update(Delivery)
            .where(_still_mine(claim, worker_id))
            .values(send_started=True)
            .execution_options(synchronize_session=False)
        )
        if not getattr(mine, "rowcount", 0):
            return DeliveryOutcome("skipped", claim.id, "Lease lost to another worker.")
        _reserve(tx, claim, [p.key for p in digest.papers], clock())
    ids = platform.post_digest(ref, digest, idempotency_key=key)
    _record_sent(session_factory, claim, ids, clock())
    metrics.digest_sent(ref.platform)
    n = len(digest.papers)
    return DeliveryOutcome(
        "sent", claim.id, f"Posted a digest of {n} paper{'s' if n != 1 else ''}.", tuple(ids)
    )


def deliver_due(
    session_factory: sessionmaker[Session],
    platforms: Mapping[str, ChatPlatform],
    build: DigestBuilder,
    *,
    now: datetime,
    worker_id: str,
    settings: Settings,
) -> DeliveryReport:
    """One delivery pass as of `now`: plan due slots, then claim and send until none is left."""
    report = DeliveryReport()
    report.planned = plan_due(session_factory, now=now, settings=settings)
    report.expired = expire_missed(session_factory, now=now, settings=settings)
    clock = _Clock(now)
    seen: set[int] = set()
    while platforms:
        claim = _claim(session_factory, clock(), worker_id, settings, sorted(platforms))
        if claim is None or claim.id in seen:
            break
        seen.add(claim.id)
        platform = platforms[claim.platform]
        report.add(
            _process(
                session_factory,
                platform,
                build,
                claim,
                now=now,
                clock=clock,
                settings=settings,
                worker_id=worker_id,
            )
        )
    return report


def deliver_now(
    session_factory: sessionmaker[Session],
    platform: ChatPlatform,
    channel_id: int,
    build: DigestBuilder,
    *,
    now: datetime,
    settings: Settings,
    worker_id: str,
) -> DeliveryOutcome:
    """Post a channel's next digest now (`/papers digest`); a double-click posts once."""
    slot = MANUAL + now.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
    lease = now + timedelta(seconds=settings.digest.lease_seconds)
    with transaction(session_factory) as session:
        # Inserted already claimed, so a concurrent delivery pass cannot take it first.
        row = delivery_row(
            channel_id,
            slot,
            now,
            now,
            status="claimed",
            claimed_by=worker_id,
            lease_until=lease,
            attempts=1,
        )
        inserted = insert_ignore(session, [row])
    if not inserted:
        return DeliveryOutcome("duplicate", None, "A digest was just posted here a moment ago.")
    claim = _Claim(inserted[0], channel_id, platform.name, 1, False, 0, True)
    return _process(
        session_factory,
        platform,
        build,
        claim,
        now=now,
        clock=_Clock(now),
        settings=settings,
        worker_id=worker_id,
    )
