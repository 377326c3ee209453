"""Delivery under faults, on SQLite and PostgreSQL: broken neighbours, lost replies, failed
parts, skewed clocks, taken-over leases, racing manual digests, refused tokens, notices."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta
from typing import Any

import pytest
from delivery_world import (
    FRIDAY_9,
    Digests,
    add_channel,
    add_papers,
    channel,
    deliverer,
    parts,
    retryable,
    rows,
    runner,
)
from sqlalchemy import select, update

from paperbot.core import metrics
from paperbot.core.clock import db_now
from paperbot.core.delivery import DeliveryStatus
from paperbot.core.delivery.claiming import claim_next
from paperbot.core.models import Channel, Delivery, PostedPaper, WorkspaceState
from paperbot.core.ports import DeliveryError

KINDS = [
    "paused",
    "bad_zone",
    "bad_days",
    "build_fails",
    "refused",
    "crashes",
    "panics",
    "ok1",
    "ok2",
]


def counted(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("shift", range(len(KINDS)))
def test_broken_neighbours_stop_no_one(
    session_factory, settings, platform, shift, native_panic
) -> None:
    """Every kind of trouble beside healthy channels, each kind at each position."""
    add_papers(session_factory, 20)
    order = KINDS[shift:] + KINDS[:shift]
    for name in order:
        extra: dict[str, Any] = {
            "paused": {"paused": True, "pause_reason": "paused by U1", "pause_kind": "person"},
            "bad_zone": {"timezone": "Mars/Olympus_Mons"},
            "bad_days": {"days": "someday"},
        }.get(name, {})
        add_channel(session_factory, name, **extra)

    def fail(ref: Any, part: int) -> BaseException | None:
        return {
            "refused": DeliveryError("Missing Access", retryable=False, kind="permission"),
            "crashes": RuntimeError("adapter bug"),
            "panics": native_panic,
        }.get(ref.channel)

    def build_hook(row: Channel) -> None:
        if row.channel == "build_fails":
            raise KeyError("a card that cannot be built")

    platform.fail = fail
    report = deliverer(
        session_factory, settings, platform, digests=Digests(build_hook)
    ).deliver_due(FRIDAY_9)
    assert {p.channel for p in platform.posts} == {"ok1", "ok2"}
    assert report.sent == 2
    troubled = {line.split(":", 2)[1].split("/")[1] for line in report.troubles}
    assert troubled == {"bad_zone", "bad_days", "build_fails", "refused", "crashes", "panics"}
    by_name = {}
    with session_factory() as s:
        for row in s.scalars(select(Channel)):
            by_name[row.channel] = row
    zone_line = next(t for t in report.troubles if "bad_zone" in t)
    assert zone_line.endswith("unknown time zone 'Mars/Olympus_Mons': run /papers schedule")
    assert by_name["bad_zone"].paused and by_name["bad_zone"].pause_kind == "schedule"
    assert by_name["bad_days"].paused and "/papers schedule" in (
        by_name["bad_days"].pause_reason or ""
    )
    assert by_name["refused"].paused and by_name["refused"].pause_kind == "permission"
    for name in ("build_fails", "crashes", "panics"):  # retried later, not paused
        assert not by_name[name].paused
    # The next pass: healthy ones are done, the transient ones retry, nobody is doubled.
    platform.fail = None
    deliverer(session_factory, settings, platform).deliver_due(FRIDAY_9 + timedelta(minutes=10))
    counts = {name: platform.digests_of(name) for name in KINDS}
    assert counts == {
        "paused": 0, "bad_zone": 0, "bad_days": 0, "refused": 0,
        "build_fails": 1, "crashes": 1, "panics": 1, "ok1": 1, "ok2": 1,
    }  # fmt: skip


def test_a_lost_reply_is_reconciled_not_posted_twice(session_factory, platform, run) -> None:
    add_papers(session_factory, 4)
    add_channel(session_factory, "c")
    platform.after.append(retryable("no answer from Slack", outcome_unknown=True))
    assert run(FRIDAY_9).retrying == 1
    report = run(FRIDAY_9 + timedelta(minutes=5))
    assert report.reconciled == 1 and platform.finds == 1
    assert platform.digests_of("c") == 1
    (row,) = rows(session_factory)
    assert row.status == DeliveryStatus.SENT


def test_a_failed_second_part_is_the_only_one_posted_again(session_factory, platform, run) -> None:
    platform.per_part = 2
    add_papers(session_factory, 6)
    add_channel(session_factory, "c", size=5)
    platform.fail = lambda ref, part: (
        retryable("Slack server error (HTTP 500)") if part == 1 else None
    )
    assert run(FRIDAY_9).retrying == 1
    (row,) = rows(session_factory)
    assert [p.message_id is not None for p in parts(session_factory, row.id)] == [
        True,
        False,
        False,
    ]
    platform.fail = None
    assert run(FRIDAY_9 + timedelta(minutes=5)).sent == 1
    assert [(p.part, p.papers) for p in platform.posts] == [
        (0, ("2611.00000", "2611.00001")),
        (1, ("2611.00002", "2611.00003")),
        (2, ("2611.00004",)),
    ]
    assert platform.finds == 0  # a refused part is known not posted: no history read
    # Every paper shown is recorded, once; none that was not shown.
    with session_factory() as s:
        posted = s.scalars(select(PostedPaper.paper_id).order_by(PostedPaper.paper_id)).all()
    assert len(posted) == 5


def test_given_up_after_a_partial_send_frees_only_what_was_not_shown(
    session_factory, platform, make_settings
) -> None:
    settings = make_settings(digest={"max_attempts": 2})
    run = runner(session_factory, settings, platform)
    platform.per_part = 2
    add_papers(session_factory, 8)
    add_channel(session_factory, "c", size=4)
    platform.fail = lambda ref, part: retryable("HTTP 500") if part == 1 else None
    before = counted("paperbot_digests_given_up_total", platform="fake")
    run(FRIDAY_9)
    run(FRIDAY_9 + timedelta(minutes=5))
    (row,) = rows(session_factory)
    assert row.status == DeliveryStatus.FAILED
    assert counted("paperbot_digests_given_up_total", platform="fake") == before + 1
    platform.fail = None
    run(FRIDAY_9 + timedelta(days=1))
    shown = platform.papers_of("c")
    assert shown == [
        "2611.00000",
        "2611.00001",
        "2611.00002",
        "2611.00003",
        "2611.00004",
        "2611.00005",
    ]
    assert "1 digest could not be delivered: HTTP 500." in platform.posts[-1].notes


def test_unknown_outcome_waits_for_an_answer_then_posts_at_the_deadline(
    session_factory, platform, run
) -> None:
    add_papers(session_factory, 2)
    add_channel(session_factory, "c")
    platform.before.append(retryable("timeout", outcome_unknown=True))
    run(FRIDAY_9)
    platform.history_unknown = 1000  # e.g. conversations.history keeps answering 429
    for minutes in (5, 10, 60, 300):
        assert run(FRIDAY_9 + timedelta(minutes=minutes)).sent == 0
    assert platform.posts == [] and platform.finds == 4
    before = counted("paperbot_digest_parts_posted_unreconciled_total", platform="fake")
    assert run(FRIDAY_9 + timedelta(hours=6, minutes=1)).sent == 1  # the slot's grace is over
    assert platform.digests_of("c") == 1
    assert counted("paperbot_digest_parts_posted_unreconciled_total", platform="fake") == before + 1


def test_a_replica_running_ahead_cannot_take_a_row_being_sent(
    session_factory, settings, platform
) -> None:
    """Two deliverers 130 s apart: leases are judged by the database's clock."""
    add_papers(session_factory, 4)
    add_channel(session_factory, "c")
    inside, release = threading.Event(), threading.Event()

    def slow(ref: Any, part: int) -> None:
        inside.set()
        release.wait(10)

    platform.fail = slow
    first = threading.Thread(
        target=lambda: deliverer(session_factory, settings, platform, worker="on-time").deliver_due(
            FRIDAY_9
        )
    )
    first.start()
    assert inside.wait(10)
    platform.fail = None
    ahead = deliverer(session_factory, settings, platform, worker="ahead")
    report = ahead.deliver_due(FRIDAY_9 + timedelta(seconds=130))  # past the 120 s lease
    release.set()
    first.join(10)
    assert (report.sent, report.reconciled) == (0, 0)
    assert platform.digests_of("c") == 1
    (row,) = rows(session_factory)
    assert (row.status, row.claimed_by) == (DeliveryStatus.SENT, "on-time")


