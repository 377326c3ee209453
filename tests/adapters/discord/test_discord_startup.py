"""Start-up against the fake Discord: command schema sync (snapshot), sharding, the 3 s deadline."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from discord_harness import CHANNEL_A, CHANNEL_B, GUILD_A, GUILD_B, running, settings_for
from fakes.discord import MANAGE_CHANNELS, MEMBER, FakeDiscord

from paperbot.bootstrap import Core
from paperbot.config import Settings
from paperbot.core.commands import USAGE

SNAPSHOT = Path(__file__).with_name("discord_commands_schema.json")
UPDATE = os.environ.get("PAPERBOT_TEST_UPDATE_SNAPSHOTS") == "1"


def puts(fake: FakeDiscord) -> list[Any]:
    return [r for r in fake.requests if r.method == "PUT"]


async def test_command_schema_is_synced_once_and_matches_the_snapshot(
    fake: FakeDiscord, sqlite_settings: Settings, core_for: Any
) -> None:
    core: Core = core_for(sqlite_settings)
    async with running(core):
        pass
    [put] = puts(fake)
    assert put.route == "/applications/{application_id}/commands"
    if UPDATE or not SNAPSHOT.exists():
        SNAPSHOT.write_text(json.dumps(put.body, indent=2, ensure_ascii=False) + "\n")
    assert put.body == json.loads(SNAPSHOT.read_text())
    assert fake.violations == []  # the schema is valid per Discord's OpenAPI spec
    assert fake.compressions == ["zlib-stream"]  # what discord.py asks for without zstandard
    [papers] = put.body
    subcommands = [option["name"] for option in papers["options"]]
    assert subcommands == list(USAGE)  # every command of the core grammar, in its order
    # Unchanged schema: the next start only reads the commands back.
    async with running(core):
        pass
    assert len(puts(fake)) == 1


async def test_test_guilds_get_the_commands_at_once(
    fake: FakeDiscord, sqlite_url: str, tmp_path: Path, core_for: Any
) -> None:
    settings = settings_for(fake, sqlite_url, tmp_path, guild_ids=f"{GUILD_A},{GUILD_B}")
    core: Core = core_for(settings)
    async with running(core):
        answer = await fake.interact(fake.command("help", guild_id=GUILD_B, channel_id=CHANNEL_B))
        assert "/papers search" in answer.body["data"]["content"]
    assert (
        sorted(r.route for r in puts(fake))
        == ["/applications/{application_id}/guilds/{guild_id}/commands"] * 2
    )
    assert {r.path.split("/")[-2] for r in puts(fake)} == {str(GUILD_A), str(GUILD_B)}


@pytest.mark.parametrize(
    ("shards", "shard_ids", "identified"),
    [
        ("auto", "", [[0, 2], [1, 2]]),
        (2, "[1]", [[1, 2]]),
    ],
)
async def test_sharding(
    fake: FakeDiscord,
    sqlite_url: str,
    tmp_path: Path,
    core_for: Any,
    shards: Any,
    shard_ids: str,
    identified: list[list[int]],
) -> None:
    fake.shards_recommended = 2
    settings = settings_for(fake, sqlite_url, tmp_path, shard_count=shards, shard_ids=shard_ids)
    core: Core = core_for(settings)
    async with running(core):
        await fake.identified(len(identified))
        assert sorted(i["shard"] for i in fake.identifies) == identified
        asked_gateway = any(r.route == "/gateway/bot" for r in fake.requests)
        assert asked_gateway == (shards == "auto")
        answer = await fake.interact(fake.command("help", guild_id=GUILD_B, channel_id=CHANNEL_B))
        assert answer.latency < 3.0


async def test_a_slow_core_still_answers_within_three_seconds(
    fake: FakeDiscord, sqlite_settings: Settings, core_for: Any
) -> None:
    core: Core = core_for(sqlite_settings)
    path = sqlite_settings.database_url.removeprefix("sqlite:///")
    async with running(core):
        # Another writer holds the database for a while: the subscribe has to wait for it.
        blocker = sqlite3.connect(path, timeout=30, check_same_thread=False)
        blocker.execute("BEGIN IMMEDIATE")
        payload = fake.command(
            "subscribe",
            {"topic": "diffusion"},
            guild_id=GUILD_A,
            channel_id=CHANNEL_A,
            permissions=MEMBER | MANAGE_CHANNELS,
        )
        callback = await fake.interact(payload)
        assert callback.latency < 3.0 and callback.body["type"] == 5
        assert not (callback.body.get("data") or {}).get("flags")  # the confirmation is public
        await asyncio.sleep(0.5)
        blocker.rollback()
        blocker.close()
        message = await fake.followup(payload)
        assert "Subscribed this channel" in message["content"]


async def test_reconnects_when_the_gateway_drops_the_connection(
    fake: FakeDiscord, sqlite_settings: Settings, core_for: Any
) -> None:
    core: Core = core_for(sqlite_settings)
    async with running(core):
        await fake.drop()
        await fake.identified(timeout=15)
        assert len(fake.identifies) == 1 and len(fake.resumes) == 1  # resumed, not re-identified
        answer = await fake.interact(fake.command("help", guild_id=GUILD_A, channel_id=CHANNEL_A))
        assert answer.latency < 3.0


def test_shard_ids_without_a_shard_count_is_a_clear_error(
    fake: FakeDiscord, sqlite_url: str, tmp_path: Path, core_for: Any
) -> None:
    from paperbot.adapters.discord.adapter import DiscordAdapter, DiscordConfigError

    settings = settings_for(fake, sqlite_url, tmp_path, shard_ids="0,1")
    with pytest.raises(DiscordConfigError, match="SHARD_COUNT"):
        DiscordAdapter(core_for(settings).service, settings)
    settings = settings_for(fake, sqlite_url, tmp_path, shard_ids="2", shard_count=2)
    with pytest.raises(DiscordConfigError, match="SHARD_IDS"):
        DiscordAdapter(core_for(settings).service, settings)
