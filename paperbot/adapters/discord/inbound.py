"""Inbound Discord: app commands and buttons run as core Commands within Discord's deadline, and
the gateway's guild events as core calls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import discord
from discord import app_commands

from paperbot.adapters.discord import threads
from paperbot.adapters.discord.render import NO_MENTIONS, reply_parts
from paperbot.adapters.discord.views import build_view
from paperbot.adapters.locks import KeyedLocks
from paperbot.adapters.replies import reply_for
from paperbot.core.commands import Caller, Command, Discuss, changes_channel
from paperbot.core.errors import SORRY
from paperbot.core.messages import ChannelRef, Reply
from paperbot.core.service import Paperbot

log = logging.getLogger(__name__)

# Discord's words in the core's replies: who may change a channel's digest.
MANAGERS = "members who can *Manage Channels* here (or server admins)"
# Discord wants a first response within 3 s: answer directly if the core is this quick,
# else defer and follow up.
ANSWER_BUDGET_SECONDS = 1.5
AUTOCOMPLETE_BUDGET_SECONDS = 2.0
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
    name = getattr(interaction.channel, "name", None)
    return Caller(
        "discord",
        str(interaction.guild_id),
        channel,
        user,
        is_admin=member.administrator,
        can_manage_channel=member.administrator or member.manage_channels,
        bot_can_post=not missing,
        bot_missing=", ".join(missing) or None,
        channel_name=f"#{name}" if isinstance(name, str) and name else None,
        managers=MANAGERS,
    )


class InteractionRunner:
    """Runs a core Command for an interaction and answers it within Discord's deadline."""

    def __init__(self, service: Paperbot) -> None:
        self.service = service
        self.discussing = KeyedLocks()

    async def run(
        self, interaction: discord.Interaction[Any], build: Callable[[], Command], *, slow: bool
    ) -> None:
        try:
            command = build()
        except Exception as exc:
            await self.answer(interaction, reply_for(exc, "command", "discord"))
            return
        try:
            await self._execute(interaction, command, slow=slow)
        except discord.HTTPException as exc:
            log.warning("discord interaction answer failed: %s %s", exc.status, exc.code)
        except Exception as exc:
            await self.answer(interaction, reply_for(exc, "interaction", "discord"))

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
        # Two presses of Discuss on one paper at once: the second waits and finds the thread.
        key = (caller.channel, command.paper) if isinstance(command, Discuss) else None
        async with self.discussing.hold(key):
            task = asyncio.ensure_future(
                asyncio.to_thread(self.service.execute, command, caller, now=now())
            )
            if not slow:
                done, _ = await asyncio.wait({task}, timeout=ANSWER_BUDGET_SECONDS)
                if not done:
                    # A confirmation of a channel change is public; everything else is private.
                    changes = changes_channel(command) and not caller.is_dm
                    await interaction.response.defer(ephemeral=not changes, thinking=True)
            reply = await task
            if reply.kind == "discuss" and reply.papers:
                await self.discuss(interaction, caller, reply)
                return
        await self.answer(interaction, reply)

    async def discuss(
        self, interaction: discord.Interaction[Any], caller: Caller, reply: Reply
    ) -> None:
        """Open the paper's thread (or point to the one it has) and answer privately."""
        if reply.thread and reply.thread.isdigit():
            await self.say(interaction, f"The discussion is here: <#{reply.thread}>")
            return
        if caller.is_dm or isinstance(interaction.channel, discord.Thread):
            await self.say(interaction, "Papers are discussed in a server channel.")
            return
        app = interaction.app_permissions
        if not (app.create_public_threads and app.send_messages_in_threads):
            await self.say(interaction, threads.NEEDS)  # asking would only earn a 403
            return
        card = reply.papers[0]
        try:
            thread, message = await threads.open_thread(
                interaction.client, int(caller.channel), card
            )
        except discord.HTTPException as exc:
            log.info("discord: no thread in %s: %s %s", caller.channel, exc.status, exc.code)
            await self.say(interaction, threads.refusal(exc))
            return
        ref = ChannelRef("discord", caller.workspace, caller.channel)
        service = self.service
        await asyncio.to_thread(service.thread_opened, ref, card.key, thread, now=now())
        await asyncio.to_thread(
            service.record_posted, ref, message, [card.key], kind="discuss", now=now()
        )
        await self.say(interaction, f"Started a thread for it: <#{thread}>")

    async def say(self, interaction: discord.Interaction[Any], content: str) -> None:
        """A private line of paperbot's own text (channel links stay links: they ping nobody)."""
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS, "ephemeral": True}
        if interaction.response.is_done():
            await interaction.followup.send(content, **kwargs)
        else:
            await interaction.response.send_message(content, **kwargs)

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
            if (view := build_view(part.buttons, part.selects)) is not None:
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


class GuildEvents:
    """The gateway's events about guilds, channels and threads, as core calls (a mixin of the
    clients in gateway.py)."""

    paperbot: InteractionRunner

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