def test_a_worker_that_lost_its_claim_records_nothing(session_factory, settings, platform) -> None:
    add_papers(session_factory, 2)
    add_channel(session_factory, "c")

    def taken_over(ref: Any, part: int) -> None:
        # While this worker posts, its lease runs out and another worker claims the row.
        with session_factory.begin() as s:
            s.execute(update(Delivery).values(lease_until=db_now(-1)))
        assert claim_next(
            session_factory, now=FRIDAY_9, worker_id="other", platforms=["fake"], lease_seconds=120
        )

    platform.fail = taken_over
    report = deliverer(session_factory, settings, platform).deliver_due(FRIDAY_9)
    assert report.sent == 0 and report.skipped == 1
    (row,) = rows(session_factory)
    assert (row.status, row.claimed_by, row.claim_version) == ("claimed", "other", 2)
    # The message that went out is recorded (a fact): the new holder just finishes the row.
    assert parts(session_factory, row.id)[0].message_id == f"msg-{row.id}-0"


def test_manual_and_scheduled_digests_never_share_papers(
    session_factory, settings, platform
) -> None:
    add_papers(session_factory, 6)
    cid = add_channel(session_factory, "c", size=3)
    both = threading.Barrier(2)

    def together(row: Channel) -> None:
        # Both build from the same store before either reserves (SQLite serialises the two
        # transactions: there is no race to line up, and the wait times out).
        with contextlib.suppress(threading.BrokenBarrierError):
            both.wait(1)

    digests = Digests(together)
    manual = threading.Thread(
        target=lambda: deliverer(
            session_factory, settings, platform, worker="m", digests=digests
        ).deliver_now(cid, FRIDAY_9)
    )
    manual.start()
    deliverer(session_factory, settings, platform, worker="s", digests=digests).deliver_due(
        FRIDAY_9
    )
    manual.join(20)
    shown = platform.papers_of("c")
    assert len(platform.posts) == 2 and len(shown) == len(set(shown)) == 6


