"""Channel administration: add, update, list and remove channels, and the platforms' events
about them (a channel or workspace gone or back)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from paperbot.core import db
from paperbot.core.channels import store as channels
from paperbot.core.delivery import pauses, workspaces
from paperbot.core.delivery.status import kind_of
from paperbot.core.messages import ChannelRef
from paperbot.core.models import Channel
from paperbot.core.service.context import Context
from paperbot.core.service.values import ChannelInfo, ChannelOptions

log = logging.getLogger(__name__)


class ChannelAdmin:
    """The channels that get digests, as operators (CLI) and platforms (events) change them."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # --- the operator's commands ----------------------------------------------------------

    def add(self, ref: ChannelRef, options: ChannelOptions, *, now: datetime) -> ChannelInfo:
        """Add the channel (or update it); a topic it cannot follow raises ChannelError and
        changes nothing."""
        with self.ctx.session_factory.begin() as session:
            row = channels.get_or_create(session, ref, self.ctx.settings.digest, now=now)
            spec = channels.ScheduleSpec(
                time=options.time or row.digest_time,
                zone=options.zone or row.timezone,
                days=options.days or row.days,
            )
            channels.set_schedule(row, spec)
            if options.size is not None:
                row.size = options.size
            if options.post_empty is not None:
                row.post_empty = options.post_empty
            for topic in options.topics:
                channels.subscribe(session, row, topic, user="cli", now=now)
            session.flush()
            return ChannelInfo.of(row)

    def all(self) -> list[ChannelInfo]:
        with db.snapshot(self.ctx.session_factory) as session:
            return [ChannelInfo.of(row) for row in channels.all_channels(session)]

    def remove(self, ref: ChannelRef) -> bool:
        """Remove the channel, its topics and its delivery history; False if there is none."""
        with self.ctx.session_factory.begin() as session:
            return channels.remove(session, ref)

    def exists(self, ref: ChannelRef) -> bool:
        with db.snapshot(self.ctx.session_factory) as session:
            return channels.find(session, ref) is not None

    # --- platform events ------------------------------------------------------------------

    def topics(self, ref: ChannelRef) -> list[str]:
        with db.snapshot(self.ctx.session_factory) as session:
            channel = channels.find(session, ref)
            return [s.topic for s in channel.subscriptions] if channel else []

    def channel_gone(self, ref: ChannelRef, reason: str, *, now: datetime, kind: str) -> None:
        with self.ctx.session_factory.begin() as session:
            channels.channel_gone(session, ref, reason, now=now, kind=kind_of(kind))

    def channel_back(self, ref: ChannelRef, kinds: Iterable[str] | None = None) -> bool:
        wanted = None if kinds is None else {kind_of(k) for k in kinds}
        with self.ctx.session_factory.begin() as session:
            done = pauses.resume(session, pauses.at(ref), wanted)
        if done:
            log.info("%s: paperbot can post again; its digest resumed", ref)
        return bool(done)

    def paused_channels(self, platform: str, workspace: str, kinds: Iterable[str]) -> list[str]:
        where = [Channel.platform == platform, Channel.workspace == workspace]
        query = pauses.paused(where, {kind_of(k) for k in kinds}).with_only_columns(Channel.channel)
        with db.snapshot(self.ctx.session_factory) as session:
            return list(session.scalars(query))

    def workspace_gone(self, platform: str, workspace: str, reason: str, *, now: datetime) -> None:
        with self.ctx.session_factory.begin() as session:
            n = channels.workspace_gone(session, platform, workspace, reason, now=now)
        log.info("%s workspace %s gone (%s): paused %d channels", platform, workspace, reason, n)

    def workspace_back(self, platform: str, workspace: str) -> None:
        with self.ctx.session_factory.begin() as session:
            n = channels.workspace_back(session, platform, workspace)
            workspaces.resume(session, platform, workspace)
        if n:
            log.info("%s workspace %s is back: resumed %d channels", platform, workspace, n)


__all__ = ["ChannelAdmin"]
