"""Discord feedback beyond commands: a public thread per discussed paper, and the gateway's
reactions and thread messages that count as feedback (a mixin of the clients in gateway.py).

Discord allows one thread per message and a digest part shows up to ten papers, so a paper's
discussion is a standalone thread in the channel (POST /channels/{id}/threads), named after
the paper. Replies are counted, never read: no message content intent. A refused request
(403 / 50013: Create Public Threads or Send Messages in Threads missing) is answered to the
person who pressed and never pauses the channel's digests.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import discord

from paperbot.adapters.discord import buttons
from paperbot.adapters.discord.render import NO_MENTIONS, clip, paper_embed
from paperbot.adapters.locks import InOrder
from paperbot.core.messages import ChannelRef, PaperCard
from paperbot.core.printable import printable

log = logging.getLogger(__name__)

THREAD_NAME_LIMIT = 100
PUBLIC_THREAD = 11
ARCHIVE_AFTER_MINUTES = 10080  # a week: a paper is discussed over days
THUMBS: dict[str, Literal["like", "dislike"]] = {"👍": "like", "👎": "dislike"}
# Skin tones and the emoji variation selector, which Discord keeps in the reaction's name.
_MODIFIERS = {chr(c) for c in range(0x1F3FB, 0x1F400)} | {"\ufe0f"}
REFUSED_CODES = {50001, 50013}
NEEDS = (
    "paperbot cannot open a thread here: give it Create Public Threads and Send Messages in"
    " Threads in this channel."
)
FAILED = "Discord did not open the thread; please try again shortly."


def vote_of(emoji: discord.PartialEmoji) -> Literal["like", "dislike"] | None:
    """like / dislike for 👍 / 👎 in any skin tone; None for every other (or a custom) emoji."""
    if emoji.id is not None or not emoji.name:
        return None
    return THUMBS.get("".join(ch for ch in emoji.name if ch not in _MODIFIERS))


def thread_name(card: PaperCard) -> str:
    """The paper's title as a thread name (plain text, <= 100 UTF-16 units)."""
    name = " ".join(printable(card.title).split()) or "Paper discussion"
    while buttons.length(name) > THREAD_NAME_LIMIT:
        name = clip(name, len(name) - 1)
    return name


def refusal(exc: discord.HTTPException) -> str:
    return NEEDS if exc.status == 403 or exc.code in REFUSED_CODES else FAILED


async def open_thread(client: discord.Client, channel_id: int, card: PaperCard) -> tuple[str, str]:
    """A public thread for the paper in this channel, with the paper posted in it: (thread id,
    id of that message). Raises discord.HTTPException when Discord refuses."""
    thread = await client.http.start_thread_without_message(
        channel_id,
        name=thread_name(card),
        auto_archive_duration=ARCHIVE_AFTER_MINUTES,  # type: ignore[arg-type]
        type=PUBLIC_THREAD,  # type: ignore[arg-type]
    )
    thread_id = int(thread["id"])
    message = await client.get_partial_messageable(thread_id).send(
        content="Discuss this paper here: replies in this thread count for it.",
        embed=paper_embed(card, 1),
        allowed_mentions=NO_MENTIONS,
    )
    return str(thread_id), str(message.id)


class Engagement:
    """Reactions and thread replies from the gateway, as core calls (mixed into the clients).

    One at a time, in the order the gateway sent them: a 👍 added and at once removed must not
    reach the database the other way round."""

    paperbot: Any  # the InteractionRunner (its .service)
    user: discord.ClientUser | None
    _events: InOrder | None = None

    async def _counted(self, call: Any, *args: Any, **kwargs: Any) -> None:
        if self._events is None:
            self._events = InOrder()  # one per client
        await self._events.run(call, *args, **kwargs)

    def _parent_ref(self, guild_id: int | None, channel_id: int) -> ChannelRef | None:
        """The channel a message is in, or a thread's parent channel (threads count for the
        channel they belong to); None outside a server."""
        if guild_id is None:
            return None
        channel = self.get_channel(channel_id)  # type: ignore[attr-defined]
        if isinstance(channel, discord.Thread):
            channel_id = channel.parent_id
        return ChannelRef("discord", str(guild_id), str(channel_id))

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, added=True)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, added=False)

    async def _reaction(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        vote = vote_of(payload.emoji)
        if vote is None or (self.user is not None and payload.user_id == self.user.id):
            return
        if payload.member is not None and payload.member.bot:
            return
        ref = self._parent_ref(payload.guild_id, payload.channel_id)
        if ref is None:
            return
        service = self.paperbot.service
        message, user = str(payload.message_id), str(payload.user_id)
        await self._counted(service.react, ref, message, user, vote, added=added)

    async def on_message(self, message: discord.Message) -> None:
        """A member's message in a thread paperbot may know: engagement for its paper."""
        thread = message.channel
        if not isinstance(thread, discord.Thread) or message.guild is None:
            return
        if message.author.bot or message.type not in (
            discord.MessageType.default,
            discord.MessageType.reply,
        ):
            return
        ref = ChannelRef("discord", str(message.guild.id), str(thread.parent_id))
        service = self.paperbot.service
        await self._counted(service.thread_reply, ref, str(thread.id), str(message.author.id))
