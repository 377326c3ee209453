"""Recording how a claimed delivery ended: sent, retried later, given up, or paused.

Every record is fenced: it changes the row only while it is still claimed under this claim's
version, so a worker that lost its lease cannot overwrite what the new holder does.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from paperbot.core import metrics
from paperbot.core.db import transaction
from paperbot.core.delivery import pauses, workspaces
from paperbot.core.delivery.claiming import Claim, ours
from paperbot.core.delivery.deps import DeliveryDeps
from paperbot.core.delivery.report import DeliveryOutcome
from paperbot.core.delivery.status import DeliveryStatus, PauseKind, kind_of
from paperbot.core.messages import ChannelRef
from paperbot.core.models import Channel, Delivery, DeliveryPart, Paper, PostedPaper
from paperbot.core.ports import DeliveryError

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)


def retry_after(value: float | None) -> float | None:
    """A platform's Retry-After made safe: not a number or negative means "unknown" (the
    default backoff applies), and no wait is longer than an hour."""
    if value is None or not math.isfinite(value) or value < 0:
        return None
    return min(value, BACKOFF_MAX.total_seconds())


def backoff(attempts: int, wait: float | None) -> timedelta:
    base = min(BACKOFF_BASE * (2 ** min(max(attempts - 1, 0), 16)), BACKOFF_MAX)
    return max(base, timedelta(seconds=retry_after(wait) or 0))


def finish(session: Session, claim: Claim, status: DeliveryStatus, **values: Any) -> bool:
    """Close or reschedule the row if it is still ours; False if another worker holds it."""
    values.setdefault("lease_until", None)
    if status in DeliveryStatus.final():
        values.setdefault("digest", None)
    done = session.execute(
        update(Delivery)
        .where(ours(claim))
        .values(status=status, **values)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).first()
    return done is not None


def release_unposted(session: Session, claim: Claim) -> None:
    """Papers of parts that never went out are free again for the channel's next digests."""
    rows = session.execute(
        select(DeliveryPart.papers).where(
            DeliveryPart.delivery_id == claim.id, DeliveryPart.message_id.is_(None)
        )
    ).all()
    keys = [key for (papers,) in rows for key in papers or ()]
    posted = select(DeliveryPart.id).where(
        DeliveryPart.delivery_id == claim.id, DeliveryPart.message_id.is_not(None)
    )
    if session.execute(posted.limit(1)).first() is None:
        session.execute(delete(PostedPaper).where(PostedPaper.delivery_id == claim.id))
    elif keys:
        ids = select(Paper.id).where(Paper.key.in_(keys))
        session.execute(
            delete(PostedPaper).where(
                PostedPaper.delivery_id == claim.id, PostedPaper.paper_id.in_(ids)
            )
        )


def unreserve_untouched(session: Session, claim: Claim) -> None:
    """Nothing of the digest went out (nor may have): forget it, so the next attempt builds
    it afresh, with the notes and papers of that moment."""
    touched = session.execute(
        select(DeliveryPart.id)
        .where(
            DeliveryPart.delivery_id == claim.id,
            or_(DeliveryPart.message_id.is_not(None), DeliveryPart.started_at.is_not(None)),
        )
        .limit(1)
    ).first()
    if touched is None:
        session.execute(delete(PostedPaper).where(PostedPaper.delivery_id == claim.id))
        session.execute(delete(DeliveryPart).where(DeliveryPart.delivery_id == claim.id))
        session.execute(
            update(Delivery)
            .where(ours(claim))
            .values(digest=None)
            .execution_options(synchronize_session=False)
        )


def failed(
    deps: DeliveryDeps,
    claim: Claim,
    ref: ChannelRef,
    exc: DeliveryError,
    *,
    now: datetime,
    attempts: int,
) -> DeliveryOutcome:
    """Record a failed attempt: retry later, give up, or pause the channel or workspace."""
    metrics.digest_failed(ref.platform, retryable=exc.retryable)
    reason = " ".join(exc.reason.split())[:500]
    refused = not exc.retryable and exc.scope != "channel"
    give_up = not refused and (not exc.retryable or attempts >= deps.digest.max_attempts)
    with transaction(deps.session_factory) as session:
        if give_up:
            release_unposted(session, claim)
            status, retry_at = DeliveryStatus.FAILED, None
        else:
            unreserve_untouched(session, claim)
            # A refused token: this row waits, unclaimable, for the probe that finds it working.
            wait = timedelta(0) if refused else backoff(attempts, exc.retry_after)
            status, retry_at = DeliveryStatus.PENDING, now + wait
        extra = {"next_attempt_at": retry_at} if retry_at is not None else {}
        if not finish(session, claim, status, error=reason, attempts=attempts, **extra):
            return _lost(claim, ref)
        if refused:
            # Pause the workspace (or the platform's own token) once, not each of its channels.
            workspace = "*" if exc.scope == "platform" else ref.workspace
            probes = workspaces.backoff_of(deps, ref.platform)
            workspaces.pause(session, ref.platform, workspace, reason, now=now, backoff=probes)
            log.warning("%s: paused workspace %s: %s", ref, workspace, reason)
            return DeliveryOutcome("workspace", claim.id, _cannot(reason), (), ref, reason)
        if give_up:
            metrics.digest_given_up(ref.platform)
        if not exc.retryable:
            pauses.pause(session, [Channel.id == claim.channel_id], reason, kind_of(exc.kind))
            log.warning("%s: paused: %s", ref, reason)
            return DeliveryOutcome("paused", claim.id, _cannot(reason), (), ref, reason)
    if give_up:
        log.warning(
            "%s: gave up on delivery %s after %d attempts: %s", ref, claim.id, attempts, reason
        )
        return DeliveryOutcome("failed", claim.id, f"Posting failed ({reason}).", (), ref, reason)
    log.info("%s: delivery %s will retry at %s: %s", ref, claim.id, retry_at, reason)
    text = f"Posting failed for now ({reason}); paperbot will retry shortly."
    return DeliveryOutcome("retry", claim.id, text, (), ref, reason)


def _cannot(reason: str) -> str:
    return f"I cannot post here ({reason})."


def _lost(claim: Claim, ref: ChannelRef) -> DeliveryOutcome:
    log.info("%s: delivery %s was taken over by another worker", ref, claim.id)
    return DeliveryOutcome("skipped", claim.id, "Another paperbot worker took this digest over.")


__all__ = ["PauseKind", "backoff", "failed", "finish", "release_unposted", "retry_after"]