def test_an_empty_manual_digest_does_not_use_up_anything(
    session_factory, settings, platform
) -> None:
    cid = add_channel(session_factory, "c")
    now = deliverer(session_factory, settings, platform)
    outcome = now.deliver_now(cid, FRIDAY_9)
    assert outcome.status == "empty" and "No new papers" in outcome.message
    assert rows(session_factory) == []
    add_papers(session_factory, 2)
    again = now.deliver_now(cid, FRIDAY_9 + timedelta(seconds=10))  # the same minute
    assert again.status == "sent"
    add_papers(session_factory, 0)
    third = now.deliver_now(cid, FRIDAY_9 + timedelta(minutes=5))
    assert (
        third.status == "empty"
        and "Nothing new since the last digest (Fri 27 Nov 09:00)" in third.message
    )


def test_a_refused_token_pauses_its_workspace_once_and_a_probe_resumes_it(
    session_factory, settings, platform, run
) -> None:
    add_papers(session_factory, 10)
    for name in ("a1", "a2", "a3"):
        add_channel(session_factory, name)
    add_channel(session_factory, "b1", workspace="W2")
    attempts: list[str] = []

    def refused(ref: Any, part: int) -> BaseException | None:
        attempts.append(ref.channel)
        if ref.workspace == "W1":
            return DeliveryError("token_revoked: reinstall", retryable=False, scope="workspace")
        return None

    platform.fail = refused
    platform.probe_ok = False
    report = run(FRIDAY_9)
    assert report.paused == 1 and attempts.count("b1") == 1
    assert len([c for c in attempts if c.startswith("a")]) == 1  # not each channel
    assert platform.digests_of("b1") == 1
    with session_factory() as s:
        (state,) = s.scalars(select(WorkspaceState))
        assert (state.workspace, state.paused_reason) == ("W1", "token_revoked: reinstall")
        assert not any(c.paused for c in s.scalars(select(Channel)))
    assert run(FRIDAY_9 + timedelta(seconds=30)).sent == 0 and platform.probes == []
    run(FRIDAY_9 + timedelta(minutes=1))  # first probe, still refused
    run(FRIDAY_9 + timedelta(minutes=2))  # backed off: not probed again yet
    assert platform.probes == ["W1"]
    platform.fail, platform.probe_ok = None, True
    report = run(FRIDAY_9 + timedelta(minutes=4))
    assert platform.probes == ["W1", "W1"] and report.sent == 3
    for name in ("a1", "a2", "a3"):
        assert platform.digests_of(name) == 1
    back = next(p for p in platform.posts if p.channel == "a1")
    assert any("Digests are back" in note for note in back.notes)


