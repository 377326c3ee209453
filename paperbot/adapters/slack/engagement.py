"""Slack feedback beyond commands: shared results and discussion threads posted with
chat.postMessage (so they have a ts to react to and thread under), and the reaction and thread
reply events that count as feedback.

Events are acknowledged by bolt before these listeners run (process_before_response=False), so
a slow database never makes Slack retry or turn off event delivery. A failure here is logged,
answered to the person who pressed (for presses) and never pauses a channel's digests.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, Literal

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from paperbot.adapters.locks import InOrder
from paperbot.adapters.slack import render
from paperbot.core.errors import SORRY
from paperbot.core.messages import ChannelRef, Reply
from paperbot.core.service import Paperbot

log = logging.getLogger(__name__)

# Reaction names Slack sends for 👍 / 👎 (a skin tone follows as `::skin-tone-2`).
VOTES: dict[str, Literal["like", "dislike"]] = {
    "+1": "like",
    "thumbsup": "like",
    "-1": "dislike",
    "thumbsdown": "dislike",
}
EVENTS = ("reaction_added", "reaction_removed", "message")
# What the person is told when Slack refuses a post they asked for (never a digest pause).
REFUSED = {
    "missing_scope": "paperbot lacks a Slack permission for this (missing_scope): ask an admin"
    " to reinstall paperbot from its install page.",
    "not_in_channel": "paperbot is not in this channel: invite @paperbot first.",
    "channel_not_found": "paperbot cannot see this channel: invite @paperbot first.",
    "is_archived": "This channel is archived.",
    "restricted_action": "This workspace does not let paperbot post here.",
    "no_permission": "paperbot may not post in this channel.",
    "thread_not_found": "The message to discuss under is gone.",
}


def now() -> datetime:
    return datetime.now(UTC)


def vote_of(reaction: object) -> Literal["like", "dislike"] | None:
    """like / dislike for a 👍 / 👎 reaction in any skin tone; None for every other one."""
    if not isinstance(reaction, str):
        return None
    return VOTES.get(reaction.split("::", 1)[0])


def refusal(exc: Exception) -> str:
    """What to tell the person when a post they asked for failed."""
    if isinstance(exc, SlackApiError):
        data = exc.response.data
        code = str(data.get("error") or "") if isinstance(data, dict) else ""
        if code in REFUSED:
            return REFUSED[code]
    return SORRY


def permalink(domain: object, channel: str, ts: str) -> str | None:
    """The web link of a message (its thread) from the team's domain, without an API call."""
    if not isinstance(domain, str) or not domain.replace("-", "").isalnum():
        return None
    if not channel.isalnum() or not ts.replace(".", "").isdigit():
        return None
    return f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"


async def say(respond: AsyncRespond, message: render.SlackMessage) -> None:
    """A private answer to the person who pressed; a failure is one warning line."""
    try:
        await respond(response_type="ephemeral", replace_original=False, **message.args())
    except Exception as exc:  # the press was acked already: nothing else to do
        log.warning("slack: could not answer a press (%s)", type(exc).__name__)


class SlackEngagement:
    """Shares, discussions, reactions and thread replies as core calls."""

    def __init__(self, service: Paperbot) -> None:
        self.service = service
        self._events = InOrder()

    def register(self, app: Any) -> None:
        app.event("reaction_added")(self.on_reaction)
        app.event("reaction_removed")(self.on_reaction)
        app.event("message")(self.on_message)

    # --- presses ----------------------------------------------------------------------------

    async def share(
        self,
        client: AsyncWebClient,
        ref: ChannelRef,
        reply: Reply,
        user: str,
        respond: AsyncRespond,
    ) -> None:
        """Post a result list in the channel (chat.postMessage: a ts that reactions and threads
        can refer to), record it, and remove the ephemeral original."""
        message = render.render_reply(reply, shared_by=user)
        try:
            posted = await client.chat_postMessage(channel=ref.channel, **message.args())
        except Exception as exc:
            log.info("slack: could not share in %s (%s)", ref, type(exc).__name__)
            await say(respond, render.render_error(refusal(exc)))
            return
        ts = str(posted.get("ts") or "")
        if ts and message.papers:
            await self._record(ref, ts, message.papers, "share")
        try:
            await respond(delete_original=True)
        except Exception as exc:
            log.info("slack: could not remove the shared original (%s)", type(exc).__name__)

    async def discuss(
        self,
        client: AsyncWebClient,
        ref: ChannelRef,
        reply: Reply,
        body: dict[str, Any],
        respond: AsyncRespond,
    ) -> None:
        """Post the paper in the thread of the message that showed it, or point to the thread
        it already has."""
        card = reply.papers[0]
        team = body.get("team")
        domain = team.get("domain") if isinstance(team, dict) else None
        if reply.thread:
            link = permalink(domain, ref.channel, reply.thread)
            await say(respond, render.render_pointer("The discussion is in", link))
            return
        container = body.get("container") or {}
        root = str(container.get("thread_ts") or container.get("message_ts") or "")
        if not root or container.get("is_ephemeral"):
            await say(respond, render.render_error("Share the paper in the channel to discuss it."))
            return
        message = render.render_discussion(card)
        try:
            posted = await client.chat_postMessage(
                channel=ref.channel, thread_ts=root, **message.args()
            )
        except Exception as exc:
            log.info("slack: could not open a discussion in %s (%s)", ref, type(exc).__name__)
            await say(respond, render.render_error(refusal(exc)))
            return
        await asyncio.to_thread(self.service.thread_opened, ref, card.key, root, now=now())
        if ts := str(posted.get("ts") or ""):
            await self._record(ref, ts, (card.key,), "discuss")
        link = permalink(domain, ref.channel, root)
        await say(respond, render.render_pointer("Posted it for discussion in", link))

    async def _record(self, ref: ChannelRef, ts: str, papers: tuple[str, ...], kind: str) -> None:
        await asyncio.to_thread(
            self.service.record_posted, ref, ts, list(papers), kind=kind, now=now()
        )

    # --- events -----------------------------------------------------------------------------

    async def on_reaction(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        vote = vote_of(event.get("reaction"))
        item = event.get("item") or {}
        user, team = event.get("user"), body.get("team_id")
        if vote is None or not isinstance(item, dict) or item.get("type") != "message":
            return
        channel, ts = item.get("channel"), item.get("ts")
        if not all(isinstance(v, str) and v for v in (user, team, channel, ts)):
            return
        if user == context.bot_user_id:
            return
        added = event.get("type") == "reaction_added"
        ref = ChannelRef("slack", str(team), str(channel))
        await self._events.run(self.service.react, ref, str(ts), str(user), vote, added=added)

    async def on_message(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """A member's reply in a thread (message.channels / message.groups): engagement for
        the paper discussed there. Every other message is ignored at once."""
        thread, ts, user = event.get("thread_ts"), event.get("ts"), event.get("user")
        if not isinstance(thread, str) or not thread or thread == ts:
            return
        if event.get("subtype") or event.get("bot_id") or not isinstance(user, str) or not user:
            return
        team, channel = body.get("team_id"), event.get("channel")
        if not isinstance(team, str) or not isinstance(channel, str) or user == context.bot_user_id:
            return
        ref = ChannelRef("slack", team, channel)
        await self._events.run(self.service.thread_reply, ref, thread, user)
