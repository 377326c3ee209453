"""Scheduled digests through the real discord.py client against a loopback Discord that
misbehaves: lost replies, a failing second part, slow answers, long 429s, a permission taken
away and given back, a refused bot token. Every digest part is counted at the fake."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from discord_harness import CHANNEL_A, CHANNEL_A2, GUILD_A, eventually, running
from fakes.discord import (
    EMBED_LINKS,
    MEMBER,
    READ_MESSAGE_HISTORY,
    VIEW_CHANNEL,
    Failure,
    FakeDiscord,
)
from sqlalchemy import select

from paperbot.adapters.discord.platform import DiscordPlatform
from paperbot.bootstrap import Core
from paperbot.core.models import Channel, Delivery

CHANNELS = (CHANNEL_A, CHANNEL_A2)


@pytest.fixture
def at() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=2)


@pytest.fixture
def rest_core(
    make_discord_settings: Callable[..., Any], core_for: Any, at: datetime
) -> Iterator[Core]:
    """A core posting over Discord's REST API only (as `paperbot deliver` does)."""
    core: Core = core_for(make_discord_settings(send_timeout_seconds=1.0))
    port = DiscordPlatform(core.settings)
    core.service.platforms["discord"] = port
    for channel in CHANNELS:
        add_channel(core, channel, at)
    yield core
    port.close()


def add_channel(core: Core, channel: int, at: datetime, size: int = 25) -> None:
    with core.session_factory.begin() as s:
        s.add(
            Channel(
                platform="discord",
                workspace=str(GUILD_A),
                channel=str(channel),
                digest_time=at.strftime("%H:%M"),
                timezone="UTC",
                days="daily",
                size=size,
                created_at=at - timedelta(days=1),
                configured_by="1001",
            )
        )


async def deliver(core: Core, at: datetime) -> Any:
    return await asyncio.to_thread(core.service.deliver_due, at)


def each_part_once(fake: FakeDiscord, channel: int) -> list[tuple[str, int]]:
    parts = fake.digest_parts_in(channel)
    assert parts and len(parts) == len(set(parts)), parts
    assert fake.digests_in(channel) == 1
    return parts


async def test_a_lost_reply_is_found_in_history_not_posted_again(
    fake: FakeDiscord, rest_core: Core, at: datetime
) -> None:
    fake.fail(CHANNEL_A, Failure(0, drop_reply=True))
    report = await deliver(rest_core, at)
    assert report.retrying == 1 and report.sent == 1
    assert (await deliver(rest_core, at + timedelta(minutes=2))).sent == 1
    for channel in CHANNELS:
        assert len(each_part_once(fake, channel)) >= 2


async def test_a_failed_second_part_is_posted_alone_on_the_retry(
    fake: FakeDiscord, rest_core: Core, at: datetime
) -> None:
    fake.fail(CHANNEL_A, Failure(503, after=1))
    await deliver(rest_core, at)
    assert [part for _, part in fake.digest_parts_in(CHANNEL_A)] == [0]
    await deliver(rest_core, at + timedelta(minutes=2))
    parts = [part for _, part in each_part_once(fake, CHANNEL_A)]
    assert len(parts) >= 2 and parts == list(range(len(parts)))
    assert len(fake.posts(CHANNEL_A)) == len(parts) + 1  # only part 1 was sent twice (503)


async def test_a_slow_answer_is_reconciled(
    fake: FakeDiscord, rest_core: Core, at: datetime
) -> None:
    fake.delay[str(CHANNEL_A)] = 2.0  # beyond the 1 s send timeout; the post still lands
    report = await deliver(rest_core, at)
    assert report.retrying == 1
    del fake.delay[str(CHANNEL_A)]
    await asyncio.sleep(1.5)
    await deliver(rest_core, at + timedelta(minutes=2))
    each_part_once(fake, CHANNEL_A)


async def test_a_rate_limit_longer_than_the_lease_goes_back_to_the_queue(
    fake: FakeDiscord, rest_core: Core, at: datetime
) -> None:
    fake.fail(CHANNEL_A, Failure(429, retry_after=300))
    await deliver(rest_core, at)
    with rest_core.session_factory() as s:
        rows = s.scalars(select(Delivery).where(Delivery.status == "pending")).all()
        assert [r.next_attempt_at >= at + timedelta(seconds=300) for r in rows] == [True]
    await deliver(rest_core, at + timedelta(minutes=6))
    for channel in CHANNELS:
        each_part_once(fake, channel)


async def test_a_refused_bot_token_pauses_discord_once_and_a_probe_resumes_it(
    fake: FakeDiscord, rest_core: Core, at: datetime
) -> None:
    token, fake.token = fake.token, "reset-in-the-portal"
    report = await deliver(rest_core, at)
    assert report.paused == 1 and fake.posts() == []
    refused = len(fake.requests)
    assert rest_core.service.readiness() == [
        "discord: Discord rejected the bot token (401): check PAPERBOT_DISCORD__TOKEN"
    ]
    await deliver(rest_core, at + timedelta(minutes=2))
    assert len(fake.requests) == refused  # no 401 storm: probes wait 10 minutes
    fake.token = token
    await deliver(rest_core, at + timedelta(minutes=11))
    assert rest_core.service.readiness() == []
    for channel in CHANNELS:
        each_part_once(fake, channel)


async def test_a_missing_permission_is_told_and_resumes_when_given_back(
    fake: FakeDiscord, make_discord_settings: Callable[..., Any], core_for: Any, at: datetime
) -> None:
    core: Core = core_for(make_discord_settings())
    add_channel(core, CHANNEL_A, at, size=3)
    async with running(core):
        await fake.set_everyone(GUILD_A, VIEW_CHANNEL | EMBED_LINKS | READ_MESSAGE_HISTORY)
        fake.fail(CHANNEL_A, Failure(403, 50013, "Missing Permissions", times=None))
        await deliver(core, at)
        await deliver(core, at + timedelta(minutes=5))
        assert len(fake.posts(CHANNEL_A)) == 1  # paused after one refusal
        (dm,) = fake.messages[str(900_000 + 1001)]
        assert f"In <#{CHANNEL_A}>" in dm["content"] and "Missing Permissions" in dm["content"]
        fake.failures.clear()
        await fake.set_everyone(GUILD_A, MEMBER)  # an admin gives Send Messages back

        def resumed() -> bool:
            with core.session_factory() as s:
                row = s.scalar(select(Channel).where(Channel.channel == str(CHANNEL_A)))
                return row is not None and not row.paused

        assert await eventually(resumed)
        await deliver(core, at + timedelta(days=1))
        posted = fake.messages[str(CHANNEL_A)]
        assert "Digests are back" in posted[-1]["content"]


async def test_without_a_member_to_dm_the_server_system_channel_is_told(
    fake: FakeDiscord, rest_core: Core, at: datetime
) -> None:
    fake.guilds[str(GUILD_A)]["system_channel_id"] = str(CHANNEL_A2)
    with rest_core.session_factory.begin() as s:  # added from the CLI: nobody set it up in chat
        s.query(Channel).filter(Channel.channel == str(CHANNEL_A)).update({"configured_by": None})
    fake.fail(CHANNEL_A, Failure(403, 50001, "Missing Access", times=None))
    await deliver(rest_core, at)
    (told,) = [m for m in fake.messages[str(CHANNEL_A2)] if m["content"].startswith("In <#")]
    assert told["content"].startswith(f"In <#{CHANNEL_A}>: paperbot paused this channel's")
    assert "Missing Access" in told["content"]
    assert fake.violations == []
