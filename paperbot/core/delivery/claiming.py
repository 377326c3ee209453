"""Claiming deliveries: one claimable(now) expression, leases on the database clock, fencing.

Slots and backoffs are judged at the pass's `now` (so `paperbot deliver --now` works), leases
by the database's clock (so a replica whose clock runs ahead cannot take a row another is
posting). Every claim increments claim_version, the fencing token: a worker records anything
only while the row is still claimed with its version.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.clock import db_now
from paperbot.core.db import transaction
from paperbot.core.delivery.status import MANUAL, DeliveryStatus
from paperbot.core.models import Channel, Delivery, WorkspaceState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """A delivery this worker holds, as of its claim."""

    id: int
    channel_id: int
    platform: str
    version: int
    attempts: int
    scheduled_at: datetime
    missed_before: int
    manual: bool
    kind: str = "digest"


def claimable(now: datetime) -> ColumnElement[bool]:
    """Rows a worker may take at `now`: due pending ones, and claimed ones whose lease ran out."""
    return and_(
        Delivery.next_attempt_at <= now,
        or_(
            Delivery.status == DeliveryStatus.PENDING,
            and_(Delivery.status == DeliveryStatus.CLAIMED, Delivery.lease_until < db_now()),
        ),
    )


def workspace_paused() -> ColumnElement[bool]:
    """The channel's workspace (or its whole platform, workspace "*") is paused."""
    return exists().where(
        WorkspaceState.platform == Channel.platform,
        WorkspaceState.workspace.in_([Channel.workspace, "*"]),
        WorkspaceState.paused_at.is_not(None),
    )


def ours(claim: Claim) -> ColumnElement[bool]:
    """The row is still claimed under this claim's fencing token."""
    return and_(
        Delivery.id == claim.id,
        Delivery.status == DeliveryStatus.CLAIMED,
        Delivery.claim_version == claim.version,
    )


def claim_next(
    session_factory: sessionmaker[Session],
    *,
    now: datetime,
    worker_id: str,
    platforms: list[str],
    lease_seconds: float,
) -> Claim | None:
    """Take the next claimable row of these platforms, or None when there is none."""
    for _ in range(5):
        with transaction(session_factory) as session:
            query = (
                select(Delivery.id, Channel.platform)
                .join(Channel, Channel.id == Delivery.channel_id)
                .where(claimable(now), Channel.platform.in_(platforms), ~workspace_paused())
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
                .where(Delivery.id == found, claimable(now))
                .values(
                    status=DeliveryStatus.CLAIMED,
                    claimed_by=worker_id,
                    lease_until=db_now(lease_seconds),
                    claim_version=Delivery.claim_version + 1,
                )
                .returning(
                    Delivery.channel_id,
                    Delivery.claim_version,
                    Delivery.attempts,
                    Delivery.scheduled_at,
                    Delivery.missed_before,
                    Delivery.slot,
                    Delivery.kind,
                )
                .execution_options(synchronize_session=False)
            ).first()
            if won is not None:
                cid, version, attempts, at, missed, slot, kind = won
                manual = slot.startswith(MANUAL)
                return Claim(found, cid, platform, version, attempts, at, missed, manual, kind)
    return None


def renew(session_factory: sessionmaker[Session], claim: Claim, lease_seconds: float) -> bool:
    """Extend our lease by the database's clock; False if it ran out or is someone else's."""
    with transaction(session_factory) as session:
        kept = session.execute(
            update(Delivery)
            .where(ours(claim), Delivery.lease_until > db_now())
            .values(lease_until=db_now(lease_seconds))
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        ).first()
        return kept is not None


class Renewer:
    """Renews a claim's lease every third of it while the block runs; `lost` once it fails.

    A sender checks `lost` (and renews) before each message, so it never starts a post that
    could outlive its lease.
    """

    def __init__(
        self, session_factory: sessionmaker[Session], claim: Claim, lease_seconds: float
    ) -> None:
        self._factory, self._claim, self._lease = session_factory, claim, lease_seconds
        self._stop = threading.Event()
        self.lost = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{claim.id}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._lease / 3):
            try:
                if not renew(self._factory, self._claim, self._lease):
                    self.lost.set()
                    return
            except Exception:
                log.warning("could not renew the lease of delivery %s", self._claim.id)

    def renew_now(self) -> bool:
        """Renew before a post; False (and lost) when the claim is no longer ours."""
        if self.lost.is_set():
            return False
        if not renew(self._factory, self._claim, self._lease):
            self.lost.set()
        return not self.lost.is_set()

    def __enter__(self) -> Renewer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Any:
        self._stop.set()
        self._thread.join()
        return None


# Outside the PaperbotError tree on purpose: it is control flow inside one delivery (sending
# stops and leaves the row to its new owner), never a failure to explain to anyone. Were it a
# PaperbotError, `Paperbot.execute` would answer "/papers digest" with its text should it ever
# escape; as a plain Exception an escape is logged as the bug it would be.
class LostClaim(Exception):
    """The row is no longer ours (its lease ran out and another worker claimed it)."""
