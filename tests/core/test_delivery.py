"""Exactly-once digests on SQLite and PostgreSQL: zones, DST, grace, retries, pauses, crashes."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import Settings
from paperbot.core import delivery
from paperbot.core.cards import to_card
from paperbot.core.messages import ChannelRef, Digest
from paperbot.core.models import Channel, Delivery, Paper, PostedPaper
from paperbot.core.ports import DeliveryError

FRIDAY_9 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class Crash(BaseException):
    """The process dying: not an Exception, so nothing in the core may swallow it."""


@dataclass
class Post:
    channel: str
    key: str
    papers: tuple[str, ...]
    missed: int


@dataclass
class FakePlatform:
    """Records what was posted; scripted failures before or after the post."""

    name: str = "fake"
    posts: list[Post] = field(default_factory=list)
    before: list[BaseException] = field(default_factory=list)
    after: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def post_digest(
        self, channel: ChannelRef, digest: Digest, *, idempotency_key: str
    ) -> list[str]:
        with self.lock:
            if self.before:
                raise self.before.pop(0)
            papers = tuple(p.key for p in digest.papers)
            self.posts.append(Post(channel.channel, idempotency_key, papers, digest.missed_slots))
            if self.after:
                raise self.after.pop(0)
        return [f"msg-{idempotency_key}"]

    def find_posted(self, channel: ChannelRef, idempotency_key: str) -> list[str] | None:
        with self.lock:
            keys = [p.key for p in self.posts if p.channel == channel.channel]
        return [f"msg-{idempotency_key}"] if idempotency_key in keys else []

    def count(self, channel: str) -> int:
        return sum(1 for p in self.posts if p.channel == channel)


def build(session: Session, channel: Channel, now: datetime, missed: int) -> Digest:
    """A simple digest: the oldest papers this channel has not been sent."""
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


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def run(session_factory: sessionmaker[Session], settings: Settings, platform: FakePlatform) -> Any:
    def run(now: datetime, worker: str = "w1") -> delivery.DeliveryReport:
        return delivery.deliver_due(
            session_factory,
            {"fake": platform},
            build,
            now=now,
            worker_id=worker,
            settings=settings,
        )

    return run


def rows(factory: sessionmaker[Session]) -> list[Delivery]:
    with factory() as s:
        return list(s.scalars(select(Delivery).order_by(Delivery.id)))


def test_due_digest_posted_once_and_repeat_posts_nothing(session_factory, platform, run) -> None:
    add_papers(session_factory, 5)
    add_channel(session_factory, "general")
    assert run(FRIDAY_9 - timedelta(minutes=1)).planned == 0
    report = run(FRIDAY_9)
    assert (report.planned, report.sent) == (1, 1)
    assert platform.posts[0].papers == ("2611.00000", "2611.00001")
    again = run(FRIDAY_9 + timedelta(minutes=1))
    assert (again.planned, again.sent) == (0, 0)
    assert len(platform.posts) == 1
    (row,) = rows(session_factory)
    assert (row.slot, row.status, row.message_ids) == ("2026-11-27", "sent", [f"msg-{row.id}"])
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(PostedPaper)) == 2


def test_channels_in_several_zones_post_at_their_local_time(session_factory, platform, run) -> None:
    add_papers(session_factory, 3)
    early = FRIDAY_9 - timedelta(hours=3)
    add_channel(session_factory, "berlin", timezone="Europe/Berlin", created_at=early)
    add_channel(
        session_factory, "tokyo", timezone="Asia/Tokyo", digest_time="18:00", created_at=early
    )
    add_channel(session_factory, "ny", timezone="America/New_York", created_at=early)
    run(datetime(2026, 11, 27, 8, 0, tzinfo=UTC))  # 09:00 Berlin, 17:00 Tokyo, 03:00 NY
    assert [p.channel for p in platform.posts] == ["berlin"]
    run(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))  # 18:00 Tokyo
    run(datetime(2026, 11, 27, 14, 0, tzinfo=UTC))  # 09:00 NY
    run(datetime(2026, 11, 27, 14, 30, tzinfo=UTC))
    assert [p.channel for p in platform.posts] == ["berlin", "tokyo", "ny"]


def test_dst_gap_and_fold_post_exactly_once(session_factory, platform, run) -> None:
    add_papers(session_factory, 10)
    created = datetime(2026, 3, 27, tzinfo=UTC)
    add_channel(
        session_factory, "night", timezone="Europe/Berlin", digest_time="02:30", created_at=created
    )
    # Spring forward: 02:30 does not exist on 2026-03-29; it fires at 03:00 CEST (01:00Z).
    run(datetime(2026, 3, 29, 0, 59, tzinfo=UTC))
    assert platform.count("night") == 0
    run(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))
    assert platform.count("night") == 1
    # Fall back: 02:30 happens twice on 2026-10-25 (00:30Z and 01:30Z); posted once.
    run(datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
    run(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))
    run(datetime(2026, 10, 25, 2, 0, tzinfo=UTC))
    slots = [r.slot for r in rows(session_factory) if r.status == "sent"]
    assert slots[-1] == "2026-10-25" and slots.count("2026-10-25") == 1
    assert platform.count("night") == 2


def test_missed_slots_within_and_beyond_grace(session_factory, platform, run) -> None:
    add_papers(session_factory, 10)
    add_channel(session_factory, "c", created_at=FRIDAY_9 - timedelta(days=3, hours=1))
    run(FRIDAY_9 - timedelta(days=3))  # Tuesday, sent
    # Down Wednesday and Thursday; back Friday 14:00, within the 6 h grace.
    run(FRIDAY_9 + timedelta(hours=5))
    assert [p.missed for p in platform.posts] == [0, 2]
    # Down over Saturday's slot beyond the grace; Sunday's digest says it missed one.
    run(FRIDAY_9 + timedelta(days=1, hours=7))
    assert len(platform.posts) == 2
    run(FRIDAY_9 + timedelta(days=2))
    assert [p.missed for p in platform.posts] == [0, 2, 1]


def test_planned_but_unsent_slot_expires_after_grace(
    session_factory, platform, run, settings
) -> None:
    add_papers(session_factory, 10)
    add_channel(session_factory, "c")
    assert delivery.plan_due(session_factory, now=FRIDAY_9, settings=settings) == 1
    run(FRIDAY_9 + timedelta(hours=7))
    assert platform.posts == []
    assert rows(session_factory)[0].status == "missed"
    run(FRIDAY_9 + timedelta(days=1))
    assert [p.missed for p in platform.posts] == [1]


def test_empty_digest_skipped_unless_channel_asks(session_factory, platform, run) -> None:
    add_channel(session_factory, "quiet")
    add_channel(session_factory, "always", post_empty=True)
    report = run(FRIDAY_9)
    assert report.skipped_empty == 1
    assert [(p.channel, p.papers) for p in platform.posts] == [("always", ())]


def test_second_day_posts_new_papers_without_reposting(session_factory, platform, run) -> None:
    add_papers(session_factory, 2)
    add_channel(session_factory, "c")
    run(FRIDAY_9)
    add_papers(session_factory, 2, start=2)
    run(FRIDAY_9 + timedelta(days=1))
    assert [p.papers for p in platform.posts] == [
        ("2611.00000", "2611.00001"),
        ("2611.00002", "2611.00003"),
    ]


def test_retryable_failure_backs_off_then_posts_once(session_factory, platform, run) -> None:
    add_papers(session_factory, 2)
    add_channel(session_factory, "c")
    platform.before.append(DeliveryError("rate limited", retryable=True, retry_after=120))
    report = run(FRIDAY_9)
    assert (report.failed_retryable, len(platform.posts)) == (1, 0)
    retry_at = rows(session_factory)[0].next_attempt_at
    assert FRIDAY_9 + timedelta(seconds=120) <= retry_at < FRIDAY_9 + timedelta(seconds=121)
    run(FRIDAY_9 + timedelta(seconds=60))
    assert platform.posts == []
    run(FRIDAY_9 + timedelta(seconds=121))
    assert len(platform.posts) == 1
    (row,) = rows(session_factory)
    assert (row.status, row.attempts) == ("sent", 2)


def test_retries_stop_after_max_attempts(session_factory, platform, make_settings) -> None:
    settings = make_settings(digest={"max_attempts": 2})
    add_papers(session_factory, 1)
    add_channel(session_factory, "c")
    platform.before.extend(DeliveryError("503", retryable=True) for _ in range(3))
    for minutes in (0, 5, 10):
        delivery.deliver_due(
            session_factory,
            {"fake": platform},
            build,
            now=FRIDAY_9 + timedelta(minutes=minutes),
            worker_id="w",
            settings=settings,
        )
    (row,) = rows(session_factory)
    assert (row.status, row.attempts, row.error) == ("failed", 2, "503")


def test_permanent_error_pauses_channel_after_one_attempt(session_factory, platform, run) -> None:
    add_papers(session_factory, 2)
    cid = add_channel(session_factory, "archived")
    platform.before.append(DeliveryError("is_archived", retryable=False))
    report = run(FRIDAY_9)
    assert report.paused == 1
    run(FRIDAY_9 + timedelta(hours=1))
    run(FRIDAY_9 + timedelta(days=1))
    assert platform.posts == [] and not platform.before
    with session_factory() as s:
        ch = s.get(Channel, cid)
        assert ch is not None and ch.paused and ch.pause_reason == "is_archived"
    assert [r.status for r in rows(session_factory)] == ["failed", "skipped"]


def test_crash_after_post_is_reconciled_not_reposted(session_factory, platform, run) -> None:
    add_papers(session_factory, 3)
    add_channel(session_factory, "c")
    platform.after.append(Crash())
    with pytest.raises(Crash):
        run(FRIDAY_9, "dead")
    # Another worker, before the lease ends, leaves the row alone.
    assert run(FRIDAY_9 + timedelta(seconds=30), "w2").sent == 0
    report = run(FRIDAY_9 + timedelta(minutes=3), "w2")
    assert (report.reconciled, len(platform.posts)) == (1, 1)
    (row,) = rows(session_factory)
    assert (row.status, row.message_ids) == ("sent", [f"msg-{row.id}"])
    # The papers recorded are the ones that went out: tomorrow's digest does not repeat them.
    run(FRIDAY_9 + timedelta(days=1))
    assert platform.posts[1].papers == ("2611.00002",)


def test_crash_before_post_posts_after_lease(session_factory, platform, run) -> None:
    add_papers(session_factory, 3)
    add_channel(session_factory, "c")
    platform.before.append(Crash())
    with pytest.raises(Crash):
        run(FRIDAY_9, "dead")
    report = run(FRIDAY_9 + timedelta(minutes=3), "w2")
    assert (report.sent, report.reconciled) == (1, 0)
    assert platform.posts[0].papers == ("2611.00000", "2611.00001")


def test_concurrent_workers_post_each_digest_once(session_factory, platform, settings) -> None:
    add_papers(session_factory, 4)
    names = [f"c{i}" for i in range(24)]
    for name in names:
        add_channel(session_factory, name)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            delivery.deliver_due(
                session_factory,
                {"fake": platform},
                build,
                now=FRIDAY_9 + timedelta(seconds=i),
                worker_id=f"w{i}",
                settings=settings,
            )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(p.channel for p in platform.posts) == sorted(names)


def test_deliver_now_double_click_posts_once(session_factory, platform, run, settings) -> None:
    add_papers(session_factory, 4)
    cid = add_channel(session_factory, "c")
    at = FRIDAY_9 - timedelta(hours=2)
    first = delivery.deliver_now(
        session_factory, platform, cid, build, now=at, settings=settings, worker_id="w"
    )
    second = delivery.deliver_now(
        session_factory,
        platform,
        cid,
        build,
        now=at + timedelta(seconds=20),
        settings=settings,
        worker_id="w",
    )
    assert (first.status, second.status) == ("sent", "duplicate")
    assert "2 papers" in first.message
    # The scheduled digest still comes, with the papers the manual one did not post.
    run(FRIDAY_9)
    assert [p.papers for p in platform.posts] == [
        ("2611.00000", "2611.00001"),
        ("2611.00002", "2611.00003"),
    ]


@pytest.mark.parametrize("paused_at", [0, 1, 2])
def test_paused_channel_due_beside_active_ones_stops_no_one(
    session_factory, platform, run, paused_at
) -> None:
    """One multi-row INSERT plans every due slot: a paused row among them must not break it."""
    add_papers(session_factory, 6)
    names = ["a", "b", "c"]
    for i, name in enumerate(names):
        add_channel(session_factory, name, paused=i == paused_at, pause_reason="paused by U1")
    report = run(FRIDAY_9)
    active = [n for i, n in enumerate(names) if i != paused_at]
    assert sorted(p.channel for p in platform.posts) == active
    assert report.sent == 2
    by_channel = {r.channel_id: r.status for r in rows(session_factory)}
    assert sorted(by_channel.values()) == ["sent", "sent", "skipped"]
