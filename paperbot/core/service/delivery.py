"""The delivery use cases: the scheduler's tick, one pass, a digest now, a digest preview."""

from __future__ import annotations

import logging
from datetime import datetime

from paperbot.core.channels import store as channels
from paperbot.core.delivery import (
    Deliverer,
    DeliveryDeps,
    DeliveryOutcome,
    DeliveryReport,
    Digests,
)
from paperbot.core.delivery.alerts import Alerts
from paperbot.core.digests import builder as digest
from paperbot.core.digests.request import DigestConfig
from paperbot.core.messages import ChannelRef
from paperbot.core.search import repair as index_repair
from paperbot.core.service.context import Context
from paperbot.core.service.values import DigestPreview

log = logging.getLogger(__name__)


class Deliveries:
    """Posts digests through the platforms; the delivery machinery gets what it needs as one
    DeliveryDeps (it never calls back into the service)."""

    def __init__(self, ctx: Context, alerts: Alerts, cache: digest.DigestCache) -> None:
        self.ctx = ctx
        self.digests = Digests(ctx.index, DigestConfig.of(ctx.settings), cache)
        self.deliverer = Deliverer(
            DeliveryDeps(
                ctx.session_factory,
                ctx.settings.digest,
                ctx.platforms,
                self.digests,
                alerts,
                ctx.worker_id,
            )
        )

    def deliver_due(self, now: datetime) -> DeliveryReport:
        return self.deliverer.deliver_due(now)

    def deliver_now(
        self, ref: ChannelRef, *, now: datetime, kind: str = "digest"
    ) -> DeliveryOutcome:
        """Post the channel's digest (or its roundup, kind "roundup") now."""
        if ref.platform not in self.ctx.platforms:
            text = f"This platform cannot post {kind}s right now; try again later."
            return DeliveryOutcome("failed", None, text)
        with self.ctx.session_factory.begin() as session:
            channel_id = channels.get_or_create(session, ref, self.ctx.settings.digest, now=now).id
        return self.deliverer.deliver_now(channel_id, now, kind=kind)

    def tick(self, now: datetime) -> DeliveryReport:
        index_repair.catch_up(self.ctx.index, self.ctx.session_factory)
        report = self.deliver_due(now)
        if any((report.planned, report.sent, report.reconciled, report.failed, report.paused)):
            log.info("delivery: %s", report.summary())
        return report

    def preview(self, ref: ChannelRef, *, now: datetime, create: bool) -> DigestPreview | None:
        """The channel's next digest, not posted and not recorded; None for a channel paperbot
        does not know (unless `create`, which adds it with the default schedule)."""
        with self.ctx.session_factory.begin() as session:
            row = (
                channels.get_or_create(session, ref, self.ctx.settings.digest, now=now)
                if create
                else channels.find(session, ref)
            )
            if row is None:
                return None
            built = self.digests.build(session, row, now, 0)
            return DigestPreview(built, digest.preview_slot(row, now))
