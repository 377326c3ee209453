"""Posting digests over Discord's REST API (no gateway): nonces, error classes, reconciling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from discord_harness import CHANNEL_A, GUILD_A, settings_for
from fakes.discord import Failure, FakeDiscord, pinged

from paperbot.adapters.discord.platform import DiscordPlatform, nonce_for
from paperbot.core.messages import ChannelRef, Digest, PaperCard
from paperbot.core.ports import DeliveryError

REF = ChannelRef("discord", str(GUILD_A), str(CHANNEL_A))


def digest(n: int = 3) -> Digest:
    papers = tuple(
        PaperCard(
            key=f"2401.{i:05d}",
            arxiv_id=f"2401.{i:05d}",
            title=f"@everyone paper {i}",
            url=f"https://arxiv.org/abs/2401.{i:05d}",
            summary="s " * 300,
        )
        for i in range(1, n + 1)
    )
    return Digest(REF, "Daily papers <@1001>", papers, datetime(2026, 11, 27, tzinfo=UTC))


@pytest.fixture
async def platform(fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[DiscordPlatform]:
    settings = settings_for(fake, "sqlite://", tmp_path, send_timeout_seconds=1.0)
    port = DiscordPlatform(settings)
    yield port
    await asyncio.to_thread(port.close)


def post_all(port: DiscordPlatform, ref: ChannelRef, posted: Digest, key: str) -> list[str]:
    """Every part of the digest, in order, as delivery posts them."""
    return [
        port.post_part(ref, posted, part, idempotency_key=key)
        for part in range(len(port.digest_parts(posted)))
    ]


async def post(port: DiscordPlatform, key: str, ref: ChannelRef = REF, n: int = 3) -> list[str]:
    return await asyncio.to_thread(post_all, port, ref, digest(n), key)


async def failure(
    port: DiscordPlatform, key: str, ref: ChannelRef = REF, n: int = 3
) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        await post(port, key, ref, n)
    return caught.value


async def test_posts_valid_messages_with_deterministic_nonces(
    fake: FakeDiscord, platform: DiscordPlatform
) -> None:
    ids = await post(platform, "41", n=25)
    posts = fake.posts(CHANNEL_A)
    assert len(ids) == len(posts) == 3 and ids == [m["id"] for m in fake.messages[str(CHANNEL_A)]]
    for i, request in enumerate(posts):
        assert request.headers["Content-Type"] == "application/json"
        assert request.body["nonce"] == nonce_for("41", i) and len(request.body["nonce"]) <= 25
        assert request.body["enforce_nonce"] is True
        assert request.body["allowed_mentions"]["parse"] == []
        assert pinged(request.body) == set()
        assert len(request.body["embeds"]) <= 10
    assert fake.violations == []
    assert nonce_for("41", 0) == nonce_for("41", 0) != nonce_for("41", 1) != nonce_for("42", 1)


async def test_a_retried_delivery_is_not_posted_twice(
    fake: FakeDiscord, platform: DiscordPlatform, tmp_path: Path
) -> None:
    first = await post(platform, "7")
    assert await post(platform, "7") == first
    # Another process (after a crash) sends the same nonces: Discord returns the same message.
    other = DiscordPlatform(settings_for(fake, "sqlite://", tmp_path))
    try:
        assert await post(other, "7") == first
    finally:
        await asyncio.to_thread(other.close)
    assert len(fake.messages[str(CHANNEL_A)]) == 1


async def test_find_posted_reads_the_marker_back_from_history(
    fake: FakeDiscord, platform: DiscordPlatform, tmp_path: Path
) -> None:
    ids = await post(platform, "9", n=25)
    other = DiscordPlatform(settings_for(fake, "sqlite://", tmp_path))
    try:
        assert await asyncio.to_thread(other.find_posted, REF, "9") == dict(enumerate(ids))
        assert await asyncio.to_thread(other.find_posted, REF, "10") == {}
    finally:
        await asyncio.to_thread(other.close)


async def test_a_half_posted_digest_resumes_with_the_missing_parts(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    crashed = DiscordPlatform(settings_for(fake, "sqlite://", tmp_path))
    fake.fail(CHANNEL_A, Failure(503, after=1, times=1))  # part 0 posted, part 1 fails
    try:
        assert (await failure(crashed, "11", n=25)).retryable
    finally:
        await asyncio.to_thread(crashed.close)
    fresh = DiscordPlatform(settings_for(fake, "sqlite://", tmp_path))
    posted = digest(25)
    try:
        found = await asyncio.to_thread(fresh.find_posted, REF, "11")
        assert list(found or {}) == [0]  # part 0 only
        rest = [
            await asyncio.to_thread(fresh.post_part, REF, posted, part, idempotency_key="11")
            for part in (1, 2)
        ]
    finally:
        await asyncio.to_thread(fresh.close)
    ids = [found[0], *rest]  # type: ignore[index]
    assert ids == [m["id"] for m in fake.messages[str(CHANNEL_A)]] and len(ids) == 3
    assert len(fake.posts(CHANNEL_A)) == 4  # part 0 was not sent again


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (403, 50001, "Missing Access"),
        (403, 50013, "Missing Permissions"),
        (404, 10003, "Unknown Channel"),
        (404, 0, "404: Not Found"),
    ],
)
async def test_permanent_errors_are_not_retried(
    fake: FakeDiscord, platform: DiscordPlatform, status: int, code: int, message: str
) -> None:
    fake.fail(CHANNEL_A, Failure(status, code, message, times=None))
    error = await failure(platform, "21")
    assert not error.retryable
    assert (message if code else "Not Found") in error.reason
    assert len(fake.posts(CHANNEL_A)) == 1  # one request, no retry (IP bans count these)


async def test_rate_limits_are_waited_out_and_cloudflare_blocks_back_off(
    fake: FakeDiscord, platform: DiscordPlatform
) -> None:
    fake.fail(CHANNEL_A, Failure(429, retry_after=0.2, times=1))
    assert len(await post(platform, "31")) == 1
    assert len(fake.posts(CHANNEL_A)) == 2
    # Without `Via` the 429 is Cloudflare's: no immediate retry, a long retry_after instead.
    fake.fail(CHANNEL_A, Failure(429, retry_after=0.2, via=False, times=None))
    error = await failure(platform, "32")
    assert error.retryable and (error.retry_after or 0) >= 600
    assert len(fake.posts(CHANNEL_A)) == 3


async def test_server_errors_and_timeouts_are_retryable(
    fake: FakeDiscord, platform: DiscordPlatform
) -> None:
    fake.fail(CHANNEL_A, Failure(503, times=1))
    assert (await failure(platform, "51")).retryable
    fake.delay[str(CHANNEL_A)] = 1.5
    error = await failure(platform, "52")
    assert error.retryable and error.outcome_unknown and "in time" in error.reason


async def test_bad_token_and_bad_refs_fail_clearly(fake: FakeDiscord, tmp_path: Path) -> None:
    settings = settings_for(fake, "sqlite://", tmp_path, token="wrong-token")
    port = DiscordPlatform(settings)
    try:
        error = await failure(port, "61")
        assert not error.retryable and error.scope == "platform" and "token" in error.reason
        assert "wrong-token" not in error.reason
        logins = len(fake.requests)
        await failure(port, "62")
        assert len(fake.requests) == logins  # no login storm with a rejected token
        bad = await failure(port, "63", ChannelRef("discord", "1", "general"))
        assert not bad.retryable
    finally:
        await asyncio.to_thread(port.close)
