"""What delivery needs from the rest of paperbot, passed in as one object (never the service)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import DigestSettings
from paperbot.core.delivery.alerts import Alerts
from paperbot.core.digests import builder as digest
from paperbot.core.digests.request import DigestConfig, DigestRequest
from paperbot.core.engage.roundup import build_roundup
from paperbot.core.messages import Digest
from paperbot.core.models import Channel
from paperbot.core.ports import ChatPlatform


class DigestSource(Protocol):
    """Builds a channel's digest at `now` (paperbot.core.digests.builder.build_digest behind it)."""

    def build(
        self, session: Session, channel: Channel, now: datetime, missed: int, *, manual: bool = ...
    ) -> Digest: ...

    def roundup(self, session: Session, channel: Channel, now: datetime, missed: int) -> Digest:
        """The channel's week's roundup at `now` (a delivery of kind roundup)."""
        ...


@dataclass
class Digests:
    """The DigestSource paperbot runs with: the index, the digest's settings and the tick's
    shared cache."""

    index: digest.TopicMatcher
    config: DigestConfig
    cache: digest.DigestCache

    def build(
        self,
        session: Session,
        channel: Channel,
        now: datetime,
        missed: int,
        *,
        manual: bool = False,
    ) -> Digest:
        request = DigestRequest(now, missed_slots=missed, cache=self.cache, manual=manual)
        return digest.build_digest(session, self.index, channel, self.config, request)

    def roundup(self, session: Session, channel: Channel, now: datetime, missed: int) -> Digest:
        return build_roundup(session, channel, now=now, cfg=self.config.engage, missed=missed)


@dataclass(frozen=True)
class DeliveryDeps:
    session_factory: sessionmaker[Session]
    digest: DigestSettings
    # Looked up at each pass: adapters register their platforms after the service exists.
    platforms: Mapping[str, ChatPlatform]
    digests: DigestSource
    alerts: Alerts
    worker_id: str

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self.digest.grace_hours)

    @property
    def lease(self) -> float:
        return float(self.digest.lease_seconds)
