"""Fixtures for the Discord adapter: the loopback fake Discord, settings pointing at it, a core."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from discord_harness import (
    CHANNEL_A,
    CHANNEL_A2,
    CHANNEL_B,
    GUILD_A,
    GUILD_B,
    open_core,
    settings_for,
)
from fakes.discord import FakeDiscord

from paperbot.bootstrap import Core
from paperbot.config import Settings


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord().start()
    server.add_guild(GUILD_A, {CHANNEL_A: "general", CHANNEL_A2: "papers"}, name="Lab A")
    server.add_guild(GUILD_B, {CHANNEL_B: "general"}, name="Lab B")
    yield server
    await server.stop()


@pytest.fixture
def make_discord_settings(
    fake: FakeDiscord, database_url: str, tmp_path: Path
) -> Callable[..., Settings]:
    return lambda **discord: settings_for(fake, database_url, tmp_path, **discord)


@pytest.fixture
def sqlite_settings(fake: FakeDiscord, sqlite_url: str, tmp_path: Path) -> Settings:
    return settings_for(fake, sqlite_url, tmp_path)


@pytest.fixture
def core_for() -> Iterator[Callable[[Settings], Core]]:
    opened: list[Core] = []

    def make(settings: Settings) -> Core:
        core = open_core(settings)
        opened.append(core)
        return core

    yield make
    for core in opened:
        core.close()
