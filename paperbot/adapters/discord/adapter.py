"""DiscordAdapter: what bootstrap starts and stops (gateway client + the REST delivery port)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
from starlette.routing import BaseRoute

from paperbot.adapters.discord.gateway import make_client
from paperbot.adapters.discord.platform import DiscordPlatform
from paperbot.config import ConfigError, Settings
from paperbot.core.ports import ChatPlatform
from paperbot.core.service import Paperbot

log = logging.getLogger(__name__)
CONNECT_WAIT_SECONDS = 30.0


class DiscordConfigError(ConfigError):
    """Discord settings that cannot work; the message says what to set."""


def check_shards(settings: Settings) -> None:
    count, ids = settings.discord.shard_count, settings.discord.shard_ids
    if ids and not isinstance(count, int):
        raise DiscordConfigError(
            "PAPERBOT_DISCORD__SHARD_IDS needs PAPERBOT_DISCORD__SHARD_COUNT set to the total"
            " number of shards (not auto)."
        )
    if isinstance(count, int) and (count < 1 or any(not 0 <= i < count for i in ids)):
        raise DiscordConfigError(
            f"PAPERBOT_DISCORD__SHARD_IDS must be between 0 and {count - 1}"
            f" (PAPERBOT_DISCORD__SHARD_COUNT={count})."
        )


class DiscordAdapter:
    """The sync `platform` for delivery, no HTTP routes, and the gateway client's lifecycle."""

    def __init__(self, service: Paperbot, settings: Settings) -> None:
        if settings.discord.token is None:
            raise DiscordConfigError("Discord needs PAPERBOT_DISCORD__TOKEN (the bot token).")
        check_shards(settings)
        self.service = service
        self.settings = settings
        # Also points discord.py at PAPERBOT_DISCORD__API_BASE_URL / GATEWAY_URL.
        self.port = DiscordPlatform(settings)
        self.platform: ChatPlatform = self.port
        self.client: discord.Client | None = None
        self._task: asyncio.Task[None] | None = None

    def routes(self) -> list[BaseRoute]:
        return []

    async def start(self) -> None:
        """Log in (commands are synced in setup_hook), connect, and return once connected."""
        client = make_client(self.service, self.settings)
        token = self.settings.discord.token
        assert token is not None
        try:
            await client.login(token.get_secret_value())
        except discord.LoginFailure:
            await client.close()
            raise DiscordConfigError(
                "Discord rejected PAPERBOT_DISCORD__TOKEN: copy the bot token again from the"
                " Developer Portal (Bot page)."
            ) from None
        self.client = client
        self.port.attach(client)
        # The token works: whatever a refused token paused (every server) resumes now.
        await asyncio.to_thread(self.service.workspace_back, "discord", "*")
        self._task = asyncio.create_task(client.connect(reconnect=True), name="discord")
        connected = asyncio.create_task(client.connected.wait())  # type: ignore[attr-defined]
        done, _ = await asyncio.wait(
            {self._task, connected}, timeout=CONNECT_WAIT_SECONDS, return_when="FIRST_COMPLETED"
        )
        if self._task in done:
            connected.cancel()
            self._task.result()  # a gateway that refused us (bad intents, sharding): raise it
        elif not done:
            connected.cancel()
            log.warning(
                "discord gateway not connected after %.0f s; still trying", CONNECT_WAIT_SECONDS
            )

    async def stop(self) -> None:
        self.port.detach()
        if self.client is not None:
            await self.client.close()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, 10)
        await asyncio.to_thread(self.port.close)