def test_a_channel_pause_is_told_once_to_who_set_it_up(
    session_factory, settings, platform, run
) -> None:
    add_papers(session_factory, 4)
    cid = add_channel(session_factory, "c", configured_by="U-SETUP")
    platform.fail = lambda ref, part: DeliveryError(
        "not_in_channel: invite @paperbot", retryable=False, kind="not_in_channel"
    )
    run(FRIDAY_9)
    run(FRIDAY_9 + timedelta(minutes=5))
    (notice,) = platform.notices
    assert notice.user == "U-SETUP" and "invite @paperbot" in notice.text
    assert "resume by themselves" in notice.text
    assert channel(session_factory, cid).pause_notice == "person"


def test_nobody_reachable_tells_the_operator_once(
    session_factory, make_settings, platform, webhook, caplog
) -> None:
    settings = make_settings(alerts={"webhook_url": webhook.url})
    run = runner(session_factory, settings, platform)
    add_papers(session_factory, 4)
    add_channel(session_factory, "c")
    platform.reachable = False
    platform.fail = lambda ref, part: DeliveryError("is_archived", retryable=False, kind="archived")
    before = counted("paperbot_operator_notices_total", kind="channel-paused")
    with caplog.at_level("WARNING", logger="paperbot.alerts"):
        run(FRIDAY_9)
        run(FRIDAY_9 + timedelta(minutes=5))
    (body,) = webhook.received
    assert (
        body["kind"] == "channel-paused" and body["channel"] == "c" and "archived" in body["text"]
    )
    assert counted("paperbot_operator_notices_total", kind="channel-paused") == before + 1
    assert len([r for r in caplog.records if "operator notice" in r.getMessage()]) == 1
    assert webhook.url.split("/")[-1] not in caplog.text  # the URL may hold a secret


def test_attempted_slots_past_the_grace_read_as_failed_not_offline(
    session_factory, platform, run
) -> None:
    add_papers(session_factory, 4)
    add_channel(session_factory, "c")
    platform.fail = lambda ref, part: retryable("Slack server error (HTTP 503)")
    for minutes in (0, 1, 2, 4, 8, 16, 32):
        run(FRIDAY_9 + timedelta(minutes=minutes))
    report = run(FRIDAY_9 + timedelta(hours=7))
    assert (report.failed, report.missed) == (1, 0)
    platform.fail = None
    run(FRIDAY_9 + timedelta(days=1))
    (post,) = platform.posts
    assert post.missed == 0
    assert any("could not be delivered" in n for n in post.notes)
    assert not any("offline" in n for n in post.notes)


def test_metrics_show_pauses_and_undelivered_digests(
    session_factory, platform, make_settings
) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    settings = make_settings(digest={"max_attempts": 1})
    run = runner(session_factory, settings, platform)
    add_papers(session_factory, 6)
    add_channel(session_factory, "gone")
    add_channel(session_factory, "flaky")
    add_channel(session_factory, "token", workspace="W9")
    platform.fail = lambda ref, part: {
        "gone": DeliveryError("Unknown Channel", retryable=False, kind="gone"),
        "flaky": retryable("HTTP 502"),
        "token": DeliveryError("401", retryable=False, scope="workspace"),
    }[ref.channel]
    run(FRIDAY_9)
    metrics.watch_database(session_factory)
    try:
        payload, _ = metrics.render_metrics()
    finally:
        metrics.watch_database(None)
    families = {f.name: f for f in text_string_to_metric_families(payload.decode())}
    paused = {(s.labels["kind"], s.value) for s in families["paperbot_paused_channels"].samples}
    assert paused == {("gone", 1.0)}
    (workspace,) = families["paperbot_paused_workspaces"].samples
    assert workspace.labels == {"platform": "fake"} and workspace.value == 1
    recent = {s.labels["status"]: s.value for s in families["paperbot_recent_deliveries"].samples}
    assert recent == {"failed": 2.0, "pending": 1.0}
    assert "paperbot_digests_given_up" in families


def test_a_digest_that_never_builds_is_given_up_not_read_as_offline(
    session_factory, platform, make_settings
) -> None:
    settings = make_settings(digest={"max_attempts": 3})
    add_papers(session_factory, 2)
    add_channel(session_factory, "c")

    def broken(row: Channel) -> None:
        raise ValueError("a card that cannot be rendered")

    for minutes in (0, 1, 3, 6):
        deliverer(session_factory, settings, platform, digests=Digests(broken)).deliver_due(
            FRIDAY_9 + timedelta(minutes=minutes)
        )
    (row,) = rows(session_factory)
    assert (row.status, row.attempts, row.error) == ("failed", 3, "unexpected error: ValueError")
