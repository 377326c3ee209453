"""Run the real Discord adapter against the loopback fake Discord: settings, core, helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fakes.discord import FakeDiscord
from sqlalchemy import select

from paperbot.adapters.discord.adapter import DiscordAdapter
from paperbot.bootstrap import Core, build_core
from paperbot.config import Settings
from paperbot.core.models import Channel

# Guild ids chosen so that with two shards A lands on shard 0 and B on shard 1.
GUILD_A = 2 << 22
GUILD_B = 3 << 22
CHANNEL_A = 5001
CHANNEL_A2 = 5002
CHANNEL_B = 6001
DM_CHANNEL = 7001


def settings_for(fake: FakeDiscord, database_url: str, tmp_path: Path, **discord: Any) -> Settings:
    values: dict[str, Any] = {
        "token": fake.token,
        "api_base_url": fake.api_base_url,
        "gateway_url": fake.gateway_url,
        **discord,
    }
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        index_dir=tmp_path / "index",
        discord=values,
        hf={"enabled": False},
        arxiv={"enabled": False},
        seed_sample_data="true",  # papers to post (by default none are seeded beside Discord)
    )


def open_core(settings: Settings) -> Core:
    # Seeded with today's date so the bundled papers are recent enough for a digest.
    return build_core(settings, now=datetime.now(UTC), seed=True)


@asynccontextmanager
async def running(core: Core, settings: Settings | None = None) -> AsyncIterator[DiscordAdapter]:
    """The adapter as `paperbot run` starts it: platform registered, gateway connected."""
    adapter = DiscordAdapter(core.service, settings or core.settings)
    core.service.platforms["discord"] = adapter.platform
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll a (blocking) check in a thread until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await asyncio.to_thread(check)
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


def channel_row(core: Core, guild: int, channel: int) -> Channel | None:
    with core.session_factory() as session:
        return session.scalars(
            select(Channel).where(
                Channel.platform == "discord",
                Channel.workspace == str(guild),
                Channel.channel == str(channel),
            )
        ).first()
