"""Inbound Slack: the bolt listeners for `/papers`, buttons and lifecycle events, as core calls."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from cachetools import TTLCache
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from paperbot.adapters.locks import KeyedLocks
from paperbot.adapters.replies import reply_for
from paperbot.adapters.slack import buttons, render
from paperbot.adapters.slack.engagement import SlackEngagement
from paperbot.adapters.slack.users import AdminCache, bot_can_post
from paperbot.config import Settings
from paperbot.core import commands
from paperbot.core.commands import Caller, Command, Discuss, changes_channel
from paperbot.core.messages import ChannelRef, Reply
from paperbot.core.service import Paperbot

log = logging.getLogger(__name__)

# Slack's words in the core's replies: who may change a digest, how to let the bot post.
MANAGERS = "workspace admins and owners (or users on paperbot's admin list)"
FIX_POSTING = "invite @paperbot first (`/invite @paperbot`)"

CHANNEL_EVENTS = {
    "channel_deleted": ("gone", "the channel was deleted"),
    "group_deleted": ("gone", "the channel was deleted"),
    "channel_archive": ("archived", "the channel was archived"),
    "group_archive": ("archived", "the channel was archived"),
}
# Events after which paperbot can post in a channel again, and the pauses they end.
BACK_EVENTS = {"channel_unarchive": ("archived",), "group_unarchive": ("archived",)}
# paperbot (re)invited: ends a pause for not being a member, or for a private channel that
# was "not found" because paperbot was not in it.
JOINED_ENDS = ("not_in_channel", "gone")
Answer = tuple[render.SlackMessage, str]  # message, response_type
# Every button paperbot posts; anything else is an older paperbot's (on_unknown_action).
ACTIONS = (
    buttons.ACTION_SHARE,
    buttons.ACTION_NEXT,
    buttons.ACTION_MORE,
    buttons.ACTION_LIKE,
    buttons.ACTION_DISLIKE,
    buttons.ACTION_DISCUSS,
)


class EventDeduper:
    """Slack retries events it thinks failed: remember event ids for an hour (bounded)."""

    def __init__(
        self, ttl: float = 3600.0, size: int = 50_000, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self._seen: TTLCache[str, bool] = TTLCache(maxsize=size, ttl=ttl, timer=timer)

    def first_time(self, event_id: str) -> bool:
        if event_id in self._seen:
            return False
        self._seen[event_id] = True
        return True


async def _answer(respond: AsyncRespond, **message: Any) -> None:
    """Post to response_url; a failure is one warning line (the request was already acked)."""
    try:
        await respond(**message)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        log.warning("slack: could not answer through response_url (%s)", type(exc).__name__)


def answer(reply: Reply, command: Command | None) -> Answer:
    message = render.render_reply(reply, rerun=command)
    return message, "ephemeral" if reply.ephemeral else "in_channel"


def channel_label(name: object) -> str | None:
    """#name as people know the channel; None for a DM or a private one Slack does not name."""
    if not isinstance(name, str) or not name or name in ("directmessage", "privategroup"):
        return None
    return f"#{name}"


def button_caller(body: dict[str, Any]) -> Caller:
    """Who pressed a button, and where, from the signed block_actions payload."""
    user = body.get("user") or {}
    team = body.get("team")
    team_id = team.get("id") if isinstance(team, dict) else team  # bolt allows a bare id
    channel = body.get("channel") or {}
    return Caller(
        platform="slack",
        workspace=str(team_id or user.get("team_id") or ""),
        channel=str(channel.get("id") or ""),
        user=str(user.get("id") or ""),
        channel_name=channel_label(channel.get("name")),
        fix_posting=FIX_POSTING,
        managers=MANAGERS,
    )


