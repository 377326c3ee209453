"""The discord.py client: command tree, interaction handling, guild events, command sync."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import discord
from discord import app_commands

from paperbot.adapters.discord.commands import build_group
from paperbot.adapters.discord.platform import client_options
from paperbot.adapters.discord.render import NO_MENTIONS, reply_parts
from paperbot.adapters.discord.views import PaperbotButton, build_view
from paperbot.config import Settings
from paperbot.core.commands import CHANNEL_CHANGES, Caller, Command, ParseError
from paperbot.core.messages import ChannelRef, Reply
from paperbot.core.service import Paperbot

log = logging.getLogger(__name__)
# Discord wants a first response within 3 s: answer directly if the core is this quick,
# else defer and follow up.
ANSWER_BUDGET_SECONDS = 1.5
AUTOCOMPLETE_BUDGET_SECONDS = 2.0
SORRY = "Something went wrong on paperbot's side; please try again shortly."
# (flag, name) the bot needs to post digests in a channel / in a thread.
POST_PERMISSIONS = (("view_channel", "View Channel"), ("embed_links", "Embed Links"))


def now() -> datetime:
    return datetime.now(UTC)


def missing_permissions(app: discord.Permissions, *, thread: bool) -> list[str]:
    """What the bot lacks to post digests here, by Discord's names."""
    needed = [*POST_PERMISSIONS]
    needed.insert(
        1,
        ("send_messages_in_threads", "Send Messages in Threads")
        if thread
        else ("send_messages", "Send Messages"),
    )
    return [name for flag, name in needed if not getattr(app, flag)]


def caller_for(interaction: discord.Interaction[Any]) -> Caller:
    """Who is asking and what they (and the bot) may do in this channel, checked right now."""
    channel = str(interaction.channel_id or 0)
    user = str(interaction.user.id)
    if interaction.guild_id is None:
        return Caller("discord", "@me", channel, user, is_dm=True)
    # Both are resolved by Discord for this channel, overwrites included.
    member, app = interaction.permissions, interaction.app_permissions
    missing = missing_permissions(app, thread=isinstance(interaction.channel, discord.Thread))
    return Caller(
        "discord",
        str(interaction.guild_id),
        channel,
        user,
        is_admin=member.administrator,
        can_manage_channel=member.administrator or member.manage_channels,
        bot_can_post=not missing,
        bot_missing=", ".join(missing) or None,
    )


class InteractionRunner:
    """Runs a core Command for an interaction and answers it within Discord's deadline."""

    def __init__(self, service: Paperbot) -> None:
        self.service = service

    async def run(
        self, interaction: discord.Interaction[Any], build: Callable[[], Command], *, slow: bool
    ) -> None:
        try:
            command = build()
        except ParseError as exc:
            await self.answer(interaction, Reply(kind="error", text=str(exc)))
            return
        try:
            await self._execute(interaction, command, slow=slow)
        except discord.HTTPException as exc:
            log.warning("discord interaction answer failed: %s %s", exc.status, exc.code)
        except Exception:
            log.exception("discord interaction failed")
            await self.answer(interaction, Reply(kind="error", text=SORRY))

    async def topics(self, ref: ChannelRef) -> list[str]:
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self.service.topics, ref), AUTOCOMPLETE_BUDGET_SECONDS
            )
        except Exception:
            log.warning("topic autocomplete failed", exc_info=True)
            return []

    async def _execute(
        self, interaction: discord.Interaction[Any], command: Command, *, slow: bool
    ) -> None:
        caller = caller_for(interaction)
        if slow:
            await interaction.response.defer(ephemeral=True, thinking=True)
        task = asyncio.ensure_future(
            asyncio.to_thread(self.service.execute, command, caller, now=now())
        )
        if not slow:
            done, _ = await asyncio.wait({task}, timeout=ANSWER_BUDGET_SECONDS)
            if not done:
                # A confirmation of a channel change is public; everything else is private.
                changes = isinstance(command, CHANNEL_CHANGES) and not caller.is_dm
                await interaction.response.defer(ephemeral=not changes, thinking=True)
        await self.answer(interaction, await task)

    async def answer(self, interaction: discord.Interaction[Any], reply: Reply) -> None:
        """Send the reply as one or more messages (the first answers the interaction)."""
        for part in reply_parts(reply):
            kwargs: dict[str, Any] = {
                "embeds": list(part.embeds),
                "allowed_mentions": NO_MENTIONS,
                "ephemeral": reply.ephemeral,
            }
            if part.content is not None:
                kwargs["content"] = part.content
            if (view := build_view(part.buttons)) is not None:
                kwargs["view"] = view
            if interaction.response.is_done():
                await interaction.followup.send(**kwargs)
            else:
                await interaction.response.send_message(**kwargs)


