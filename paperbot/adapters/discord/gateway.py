"""The discord.py clients paperbot runs (one shard, or auto-sharded) and the command sync."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord import app_commands

from paperbot.adapters.discord.commands import build_group
from paperbot.adapters.discord.inbound import GuildEvents, InteractionRunner, PaperbotTree
from paperbot.adapters.discord.platform import client_options
from paperbot.adapters.discord.threads import Engagement
from paperbot.adapters.discord.views import PaperbotComponent
from paperbot.config import Settings
from paperbot.core.service import Paperbot

log = logging.getLogger(__name__)


class _Gateway(GuildEvents, Engagement):
    """Start-up shared by the plain and the auto-sharded client."""

    tree: PaperbotTree
    guild_ids: list[int]
    synced: list[int | None]
    connected: asyncio.Event

    def _setup(self, service: Paperbot, settings: Settings) -> None:
        self.connected = asyncio.Event()
        self.paperbot = InteractionRunner(service)
        self.tree = PaperbotTree(self)  # type: ignore[arg-type]
        self.tree.add_command(build_group(self.paperbot))
        self.guild_ids = list(settings.discord.guild_ids)
        self.synced = []

    async def setup_hook(self) -> None:
        # Buttons keep working after a restart: their state is in the custom id.
        self.add_dynamic_items(PaperbotComponent)  # type: ignore[attr-defined]
        self.synced = await sync_commands(self.tree, self.guild_ids)

    async def on_connect(self) -> None:
        self.connected.set()


class PaperbotClient(_Gateway, discord.Client):
    def __init__(self, service: Paperbot, settings: Settings) -> None:
        discord.Client.__init__(self, **client_options(settings.discord))
        self._setup(service, settings)


class ShardedPaperbotClient(_Gateway, discord.AutoShardedClient):
    def __init__(self, service: Paperbot, settings: Settings) -> None:
        count = settings.discord.shard_count
        options = client_options(settings.discord)
        if settings.discord.shard_ids:
            options["shard_ids"] = list(settings.discord.shard_ids)
        discord.AutoShardedClient.__init__(
            self, shard_count=None if count == "auto" else count, **options
        )
        self._setup(service, settings)


def make_client(service: Paperbot, settings: Settings) -> discord.Client:
    """One shard by default; AutoShardedClient for a shard count (or "auto") or shard ids."""
    discord_settings = settings.discord
    sharded = discord_settings.shard_count not in (None, 1) or discord_settings.shard_ids
    if sharded:
        return ShardedPaperbotClient(service, settings)
    return PaperbotClient(service, settings)


async def sync_commands(
    tree: app_commands.CommandTree[Any], guild_ids: list[int]
) -> list[int | None]:
    """Upload the command schema where Discord's copy differs: to each test guild (instant) or
    globally. Returns where it synced (None = globally)."""
    client, http = tree.client, tree.client.http
    app_id = client.application_id
    if app_id is None:
        raise app_commands.MissingApplicationID
    targets: list[discord.Object | None] = [discord.Object(id=g) for g in guild_ids] or [None]
    synced: list[int | None] = []
    for guild in targets:
        if guild is not None:
            tree.copy_global_to(guild=guild)
        local = [command.to_dict(tree) for command in tree.get_commands(guild=guild)]
        try:
            if guild is None:
                remote = await http.get_global_commands(app_id)
            else:
                remote = await http.get_guild_commands(app_id, guild.id)
        except discord.HTTPException:
            remote = []
        where = f"to guild {guild.id}" if guild else "globally"
        if same_schema(local, list(remote)):
            continue
        try:
            await tree.sync(guild=guild)
        except discord.HTTPException as exc:
            # e.g. a test guild that did not grant applications.commands: the rest still work.
            log.error("could not sync discord commands %s: %s %s", where, exc.status, exc.text)
            continue
        synced.append(guild.id if guild else None)
        log.info("synced discord commands %s", where)
    return synced


def same_schema(local: list[dict[str, Any]], remote: list[Any]) -> bool:
    """Whether Discord already has these commands (it adds ids and defaults to its copy)."""
    by_name = {(c.get("name"), c.get("type", 1)): c for c in remote}
    if len(by_name) != len(local):
        return False
    return all(_covers(by_name.get((c["name"], c.get("type", 1))), c) for c in local)


def _is_default(value: Any) -> bool:
    return value is None or value is False or value == [] or value == {} or value == ""


def _covers(remote: Any, local: Any) -> bool:
    if _is_default(local) and _is_default(remote):
        return True
    if isinstance(local, dict):
        return isinstance(remote, dict) and all(
            _covers(remote.get(key), value) for key, value in local.items()
        )
    if isinstance(local, list):
        return (
            isinstance(remote, list)
            and len(remote) == len(local)
            and all(_covers(r, v) for r, v in zip(remote, local, strict=True))
        )
    # Discord sends some numbers (permissions, ids) back as strings.
    return remote is not None and str(remote) == str(local)
