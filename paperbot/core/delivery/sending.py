"""Sending one claimed delivery: reconcile unknown outcomes, post the missing parts, record.

Per part: renew the lease (fenced, by the database's clock), mark the part started, post it,
record its message id. A post whose outcome is unknown leaves the part started: the next
holder asks the platform (find_posted) first, posts again only when the platform says it is
not there, or, when the platform cannot tell, after the slot's grace deadline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from paperbot.core import metrics
from paperbot.core.clock import db_now
from paperbot.core.db import transaction
from paperbot.core.delivery import outcomes, reserving
from paperbot.core.delivery.claiming import Claim, LostClaim, Renewer, ours
from paperbot.core.delivery.deps import DeliveryDeps
from paperbot.core.delivery.report import DeliveryOutcome
from paperbot.core.delivery.reserving import Part, Reserved
from paperbot.core.delivery.status import DeliveryStatus
from paperbot.core.messages import ChannelRef
from paperbot.core.models import Channel, Delivery, DeliveryPart
from paperbot.core.panics import recoverable
from paperbot.core.ports import ChatPlatform, DeliveryError

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
CHECKING = "waiting to check whether a post went out"


def process(deps: DeliveryDeps, claim: Claim, *, now: datetime, clock: Clock) -> DeliveryOutcome:
    """Deliver one claim; whatever goes wrong is recorded on this delivery alone."""
    with deps.session_factory() as session:
        channel = session.get(Channel, claim.channel_id)
        if channel is None:
            return DeliveryOutcome("skipped", claim.id, "Not posted: channel removed.")
        ref = ChannelRef(channel.platform, channel.workspace, channel.channel)
        gone = None
        if channel.removed_at is not None:
            gone = "channel removed"
        elif channel.paused and not claim.manual:
            gone = "paused"
    sender = Sender(deps, claim, ref, deps.platforms[ref.platform], clock)
    try:
        with Renewer(deps.session_factory, claim, deps.lease) as renewer:
            return sender.send(renewer, now=now, gone=gone)
    except LostClaim:
        log.info("%s: delivery %s was taken over by another worker", ref, claim.id)
        return DeliveryOutcome("skipped", claim.id, "Another paperbot worker took this over.")
    except DeliveryError as exc:
        return outcomes.failed(deps, claim, ref, exc, now=clock(), attempts=sender.tried)
    except BaseException as exc:
        if not recoverable(exc):
            raise  # the process is exiting: the lease runs out, another worker reconciles
        # One line (from outcomes) names it; the traceback is there for debugging.
        log.debug("%s: delivery %s failed unexpectedly", ref, claim.id, exc_info=True)
        error = DeliveryError(f"unexpected error: {type(exc).__name__}", retryable=True)
        return outcomes.failed(deps, claim, ref, error, now=clock(), attempts=sender.tried)


class Sender:
    """One claim's send; `attempts` counts this claim's first post as an attempt."""

    def __init__(
        self,
        deps: DeliveryDeps,
        claim: Claim,
        ref: ChannelRef,
        platform: ChatPlatform,
        clock: Clock,
    ) -> None:
        self.deps, self.claim, self.ref = deps, claim, ref
        self.platform, self.clock = platform, clock
        self.attempts = claim.attempts

    @property
    def tried(self) -> int:
        """Attempts including this claim: a failure before any post (building the digest,
        rendering it) counts too, or a channel whose digest never builds would retry forever
        and read as "offline"."""
        return max(self.attempts, self.claim.attempts + 1)

    def send(self, renewer: Renewer, *, now: datetime, gone: str | None) -> DeliveryOutcome:
        claim = self.claim
        with self.deps.session_factory() as session:
            reserved = reserving.load(session, claim.id)
        started = reserved is not None and any(p.message_id or p.unknown for p in reserved.parts)
        if gone and not started:
            return self._close(DeliveryStatus.SKIPPED, gone, f"Not posted: {gone}.")
        if reserved is None:
            reserved = reserving.reserve(self.deps, claim, self.platform, now)
            if reserved is None:
                return self._empty()
        reconciled = False
        if any(p.unknown for p in reserved.parts):
            found = self._reconcile(reserved)
            if found is None:
                text = "Posting may not have gone through; paperbot will check and retry."
                return DeliveryOutcome("reconciling", claim.id, text, (), self.ref, CHECKING)
            reserved, reconciled = found, all(p.message_id for p in found.parts)
        for part in reserved.parts:
            if part.message_id is None:
                self._post(renewer, reserved, part)
        ids = self._finish_sent()
        metrics.digest_sent(self.ref.platform)
        if reconciled:
            log.info("%s: delivery %s was already posted: recorded", self.ref, claim.id)
            return DeliveryOutcome("reconciled", claim.id, "Already posted.", ids, self.ref)
        n = len(reserved.digest.papers)
        what = "the week's roundup" if reserved.digest.kind == "roundup" else "a digest"
        text = f"Posted {what} of {n} paper{'s' if n != 1 else ''}."
        return DeliveryOutcome("sent", claim.id, text, ids, self.ref)

    # --- steps ----------------------------------------------------------------------------

    def _post(self, renewer: Renewer, reserved: Reserved, part: Part) -> None:
        if not renewer.renew_now():
            raise LostClaim(self.claim.id)
        first = self.attempts == self.claim.attempts
        self._start(part, first=first)
        if first:
            self.attempts += 1
        try:
            message_id = self.platform.post_part(
                self.ref, reserved.digest, part.part, idempotency_key=str(self.claim.id)
            )
        except DeliveryError as exc:
            if not exc.outcome_unknown:
                self._unstart(part)
            raise
        self._record(part, message_id)

    def _reconcile(self, reserved: Reserved) -> Reserved | None:
        """Ask the platform which parts went out; None: it cannot tell yet, ask again later."""
        since = min(p.started_at for p in reserved.parts if p.started_at is not None)
        found = self.platform.find_posted(self.ref, str(self.claim.id), since=since)
        if found is None:
            if self.clock() < self.claim.scheduled_at + self.deps.grace:
                wait = timedelta(seconds=self.deps.digest.reconcile_retry_seconds)
                self._reschedule(self.clock() + wait)
                return None
            # Past the slot's grace: posting again beats losing the digest (counted, since it
            # may be a duplicate).
            log.warning("%s: delivery %s not reconciled by its deadline", self.ref, self.claim.id)
            metrics.posted_unreconciled(self.ref.platform)
            found = {}
        parts = []
        for part in reserved.parts:
            if part.message_id is None and part.part in found:
                self._record(part, found[part.part])
                part = Part(part.id, part.part, part.papers, found[part.part], part.started_at)
            elif part.unknown:
                self._unstart(part)  # the platform says it is not there: post it again
                part = Part(part.id, part.part, part.papers, None, None)
            parts.append(part)
        return Reserved(reserved.digest, tuple(parts))

    def _reschedule(self, at: datetime) -> None:
        with transaction(self.deps.session_factory) as tx:
            if not outcomes.finish(
                tx, self.claim, DeliveryStatus.PENDING, next_attempt_at=at, error=CHECKING
            ):
                raise LostClaim(self.claim.id)

    def _close(self, status: DeliveryStatus, error: str | None, text: str) -> DeliveryOutcome:
        with transaction(self.deps.session_factory) as tx:
            outcomes.release_unposted(tx, self.claim)
            if not outcomes.finish(tx, self.claim, status, error=error):
                raise LostClaim(self.claim.id)
        return DeliveryOutcome(str(status), self.claim.id, text)  # type: ignore[arg-type]

    def _empty(self) -> DeliveryOutcome:
        if not self.claim.manual:
            return self._close(DeliveryStatus.EMPTY, None, "No new papers for this channel yet.")
        # An empty manual digest uses nothing up: its row goes away.
        with transaction(self.deps.session_factory) as tx:
            tx.execute(delete(Delivery).where(ours(self.claim)))
        return DeliveryOutcome("empty", self.claim.id, "No new papers for this channel yet.")

    def _start(self, part: Part, *, first: bool) -> None:
        with transaction(self.deps.session_factory) as tx:
            mine = tx.execute(
                update(Delivery)
                .where(ours(self.claim))
                .values(attempts=Delivery.attempts + (1 if first else 0))
                .returning(Delivery.id)
                .execution_options(synchronize_session=False)
            ).first()
            if mine is None:
                raise LostClaim(self.claim.id)
            tx.execute(
                update(DeliveryPart).where(DeliveryPart.id == part.id).values(started_at=db_now())
            )

    def _unstart(self, part: Part) -> None:
        with transaction(self.deps.session_factory) as tx:
            tx.execute(
                update(DeliveryPart)
                .where(DeliveryPart.id == part.id, DeliveryPart.message_id.is_(None))
                .values(started_at=None)
            )

    def _record(self, part: Part, message_id: str) -> None:
        # Not fenced: a message that went out is a fact, whoever holds the row now.
        with transaction(self.deps.session_factory) as tx:
            tx.execute(
                update(DeliveryPart)
                .where(DeliveryPart.id == part.id, DeliveryPart.message_id.is_(None))
                .values(message_id=message_id[:64], posted_at=self.clock())
            )

    def _finish_sent(self) -> tuple[str, ...]:
        with transaction(self.deps.session_factory) as tx:
            if not outcomes.finish(
                tx, self.claim, DeliveryStatus.SENT, sent_at=self.clock(), error=None
            ):
                raise LostClaim(self.claim.id)
            ids = tx.scalars(
                select(DeliveryPart.message_id)
                .where(DeliveryPart.delivery_id == self.claim.id)
                .order_by(DeliveryPart.part)
            ).all()
        return tuple(i for i in ids if i)