class PaperbotTree(app_commands.CommandTree[discord.Client]):
    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            text = "This command is out of date in your Discord app; try again in a minute."
        elif isinstance(error, app_commands.TransformerError | app_commands.CheckFailure):
            text = "That value does not work here. Try `/papers help`."
        else:
            log.error("app command failed", exc_info=error)
            text = SORRY
        runner: InteractionRunner | None = getattr(interaction.client, "paperbot", None)
        if runner is not None:
            try:
                await runner.answer(interaction, Reply(kind="error", text=text))
            except discord.HTTPException:
                log.warning("could not report an app command error", exc_info=True)


class _Events:
    """Event handlers and start-up shared by the plain and the auto-sharded client."""

    paperbot: InteractionRunner
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
        self.add_dynamic_items(PaperbotButton)  # type: ignore[attr-defined]
        self.synced = await sync_commands(self.tree, self.guild_ids)

    async def on_connect(self) -> None:
        self.connected.set()

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await asyncio.to_thread(self.paperbot.service.workspace_back, "discord", str(guild.id))

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await asyncio.to_thread(
            self.paperbot.service.workspace_gone,
            "discord",
            str(guild.id),
            "paperbot was removed from this Discord server",
            now=now(),
        )

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        ref = ChannelRef("discord", str(channel.guild.id), str(channel.id))
        await asyncio.to_thread(
            self.paperbot.service.channel_gone, ref, "the channel was deleted", now=now()
        )

    # Permission changes: a channel paused for a missing permission resumes once the gateway's
    # view of its permissions says paperbot can post there again.
    async def on_guild_channel_update(
        self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        await self._recheck(after.guild)

    async def on_guild_role_update(self, before: discord.Role, after: discord.Role) -> None:
        await self._recheck(after.guild)

    async def on_guild_update(self, before: discord.Guild, after: discord.Guild) -> None:
        await self._recheck(after)

    async def _recheck(self, guild: discord.Guild) -> None:
        me = guild.me
        if me is None:
            return
        service = self.paperbot.service
        paused = await asyncio.to_thread(
            service.paused_channels, "discord", str(guild.id), ["permission"]
        )
        for channel_id in paused:
            channel = guild.get_channel_or_thread(int(channel_id))
            if channel is None:
                continue
            thread = isinstance(channel, discord.Thread)
            if not missing_permissions(channel.permissions_for(me), thread=thread):
                ref = ChannelRef("discord", str(guild.id), channel_id)
                await asyncio.to_thread(service.channel_back, ref, ["permission"])

    async def on_thread_delete(self, thread: discord.Thread) -> None:
        ref = ChannelRef("discord", str(thread.guild.id), str(thread.id))
        await asyncio.to_thread(
            self.paperbot.service.channel_gone, ref, "the thread was deleted", now=now()
        )


class PaperbotClient(_Events, discord.Client):
    def __init__(self, service: Paperbot, settings: Settings) -> None:
        discord.Client.__init__(self, **client_options(settings.discord))
        self._setup(service, settings)


class ShardedPaperbotClient(_Events, discord.AutoShardedClient):
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
