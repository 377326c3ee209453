"""A delivery pass (plan, expire, probe, claim and send, tell) and the manual `/papers digest`."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from paperbot.core.channels.zones import zone_or_utc
from paperbot.core.clock import db_now
from paperbot.core.db import transaction
from paperbot.core.delivery import expiry, history, notices, planning, sending, workspaces
from paperbot.core.delivery.claiming import Claim, claim_next
from paperbot.core.delivery.deps import DeliveryDeps
from paperbot.core.delivery.report import DeliveryOutcome, DeliveryReport
from paperbot.core.delivery.rows import delivery_row, insert_ignore
from paperbot.core.delivery.status import DIGEST, MANUAL, ROUNDUP, DeliveryStatus
from paperbot.core.models import Channel
from paperbot.core.panics import recoverable

log = logging.getLogger(__name__)
NOTHING_TO_ROUND_UP = "Nothing to round up: no papers were shown or shared here this past week."


class PassClock:
    """The pass's instant plus the real time elapsed since, so long passes stay honest."""

    def __init__(self, now: datetime) -> None:
        self.start, self._t0 = now, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._t0)


class Deliverer:
    """Delivery as the service uses it; every replica runs passes, the database decides."""

    def __init__(self, deps: DeliveryDeps) -> None:
        self.deps = deps

    def deliver_due(self, now: datetime) -> DeliveryReport:
        """One pass as of `now`: plan due slots, close expired ones, probe paused workspaces,
        send until nothing is claimable, then tell people about new pauses."""
        deps, report = self.deps, DeliveryReport()
        plan = planning.plan_due(deps.session_factory, now=now, grace=deps.grace)
        report.planned = plan.planned
        for ref, reason in plan.troubles:
            report.trouble(ref, reason)
        expired = expiry.expire(deps.session_factory, now=now, grace=deps.grace)
        report.missed, report.failed = expired.missed, expired.failed
        for where, reason in workspaces.probe_due(deps, now=now):
            report.trouble(where, f"workspace paused: {reason}")
        clock = PassClock(now)
        seen: set[int] = set()
        while deps.platforms:
            claim = claim_next(
                deps.session_factory,
                now=clock(),
                worker_id=deps.worker_id,
                platforms=sorted(deps.platforms),
                lease_seconds=deps.lease,
            )
            if claim is None or claim.id in seen:
                break
            seen.add(claim.id)
            report.add(sending.process(deps, claim, now=now, clock=clock))
        self._tell(now)
        return report

    def _tell(self, now: datetime) -> None:
        try:
            notices.tell_pending(self.deps, now=now)
        except BaseException as exc:
            if not recoverable(exc):
                raise
            log.warning("telling people about paused channels failed", exc_info=True)

    def deliver_now(self, channel_id: int, now: datetime, *, kind: str = DIGEST) -> DeliveryOutcome:
        """Post a channel's next digest (or its roundup) now (`/papers digest`); a double-click
        posts once."""
        deps = self.deps
        stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
        slot = MANUAL + (f"{ROUNDUP}-" if kind == ROUNDUP else "") + stamp
        row = delivery_row(channel_id, slot, now, now=now, status=DeliveryStatus.CLAIMED, kind=kind)
        # Inserted already claimed (by the database's clock), so no pass can take it first.
        row["claimed_by"], row["claim_version"] = deps.worker_id, 1
        row["lease_until"] = db_now(deps.lease)
        with transaction(deps.session_factory) as session:
            inserted = insert_ignore(session, [row])
            platform = session.get(Channel, channel_id)
            name = platform.platform if platform is not None else ""
        if not inserted:
            return DeliveryOutcome(
                "duplicate", None, f"A {kind} was just posted here a moment ago."
            )
        claim = Claim(inserted[0], channel_id, name, 1, 0, now, 0, True, kind)
        outcome = sending.process(deps, claim, now=now, clock=PassClock(now))
        self._tell(now)
        if outcome.status == "empty":
            text = NOTHING_TO_ROUND_UP if kind == ROUNDUP else self._nothing_new(channel_id)
            return DeliveryOutcome("empty", outcome.delivery_id, text)
        return outcome

    def _nothing_new(self, channel_id: int) -> str:
        with self.deps.session_factory() as session:
            channel = session.get(Channel, channel_id)
            last = history.last_sent(session, channel_id)
            zone = zone_or_utc(channel.timezone if channel else None)
        if last is None:
            return "No new papers for this channel yet."
        return (
            f"Nothing new since the last digest ({last.astimezone(zone):%a %d %b %H:%M}):"
            " every matching paper was already posted here."
        )