class SlackCommands:
    """Listeners of the bolt app; every core call runs in a worker thread."""

    def __init__(self, service: Paperbot, settings: Settings) -> None:
        self.service = service
        self.settings = settings
        self.admins = AdminCache(ttl=settings.slack.admin_cache_seconds)
        self.allow_list = set(settings.slack.admins)
        self.deduper = EventDeduper()
        self.engagement = SlackEngagement(service)
        self.discussing = KeyedLocks()
        self.on_workspace_gone: Callable[[str | None, str], Awaitable[None]] | None = None

    def register(self, app: AsyncApp) -> None:
        app.middleware(self.dedupe_events)
        app.command(self.settings.slack.command)(self.on_command)
        for action_id in ACTIONS:
            app.action(action_id)(self.on_action)
        # Last, so it only catches buttons from an older paperbot (bolt runs the first match).
        app.action(re.compile(".*"))(self.on_unknown_action)
        app.event("app_uninstalled")(self.on_uninstalled)
        app.event("tokens_revoked")(self.on_tokens_revoked)
        for name in CHANNEL_EVENTS:
            app.event(name)(self.on_channel_event)
        for name in BACK_EVENTS:
            app.event(name)(self.on_channel_back)
        app.event("member_joined_channel")(self.on_member_joined)
        self.engagement.register(app)

    async def dedupe_events(self, body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> Any:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not self.deduper.first_time(str(event_id)):
            return BoltResponse(status=200, body="")
        await next()
        return None

    # --- slash command --------------------------------------------------------------------

    async def on_command(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        try:
            command: Command | None = commands.parse(str(body.get("text") or ""))
        except Exception as exc:
            reply = reply_for(exc, "command", "slack")
            await ack(response_type="ephemeral", **render.render_error(reply.text).args())
            return
        assert command is not None
        task = asyncio.ensure_future(self._execute(command, body, client))
        try:
            message, response_type = await asyncio.wait_for(
                asyncio.shield(task), timeout=self.settings.slack.ack_budget_seconds
            )
        except TimeoutError:
            # Too slow for the 3-second ack: acknowledge now, answer through response_url.
            await ack()
            message, response_type = await task
            if body.get("response_url"):
                await _answer(respond, response_type=response_type, **message.args())
            return
        await ack(response_type=response_type, **message.args())

    async def _execute(
        self, command: Command, body: dict[str, Any], client: AsyncWebClient
    ) -> Answer:
        try:
            caller = await self.caller(command, body, client)
            reply = await asyncio.to_thread(
                self.service.execute, command, caller, now=datetime.now(UTC)
            )
            return answer(reply, command)
        except Exception as exc:
            return render.render_error(reply_for(exc, "command", "slack").text), "ephemeral"

    async def caller(
        self, command: Command, body: dict[str, Any], client: AsyncWebClient
    ) -> Caller:
        """What the core's policy needs, from the signed request and (for changes) Slack's API."""
        team = str(body.get("team_id") or "")
        channel = str(body.get("channel_id") or "")
        user = str(body.get("user_id") or "")
        is_dm = body.get("channel_name") == "directmessage" or channel.startswith("D")
        is_admin, can_post = False, None
        if changes_channel(command) and not is_dm:
            is_admin, can_post = await asyncio.gather(
                self.admins.is_admin(client, team, user), bot_can_post(client, channel)
            )
        return Caller(
            platform="slack",
            workspace=team,
            channel=channel,
            user=user,
            is_admin=is_admin,
            can_manage_channel=user in self.allow_list,
            is_dm=is_dm,
            bot_can_post=can_post,
            channel_name=channel_label(body.get("channel_name")),
            fix_posting=FIX_POSTING,
            managers=MANAGERS,
        )

    # --- buttons --------------------------------------------------------------------------

    async def on_action(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        if not body.get("response_url"):
            return  # a button outside a message (App Home, a modal): nowhere to answer
        action_id = action.get("action_id")
        try:
            command = buttons.decode(str(action.get("value") or ""))
        except Exception as exc:  # a button of an older (or newer) paperbot, or tampered with
            message = render.render_error(reply_for(exc, "button", "slack").text)
            await _answer(
                respond, response_type="ephemeral", replace_original=False, **message.args()
            )
            return
        caller = button_caller(body)
        ref = ChannelRef("slack", caller.workspace, caller.channel)
        # Two presses of Discuss on one paper at once: the second waits and finds the thread.
        key = (ref, command.paper) if isinstance(command, Discuss) else None
        async with self.discussing.hold(key):
            try:
                reply = await asyncio.to_thread(
                    self.service.execute, command, caller, now=datetime.now(UTC)
                )
            except Exception as exc:
                reply = reply_for(exc, "action", "slack")
            if reply.kind == "discuss" and reply.papers:
                await self.engagement.discuss(client, ref, reply, body, respond)
                return
        if action_id == buttons.ACTION_SHARE and reply.kind != "error":
            await self.engagement.share(client, ref, reply, caller.user, respond)
            return
        message, _ = answer(reply, command)
        replace = action_id == buttons.ACTION_NEXT
        await _answer(
            respond, response_type="ephemeral", replace_original=replace, **message.args()
        )

    async def on_unknown_action(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        if not body.get("response_url"):
            return
        message = render.render_error("That button no longer works; please run the command again.")
        await _answer(respond, response_type="ephemeral", replace_original=False, **message.args())

    # --- lifecycle events -----------------------------------------------------------------

    async def on_uninstalled(self, body: dict[str, Any]) -> None:
        await self._workspace_gone(body, "paperbot was uninstalled from this workspace")

    async def on_tokens_revoked(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if (event.get("tokens") or {}).get("bot"):
            await self._workspace_gone(body, "paperbot's token was revoked")

    async def _workspace_gone(self, body: dict[str, Any], reason: str) -> None:
        team = str(body.get("team_id") or "")
        if not team:
            return
        if self.on_workspace_gone is not None:
            await self.on_workspace_gone(body.get("enterprise_id"), team)
        await asyncio.to_thread(
            self.service.workspace_gone, "slack", team, reason, now=datetime.now(UTC)
        )

    async def on_channel_event(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        team, channel = str(body.get("team_id") or ""), event.get("channel")
        if not team or not isinstance(channel, str):
            return
        kind, reason = CHANNEL_EVENTS.get(str(event.get("type")), ("gone", "the channel is gone"))
        ref = ChannelRef("slack", team, channel)
        await asyncio.to_thread(
            self.service.channel_gone, ref, reason, now=datetime.now(UTC), kind=kind
        )

    async def on_channel_back(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        team, channel = str(body.get("team_id") or ""), event.get("channel")
        if team and isinstance(channel, str):
            kinds = BACK_EVENTS.get(str(event.get("type")), ())
            await asyncio.to_thread(
                self.service.channel_back, ChannelRef("slack", team, channel), kinds
            )

    async def on_member_joined(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        team = str(event.get("team") or body.get("team_id") or "")
        channel = event.get("channel")
        if not team or not isinstance(channel, str) or not context.bot_user_id:
            return
        if event.get("user") == context.bot_user_id:
            ref = ChannelRef("slack", team, channel)
            await asyncio.to_thread(self.service.channel_back, ref, JOINED_ENDS)
