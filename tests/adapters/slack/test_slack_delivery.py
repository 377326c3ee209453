"""Scheduled digests through the real Slack adapter against a loopback Slack that misbehaves:
lost replies, a failing second part, slow answers, long 429s, a channel paperbot was removed
from, a revoked token. Every digest each channel received is counted at the fake."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fakes.slack import FakeSlack
from slack_harness import Served, serve, wait_for
from sqlalchemy import select

from paperbot.config import AlertSettings
from paperbot.core.delivery import DeliveryStatus
from paperbot.core.models import Channel, Delivery

TOKEN = "xoxb-test-token"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        for channel in ("C1", "C2"):
            fake.add_channel(channel)
        fake.add_user("T1", "UADMIN", admin=True)
        yield fake


@pytest.fixture
def make_served(make_settings: Any, slack: FakeSlack, now: datetime) -> Any:
    opened: list[Served] = []

    async def make(**digest: Any) -> Served:
        settings = make_settings(
            seed_sample_data=True,
            slack={
                "signing_secret": "8f742231b10e8888abcd99yyyzzz85a5",
                "bot_token": TOKEN,
                "api_base_url": slack.api_url,
                "history_interval_seconds": 0,
            },
            digest=digest,
            hf={"enabled": False},
            arxiv={"enabled": False},
        )
        app = await serve(settings, now=now)
        opened.append(app)
        for channel in ("C1", "C2"):
            add_channel(app, channel, now)
        return app

    return make


@pytest.fixture
async def served(make_served: Any) -> AsyncIterator[Served]:
    app = await make_served()
    yield app
    await app.close()


def add_channel(app: Served, channel: str, now: datetime, size: int = 20) -> None:
    with app.core.session_factory.begin() as s:
        s.add(
            Channel(
                platform="slack",
                workspace="T1",
                channel=channel,
                digest_time="09:00",
                timezone="UTC",
                days="daily",
                size=size,
                created_at=now - timedelta(days=1),
                configured_by="UADMIN",
            )
        )


async def deliver(app: Served, at: datetime) -> Any:
    return await asyncio.to_thread(app.core.service.deliver_due, at)


def statuses(app: Served) -> list[str]:
    with app.core.session_factory() as s:
        return list(s.scalars(select(Delivery.status).order_by(Delivery.id)))


def assert_each_part_once(slack: FakeSlack, channel: str) -> None:
    parts = slack.parts_in(channel)
    assert parts and len(parts) == len(set(parts)), parts
    assert slack.digests_in(channel) == 1


async def test_a_lost_reply_is_found_in_history_not_posted_again(
    served: Served, slack: FakeSlack, now: datetime
) -> None:
    slack.inject("chat.postMessage", drop_reply=True)
    report = await deliver(served, now)
    assert report.retrying == 1 and report.sent == 1  # C1's reply lost; C2 fine
    report = await deliver(served, now + timedelta(minutes=2))
    assert report.sent == 1  # reconciled part 0 from history, then posted the rest
    for channel in ("C1", "C2"):
        assert_each_part_once(slack, channel)
    assert len(slack.calls_to("conversations.history")) == 1
    assert statuses(served) == [DeliveryStatus.SENT, DeliveryStatus.SENT]


async def test_a_failed_second_part_is_posted_alone_on_the_retry(
    served: Served, slack: FakeSlack, now: datetime
) -> None:
    slack.inject("chat.postMessage", status=500, after=1)  # C1 part 0 ok, part 1: 500
    await deliver(served, now)
    first = slack.parts_in("C1")
    assert [part for _, part in first] == [0]
    await deliver(served, now + timedelta(minutes=2))
    assert_each_part_once(slack, "C1")
    assert len(slack.parts_in("C1")) >= 2
    assert slack.calls_to("conversations.history") == []  # a 500 is a known refusal


async def test_a_slow_answer_is_reconciled(
    make_served: Any, slack: FakeSlack, now: datetime
) -> None:
    app = await make_served(lease_seconds=12)  # a 2 s request timeout
    try:
        slack.inject("chat.postMessage", delay=3)
        report = await deliver(app, now)
        assert report.retrying == 1
        await asyncio.sleep(1.5)  # the slow post lands at the fake meanwhile
        await deliver(app, now + timedelta(minutes=2))
        for channel in ("C1", "C2"):
            assert_each_part_once(slack, channel)
    finally:
        await app.close()


async def test_a_rate_limit_longer_than_the_lease_goes_back_to_the_queue(
    served: Served, slack: FakeSlack, now: datetime
) -> None:
    slack.inject("chat.postMessage", status=429, retry_after=600)
    started = time.monotonic()
    await deliver(served, now)
    assert time.monotonic() - started < 20  # no inline wait of 600 s (nor of the lease)
    with served.core.session_factory() as s:
        waiting = s.scalar(select(Delivery).where(Delivery.status == DeliveryStatus.PENDING))
        assert waiting is not None and waiting.next_attempt_at >= now + timedelta(seconds=600)
    assert (await deliver(served, now + timedelta(minutes=5))).sent == 0
    await deliver(served, now + timedelta(minutes=11))
    for channel in ("C1", "C2"):
        assert_each_part_once(slack, channel)


async def test_a_removed_bot_is_told_once_and_resumes_when_invited_back(
    served: Served, slack: FakeSlack, now: datetime
) -> None:
    slack.channels["C1"].is_member = False
    await deliver(served, now)
    await deliver(served, now + timedelta(hours=1))
    (dm,) = slack.messages["DUADMIN"]
    assert "In <#C1>" in dm["text"] and "not a member" in dm["text"]
    assert len(slack.calls_to("conversations.open")) == 1
    slack.channels["C1"].is_member = True
    event = {"type": "member_joined_channel", "user": "UBOT", "channel": "C1", "team": "T1"}
    assert (await served.event(event, "Ev-joined")).status_code == 200

    def resumed() -> bool:
        with served.core.session_factory() as s:
            row = s.scalar(select(Channel).where(Channel.channel == "C1"))
            return row is not None and not row.paused

    await wait_for(resumed)  # the listener runs after the ack
    await deliver(served, now + timedelta(days=1))
    (message,) = [m for m in slack.messages["C1"] if "Digests are back" in str(m["blocks"])]
    assert message


async def test_a_revoked_token_pauses_slack_once_and_a_probe_resumes_it(
    served: Served, slack: FakeSlack, now: datetime, webhook: Any
) -> None:
    served.core.service.alerts.settings = AlertSettings(webhook_url=webhook.url)
    slack.revoked.add(TOKEN)
    report = await deliver(served, now)
    assert report.paused == 1 and len(slack.calls_to("chat.postMessage")) == 1
    assert served.core.service.readiness() == [
        "slack: Slack rejected paperbot's token (invalid_auth): reinstall the app"
    ]
    assert [body["kind"] for body in webhook.received] == ["workspace-paused"]
    await deliver(served, now + timedelta(minutes=1, seconds=5))  # probe: still refused
    assert len(slack.calls_to("auth.test")) >= 1
    slack.revoked.clear()
    await deliver(served, now + timedelta(minutes=3, seconds=10))  # probe works: resumed
    assert served.core.service.readiness() == []
    for channel in ("C1", "C2"):
        assert_each_part_once(slack, channel)
    assert len(slack.calls_to("chat.postMessage")) == 1 + len(slack.parts_in("C1")) + len(
        slack.parts_in("C2")
    )
