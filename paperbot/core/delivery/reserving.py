"""Reserving a digest: build it once, freeze it, and claim its papers before anything is posted.

The frozen digest (cards and notes) and its parts (the papers each message shows) are stored
with the delivery, so every retry posts exactly the same messages. Papers are claimed for the
channel with a plain INSERT on (channel, paper): when a manual and a scheduled digest pick
the same paper, the second reservation fails, and that digest is built again without it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from paperbot.core.clock import db_now
from paperbot.core.db import transaction
from paperbot.core.delivery import frozen, history
from paperbot.core.delivery.claiming import Claim, LostClaim, ours
from paperbot.core.delivery.deps import DeliveryDeps
from paperbot.core.delivery.status import ROUNDUP
from paperbot.core.messages import Digest
from paperbot.core.models import Channel, Delivery, DeliveryPart, PostedPaper
from paperbot.core.papers.store import ids_by_key
from paperbot.core.ports import ChatPlatform, DeliveryError

ATTEMPTS = 3


@dataclass(frozen=True)
class Part:
    id: int
    part: int
    papers: tuple[str, ...]
    message_id: str | None
    started_at: datetime | None

    @property
    def unknown(self) -> bool:
        """A post of it was attempted and nobody knows whether it went out."""
        return self.started_at is not None and self.message_id is None


@dataclass(frozen=True)
class Reserved:
    digest: Digest
    parts: tuple[Part, ...]


def load(session: Session, delivery_id: int) -> Reserved | None:
    """The delivery's frozen digest and parts, if it was reserved already."""
    data = session.scalar(select(Delivery.digest).where(Delivery.id == delivery_id))
    if data is None:
        return None
    rows = session.execute(
        select(
            DeliveryPart.id,
            DeliveryPart.part,
            DeliveryPart.papers,
            DeliveryPart.message_id,
            DeliveryPart.started_at,
        )
        .where(DeliveryPart.delivery_id == delivery_id)
        .order_by(DeliveryPart.part)
    ).all()
    parts = tuple(
        Part(r.id, r.part, tuple(r.papers or ()), r.message_id, r.started_at) for r in rows
    )
    return Reserved(frozen.from_json(data), parts)


def _build(deps: DeliveryDeps, claim: Claim, now: datetime) -> tuple[Digest, bool]:
    """The digest as of now, with its notes; and whether to post it when it is empty."""
    with deps.session_factory() as session:
        channel = session.get(Channel, claim.channel_id)
        if channel is None:
            raise DeliveryError("the channel was removed", retryable=False, kind="gone")
        if claim.kind == ROUNDUP:
            built = deps.digests.roundup(session, channel, now, claim.missed_before)
        else:
            built = deps.digests.build(
                session, channel, now, claim.missed_before, manual=claim.manual
            )
        failed = history.undelivered(session, channel.id, besides=claim.id, kind=claim.kind)
        digest = dataclasses.replace(
            built,
            undelivered=failed.count,
            undelivered_reason=failed.reason,
            resumed_after=(channel.resumed_note or "") if claim.kind != ROUNDUP else "",
        )
        return digest, channel.post_empty and not claim.manual and claim.kind != ROUNDUP


def reserve(
    deps: DeliveryDeps, claim: Claim, platform: ChatPlatform, now: datetime
) -> Reserved | None:
    """Build, freeze and reserve the digest; None when it is empty and should not be posted."""
    for _ in range(ATTEMPTS):
        digest, post_empty = _build(deps, claim, now)
        if not digest.papers and not post_empty:
            return None
        layout = platform.digest_parts(digest)
        try:
            with transaction(deps.session_factory) as session:
                return _store(session, claim, digest, layout)
        except IntegrityError:
            continue  # another digest took one of these papers first: build again without it
    raise DeliveryError("another digest kept taking the same papers", retryable=True)


def _store(
    session: Session, claim: Claim, digest: Digest, layout: list[tuple[str, ...]]
) -> Reserved:
    mine = session.execute(
        update(Delivery)
        .where(ours(claim), Delivery.lease_until > db_now())
        .values(digest=frozen.to_json(digest))
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).first()
    if mine is None:
        raise LostClaim(claim.id)
    keys = [card.key for card in digest.papers]
    # A roundup shows papers the channel had already: it claims none (never hides one).
    ids = [] if claim.kind == ROUNDUP else list(ids_by_key(session, keys).values())
    if ids:
        session.execute(
            insert(PostedPaper),
            [
                {
                    "channel_id": claim.channel_id,
                    "paper_id": pid,
                    "delivery_id": claim.id,
                    "posted_at": digest.generated_at,
                }
                for pid in ids
            ],
        )
    parts = []
    for index, papers in enumerate(layout):
        pid = session.scalar(
            insert(DeliveryPart)
            .values(delivery_id=claim.id, part=index, papers=list(papers))
            .returning(DeliveryPart.id)
        )
        assert pid is not None
        parts.append(Part(pid, index, tuple(papers), None, None))
    if claim.kind != ROUNDUP:
        session.execute(
            update(Channel)
            .where(Channel.id == claim.channel_id)
            .values(resumed_note=None)
            .execution_options(synchronize_session=False)
        )
    return Reserved(digest, tuple(parts))
