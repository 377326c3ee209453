"""A recording ChatPlatform and a small world (papers, channels, a deliverer) for delivery tests.

The platform implements the whole port (parts, find_posted, probe, notify) and counts every
message each channel received, so tests assert on what people would have seen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import Settings
from paperbot.core.cards import to_card
from paperbot.core.delivery import Deliverer, DeliveryDeps, DeliveryReport
from paperbot.core.delivery.alerts import Alerts
from paperbot.core.messages import ChannelRef, Digest
from paperbot.core.models import Channel, Delivery, DeliveryPart, Paper, PostedPaper
from paperbot.core.ports import DeliveryError, Notice, ProbeBackoff

FRIDAY_9 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class Crash(BaseException):
    """The process dying: not an Exception, so nothing in the core may swallow it."""


@dataclass
class Post:
    channel: str
    key: str
    part: int
    papers: tuple[str, ...]
    notes: tuple[str, ...]
    missed: int


Failure = BaseException | Callable[[ChannelRef, int], BaseException | None]


@dataclass
class FakePlatform:
    """Records every message; scripted failures per call, per channel, or by a function.

    per_part: papers per message (0: the whole digest is one message).
    before: raised instead of posting (in order); after: raised after the post went out (a
    lost reply, a crash). fail: a function (channel, part) -> exception or None, checked
    before every post.
    """

    name: str = "fake"
    probe_backoff: ProbeBackoff = field(default_factory=ProbeBackoff)
    per_part: int = 0
    posts: list[Post] = field(default_factory=list)
    before: list[BaseException] = field(default_factory=list)
    after: list[BaseException] = field(default_factory=list)
    fail: Callable[[ChannelRef, int], BaseException | None] | None = None
    history_unknown: int = 0  # find_posted answers None this many times
    probe_ok: bool | None = True
    reachable: bool = True
    notices: list[Notice] = field(default_factory=list)
    probes: list[str] = field(default_factory=list)
    finds: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def digest_parts(self, digest: Digest) -> list[tuple[str, ...]]:
        keys = tuple(card.key for card in digest.papers)
        if not self.per_part or len(keys) <= self.per_part:
            return [keys]
        return [keys[i : i + self.per_part] for i in range(0, len(keys), self.per_part)]

    def post_part(
        self, channel: ChannelRef, digest: Digest, part: int, *, idempotency_key: str
    ) -> str:
        with self.lock:
            if self.before:
                raise self.before.pop(0)
        error = self.fail(channel, part) if self.fail else None
        if error is not None:
            raise error
        papers = self.digest_parts(digest)[part]
        with self.lock:
            self.posts.append(
                Post(
                    channel.channel,
                    idempotency_key,
                    part,
                    papers,
                    digest.notes,
                    digest.missed_slots,
                )
            )
            if self.after:
                raise self.after.pop(0)
        return f"msg-{idempotency_key}-{part}"

    def find_posted(
        self, channel: ChannelRef, idempotency_key: str, *, since: datetime | None = None
    ) -> dict[int, str] | None:
        with self.lock:
            self.finds += 1
            if self.history_unknown:
                self.history_unknown -= 1
                return None
            return {
                p.part: f"msg-{p.key}-{p.part}"
                for p in self.posts
                if p.channel == channel.channel and p.key == idempotency_key
            }

    def probe(self, workspace: str) -> bool | None:
        self.probes.append(workspace)
        return self.probe_ok

    def notify(self, notice: Notice) -> bool:
        self.notices.append(notice)
        return self.reachable

    def digests_of(self, channel: str) -> int:
        """How many digests the channel saw (a digest = its part 0)."""
        return sum(1 for p in self.posts if p.channel == channel and p.part == 0)

    def papers_of(self, channel: str) -> list[str]:
        return [k for p in self.posts if p.channel == channel for k in p.papers]


@dataclass
class Digests:
    """Digests of the oldest papers a channel has not been sent (a stand-in for ranking)."""

    hook: Callable[[Channel], None] | None = None

    def build(
        self,
        session: Session,
        channel: Channel,
        now: datetime,
        missed: int,
        *,
        manual: bool = False,
    ) -> Digest:
        if self.hook is not None:
            self.hook(channel)
        posted = select(PostedPaper.paper_id).where(PostedPaper.channel_id == channel.id)
        papers = session.scalars(
            select(Paper).where(Paper.id.not_in(posted)).order_by(Paper.id).limit(channel.size)
        ).all()
        return Digest(
            channel=ChannelRef(channel.platform, channel.workspace, channel.channel),
            title="Papers",
            papers=tuple(to_card(p) for p in papers),
            generated_at=now,
            missed_slots=missed,
        )


def deliverer(
    factory: sessionmaker[Session],
    settings: Settings,
    platform: FakePlatform,
    *,
    worker: str = "w1",
    digests: Digests | None = None,
    alerts: Alerts | None = None,
) -> Deliverer:
    return Deliverer(
        DeliveryDeps(
            factory,
            settings.digest,
            {platform.name: platform},
            digests or Digests(),
            alerts or Alerts(settings.alerts),
            worker,
        )
    )


def runner(
    factory: sessionmaker[Session], settings: Settings, platform: FakePlatform
) -> Callable[..., DeliveryReport]:
    def run(now: datetime, worker: str = "w1", **kw: Any) -> DeliveryReport:
        return deliverer(factory, settings, platform, worker=worker, **kw).deliver_due(now)

    return run


def add_papers(factory: sessionmaker[Session], n: int, *, start: int = 0) -> None:
    with factory.begin() as s:
        for i in range(start, start + n):
            s.add(
                Paper(
                    key=f"2611.{i:05d}",
                    arxiv_id=f"2611.{i:05d}",
                    title=f"Paper {i}",
                    first_seen_at=FRIDAY_9 - timedelta(days=1),
                    updated_at=FRIDAY_9 - timedelta(days=1),
                )
            )


def add_channel(factory: sessionmaker[Session], name: str, **kw: Any) -> int:
    values: dict[str, Any] = {
        "platform": "fake",
        "workspace": "W1",
        "channel": name,
        "digest_time": "09:00",
        "timezone": "UTC",
        "days": "daily",
        "size": 2,
        "created_at": FRIDAY_9 - timedelta(hours=1),
    }
    values.update(kw)
    with factory.begin() as s:
        ch = Channel(**values)
        s.add(ch)
        s.flush()
        return ch.id


def rows(factory: sessionmaker[Session]) -> list[Delivery]:
    with factory() as s:
        return list(s.scalars(select(Delivery).order_by(Delivery.id)))


def parts(factory: sessionmaker[Session], delivery_id: int) -> list[DeliveryPart]:
    with factory() as s:
        return list(
            s.scalars(
                select(DeliveryPart)
                .where(DeliveryPart.delivery_id == delivery_id)
                .order_by(DeliveryPart.part)
            )
        )


def channel(factory: sessionmaker[Session], channel_id: int) -> Channel:
    with factory() as s:
        row = s.get(Channel, channel_id)
        assert row is not None
        return row


def retryable(reason: str = "503", **kw: Any) -> DeliveryError:
    return DeliveryError(reason, retryable=True, **kw)
