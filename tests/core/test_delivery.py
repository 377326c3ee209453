"""Exactly-once digests on SQLite and PostgreSQL: zones, DST, grace, retries, pauses, crashes."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
from delivery_world import (
    FRIDAY_9,
    Crash,
    add_channel,
    add_papers,
    channel,
    deliverer,
    parts,
    rows,
    runner,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.delivery import DeliveryStatus, planning
from paperbot.core.models import PostedPaper
from paperbot.core.ports import DeliveryError


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
    assert (row.slot, row.status, row.digest) == ("2026-11-27", DeliveryStatus.SENT, None)
    assert [p.message_id for p in parts(session_factory, row.id)] == [f"msg-{row.id}-0"]
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
    run(datetime(2026, 11, 27, 8, 0, tzinfo=FRIDAY_9.tzinfo))  # 09:00 Berlin
    assert [p.channel for p in platform.posts] == ["berlin"]
    run(datetime(2026, 11, 27, 9, 0, tzinfo=FRIDAY_9.tzinfo))  # 18:00 Tokyo
    run(datetime(2026, 11, 27, 14, 0, tzinfo=FRIDAY_9.tzinfo))  # 09:00 NY
    run(datetime(2026, 11, 27, 14, 30, tzinfo=FRIDAY_9.tzinfo))
    assert [p.channel for p in platform.posts] == ["berlin", "tokyo", "ny"]


def test_dst_gap_and_fold_post_exactly_once(session_factory, platform, run) -> None:
    add_papers(session_factory, 10)
    utc = FRIDAY_9.tzinfo
    created = datetime(2026, 3, 27, tzinfo=utc)
    add_channel(
        session_factory, "night", timezone="Europe/Berlin", digest_time="02:30", created_at=created
    )
    # Spring forward: 02:30 does not exist on 2026-03-29; it fires at 03:00 CEST (01:00Z).
    run(datetime(2026, 3, 29, 0, 59, tzinfo=utc))
    assert platform.digests_of("night") == 0
    run(datetime(2026, 3, 29, 1, 0, tzinfo=utc))
    assert platform.digests_of("night") == 1
    # Fall back: 02:30 happens twice on 2026-10-25 (00:30Z and 01:30Z); posted once.
    run(datetime(2026, 10, 25, 0, 30, tzinfo=utc))
    run(datetime(2026, 10, 25, 1, 30, tzinfo=utc))
    run(datetime(2026, 10, 25, 2, 0, tzinfo=utc))
    slots = [r.slot for r in rows(session_factory) if r.status == DeliveryStatus.SENT]
    assert slots[-1] == "2026-10-25" and slots.count("2026-10-25") == 1
    assert platform.digests_of("night") == 2


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
    assert "offline and missed 1 digest" in platform.posts[-1].notes[0]


def test_planned_but_untried_slot_expires_as_offline(session_factory, platform, run) -> None:
    add_papers(session_factory, 10)
    add_channel(session_factory, "c")
    plan = planning.plan_due(session_factory, now=FRIDAY_9, grace=timedelta(hours=6))
    assert plan.planned == 1
    report = run(FRIDAY_9 + timedelta(hours=7))
    assert (report.missed, report.failed) == (1, 0)
    assert platform.posts == []
    assert rows(session_factory)[0].status == DeliveryStatus.MISSED
    run(FRIDAY_9 + timedelta(days=1))
    assert [p.missed for p in platform.posts] == [1]


def test_empty_digest_skipped_unless_channel_asks(session_factory, platform, run) -> None:
    add_channel(session_factory, "quiet")
    add_channel(session_factory, "always", post_empty=True)
    report = run(FRIDAY_9)
    assert report.empty == 1
    assert [(p.channel, p.papers) for p in platform.posts] == [("always", ())]
    assert {r.status for r in rows(session_factory)} == {DeliveryStatus.EMPTY, DeliveryStatus.SENT}


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
    assert (report.retrying, len(platform.posts)) == (1, 0)
    assert report.troubles == ["fake:W1/c: rate limited"]
    retry_at = rows(session_factory)[0].next_attempt_at
    assert FRIDAY_9 + timedelta(seconds=120) <= retry_at < FRIDAY_9 + timedelta(seconds=121)
    run(FRIDAY_9 + timedelta(seconds=60))
    assert platform.posts == []
    run(FRIDAY_9 + timedelta(seconds=121))
    assert len(platform.posts) == 1
    (row,) = rows(session_factory)
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)


@pytest.mark.parametrize("wait", [float("inf"), float("nan"), -5.0, 1e12])
def test_retry_after_that_is_not_sane_is_clamped(session_factory, platform, run, wait) -> None:
    add_papers(session_factory, 1)
    add_channel(session_factory, "c")
    platform.before.append(DeliveryError("429", retryable=True, retry_after=wait))
    started = time.monotonic()
    run(FRIDAY_9)
    # The wait counts from the failure: the pass's instant plus the time it ran until then.
    ran = timedelta(seconds=time.monotonic() - started)
    retry_at = rows(session_factory)[0].next_attempt_at
    assert FRIDAY_9 + timedelta(seconds=30) <= retry_at <= FRIDAY_9 + timedelta(hours=1) + ran


def test_retries_stop_after_max_attempts_and_the_next_digest_says_so(
    session_factory, platform, make_settings
) -> None:
    settings = make_settings(digest={"max_attempts": 2})
    run = runner(session_factory, settings, platform)
    add_papers(session_factory, 4)
    add_channel(session_factory, "c")
    platform.before.extend(
        DeliveryError("Slack server error (HTTP 503)", retryable=True) for _ in range(3)
    )
    for minutes in (0, 5, 10):
        run(FRIDAY_9 + timedelta(minutes=minutes))
    (row,) = rows(session_factory)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 2)
    with session_factory() as s:  # nothing was shown: its papers are free again
        assert s.scalar(select(func.count()).select_from(PostedPaper)) == 0
    platform.before.clear()
    run(FRIDAY_9 + timedelta(days=1))
    (post,) = platform.posts
    assert post.papers == ("2611.00000", "2611.00001")
    assert "1 digest could not be delivered: Slack server error (HTTP 503)." in post.notes


def test_permanent_error_pauses_channel_after_one_attempt(session_factory, platform, run) -> None:
    add_papers(session_factory, 2)
    cid = add_channel(session_factory, "archived")
    platform.before.append(DeliveryError("is_archived", retryable=False, kind="archived"))
    report = run(FRIDAY_9)
    assert report.paused == 1
    run(FRIDAY_9 + timedelta(hours=1))
    run(FRIDAY_9 + timedelta(days=1))
    assert platform.posts == [] and not platform.before
    row = channel(session_factory, cid)
    assert row.paused and (row.pause_reason, row.pause_kind) == ("is_archived", "archived")
    assert [r.status for r in rows(session_factory)] == ["failed", "skipped"]


def test_crash_after_post_is_reconciled_not_reposted(session_factory, platform, run) -> None:
    add_papers(session_factory, 3)
    add_channel(session_factory, "c")
    platform.after.append(Crash())
    with pytest.raises(Crash):
        run(FRIDAY_9, "dead")
    # Another worker leaves the row alone while the dead one's lease (database clock) holds.
    assert run(FRIDAY_9 + timedelta(seconds=30), "w2").sent == 0
    _expire_leases(session_factory)
    report = run(FRIDAY_9 + timedelta(minutes=3), "w2")
    assert (report.reconciled, len(platform.posts)) == (1, 1)
    (row,) = rows(session_factory)
    assert row.status == DeliveryStatus.SENT
    assert [p.message_id for p in parts(session_factory, row.id)] == [f"msg-{row.id}-0"]
    # The papers recorded are the ones that went out: tomorrow's digest does not repeat them.
    run(FRIDAY_9 + timedelta(days=1))
    assert platform.posts[1].papers == ("2611.00002",)


def test_crash_before_post_posts_after_lease(session_factory, platform, run) -> None:
    add_papers(session_factory, 3)
    add_channel(session_factory, "c")
    platform.before.append(Crash())
    with pytest.raises(Crash):
        run(FRIDAY_9, "dead")
    _expire_leases(session_factory)
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
            deliverer(session_factory, settings, platform, worker=f"w{i}").deliver_due(
                FRIDAY_9 + timedelta(seconds=i)
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
    now = deliverer(session_factory, settings, platform)
    first = now.deliver_now(cid, at)
    second = now.deliver_now(cid, at + timedelta(seconds=20))
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
        add_channel(
            session_factory,
            name,
            paused=i == paused_at,
            pause_reason="paused by U1",
            pause_kind="person",
        )
    report = run(FRIDAY_9)
    active = [n for i, n in enumerate(names) if i != paused_at]
    assert sorted(p.channel for p in platform.posts) == active
    assert report.sent == 2
    statuses = sorted(r.status for r in rows(session_factory))
    assert statuses == ["sent", "sent", "skipped"]


def _expire_leases(factory: sessionmaker[Session]) -> None:
    """Let every lease run out (by the database's clock) without waiting for it."""
    from sqlalchemy import update

    from paperbot.core.clock import db_now
    from paperbot.core.models import Delivery

    with factory.begin() as s:
        s.execute(
            update(Delivery).where(Delivery.lease_until.is_not(None)).values(lease_until=db_now(-1))
        )
