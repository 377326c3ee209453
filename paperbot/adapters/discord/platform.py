"""Posting digests to Discord over REST: the core's ChatPlatform port, nonces, delivery markers.

The port is synchronous (delivery calls it from worker threads): coroutines run on the gateway
client's loop when the bot runs, else on a REST-only client of our own in a background thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from paperbot.adapters.discord import buttons
from paperbot.adapters.discord.errors import classify
from paperbot.adapters.discord.render import NO_MENTIONS, Part, defuse, digest_parts
from paperbot.adapters.discord.settings import DiscordSettings
from paperbot.adapters.discord.views import build_view
from paperbot.config import Settings
from paperbot.core.messages import ChannelRef, Digest
from paperbot.core.ports import DeliveryError, Notice, ProbeBackoff

log = logging.getLogger(__name__)
T = TypeVar("T")
NONCE_LIMIT = 25
LOGIN_BACKOFF_SECONDS = 600.0


def use_endpoints(settings: DiscordSettings) -> None:
    """Point discord.py at the configured REST API and gateway (its two class attributes)."""
    Route.BASE = settings.api_base_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def client_options(settings: DiscordSettings) -> dict[str, Any]:
    """What every discord.py client of ours is built with."""
    # paperbot never joins voice: no start-up warnings about voice's optional libraries.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    intents = discord.Intents.none()
    intents.guilds = True  # guild join/remove and channel deletes; nothing privileged
    # 👍 / 👎 on a paper, and replies in its discussion thread (counted, never read: no
    # message content intent). Neither is privileged.
    intents.guild_reactions = True
    intents.guild_messages = True
    return {
        "intents": intents,
        "allowed_mentions": NO_MENTIONS,
        "max_ratelimit_timeout": settings.max_ratelimit_timeout,
        "application_id": settings.application_id,
    }


def nonce_for(key: str, part: int) -> str:
    """A deterministic nonce of 25 characters: Discord drops a repeat within a few minutes."""
    digest = hashlib.sha256(f"{key}\x00{part}".encode()).hexdigest()
    return ("pb" + digest)[:NONCE_LIMIT]


def tag_for(key: str) -> str:
    """The short marker a digest's buttons carry, so history shows what was posted."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _channel_id(channel: ChannelRef) -> int:
    if channel.platform != "discord" or not channel.channel.isdigit():
        raise DeliveryError(f"{channel} is not a Discord channel", retryable=False)
    return int(channel.channel)


class DiscordPlatform:
    """The ChatPlatform port for Discord (see paperbot.core.ports)."""

    name = "discord"
    # Discord counts 401s toward an IP ban: a refused token is tried again rarely.
    probe_backoff = ProbeBackoff(first=timedelta(minutes=10), last=timedelta(hours=6))

    def __init__(self, settings: Settings) -> None:
        self.settings = settings.discord
        use_endpoints(self.settings)
        self._client: discord.Client | None = None
        self._own: tuple[discord.Client, asyncio.AbstractEventLoop, threading.Thread] | None = None
        self._lock = threading.Lock()
        self._login_failed_at: float | None = None
        # One message, discord.py's own 429 waits and 5xx retries included, ends within the
        # send budget, so a delivery's lease outlives every post it starts.
        self._budget = min(self.settings.send_timeout_seconds, settings.digest.send_budget_seconds)

    # ----- where coroutines run
    def attach(self, client: discord.Client) -> None:
        """Post through the running gateway client from now on."""
        self._client = client

    def detach(self) -> None:
        self._client = None

    def close(self) -> None:
        with self._lock:
            own, self._own = self._own, None
        if own is not None:
            client, loop, thread = own
            asyncio.run_coroutine_threadsafe(client.close(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)

    def _target(self) -> discord.Client:
        client = self._client
        if client is not None and not client.is_closed():
            return client
        with self._lock:
            if self._own is None:
                self._own = self._start_rest_client()
            return self._own[0]

    def _start_rest_client(
        self,
    ) -> tuple[discord.Client, asyncio.AbstractEventLoop, threading.Thread]:
        if self.settings.token is None:
            raise DeliveryError(
                "Discord is not configured (PAPERBOT_DISCORD__TOKEN)", retryable=False
            )
        failed = self._login_failed_at
        if failed is not None and time.monotonic() - failed < LOGIN_BACKOFF_SECONDS:
            raise classify(discord.LoginFailure())
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="discord-rest", daemon=True)
        thread.start()

        async def login() -> discord.Client:
            client = discord.Client(**client_options(self.settings))
            try:
                await client.login(self.settings.token.get_secret_value())  # type: ignore[union-attr]
            except BaseException:
                await client.close()
                raise
            return client

        try:
            client = asyncio.run_coroutine_threadsafe(login(), loop).result(timeout=60)
        except BaseException as exc:
            loop.call_soon_threadsafe(loop.stop)
            if isinstance(exc, discord.LoginFailure):
                self._login_failed_at = time.monotonic()
            raise classify(exc) from exc
        return client, loop, thread

    def _call(self, make: Callable[[discord.Client], Awaitable[T]], timeout: float) -> T:
        client = self._target()
        loop = client.loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            raise RuntimeError("DiscordPlatform is synchronous: call it from a worker thread")

        async def run() -> T:
            return await make(client)

        future = asyncio.run_coroutine_threadsafe(run(), loop)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            # Cancelled mid-request: Discord may have posted it.
            raise DeliveryError(
                "Discord did not answer in time", retryable=True, outcome_unknown=True
            ) from None

    # ----- the port
    def digest_parts(self, digest: Digest) -> list[tuple[str, ...]]:
        keys: list[tuple[str, ...]] = []
        used = 0
        for part in digest_parts(digest):
            shown = digest.papers[used : used + len(part.embeds)]
            keys.append(tuple(card.key for card in shown))
            used += len(part.embeds)
        return keys

    def post_part(
        self, channel: ChannelRef, digest: Digest, part: int, *, idempotency_key: str
    ) -> str:
        channel_id = _channel_id(channel)
        message = digest_parts(digest, tag_for(idempotency_key))[part]
        nonce = nonce_for(idempotency_key, part)
        # discord.py retries 429s and 5xx itself, with this same nonce (enforce_nonce), so a
        # repeat within Discord's dedupe window returns the first message instead of a copy.
        return self._call(
            lambda client: self._send(client, channel, channel_id, message, nonce), self._budget
        )

    def find_posted(
        self, channel: ChannelRef, idempotency_key: str, *, since: datetime | None = None
    ) -> dict[int, str] | None:
        """Parts found in recent history by the marker on their first button (needs Read
        Message History); None when Discord cannot tell now. Parts without buttons (a long
        header) carry no marker: the nonce dedupes those for a few minutes."""
        try:
            channel_id = _channel_id(channel)
            return self._call(
                lambda client: self._find(client, channel_id, idempotency_key), self._budget
            )
        except DeliveryError:
            return None

    def probe(self, workspace: str) -> bool | None:
        """Whether the bot token works again (GET /users/@me).

        The core backs probes off (Discord counts 401s toward an IP ban), so a probe may log in
        again even within this platform's own login backoff."""
        self._login_failed_at = None
        try:
            self._call(lambda client: client.http.request(Route("GET", "/users/@me")), 30)
        except DeliveryError as exc:
            return None if exc.retryable else False
        return True

    def notify(self, notice: Notice) -> bool:
        """A DM to the member who set the channel up, else the server's system channel."""
        try:
            return self._call(lambda client: self._notify(client, notice), self._budget)
        except DeliveryError as exc:
            log.info("discord: could not tell anyone about %s: %s", notice.channel, exc.reason)
            return False

    # ----- on the loop
    async def _send(
        self, client: discord.Client, channel: ChannelRef, channel_id: int, part: Part, nonce: str
    ) -> str:
        guild_id = int(channel.workspace) if channel.workspace.isdigit() else None
        target = client.get_partial_messageable(channel_id, guild_id=guild_id)
        try:
            message = await target.send(
                content=part.content,
                embeds=list(part.embeds),
                view=build_view(part.buttons, part.selects),  # type: ignore[arg-type]
                allowed_mentions=NO_MENTIONS,
                nonce=nonce,
            )
        except Exception as exc:
            raise classify(exc) from exc
        return str(message.id)

    async def _find(
        self, client: discord.Client, channel_id: int, key: str
    ) -> dict[int, str] | None:
        try:
            history: list[Any] = await client.http.logs_from(channel_id, limit=100)
        except (discord.HTTPException, aiohttp.ClientError, OSError):
            return None
        tag = tag_for(key)
        me = str(client.user.id) if client.user else None
        found: dict[int, str] = {}
        for message in history:
            if me is not None and str(message.get("author", {}).get("id")) != me:
                continue
            for row in message.get("components") or []:
                for component in row.get("components") or []:
                    mark = buttons.mark_of(str(component.get("custom_id", "")))
                    if mark is not None and mark.tag == tag:
                        found[mark.part] = str(message["id"])
        return found

    async def _notify(self, client: discord.Client, notice: Notice) -> bool:
        content = f"In <#{notice.channel.channel}>: {defuse(notice.text)}"[:2000]
        if notice.user and notice.user.isdigit():
            try:
                dm = await client.http.start_private_message(notice.user)
                await client.get_partial_messageable(int(dm["id"])).send(
                    content, allowed_mentions=NO_MENTIONS
                )
                return True
            except (discord.HTTPException, KeyError, ValueError):
                pass  # DMs closed: the server's system channel instead
        if not notice.channel.workspace.isdigit():
            return False
        try:
            guild = await client.http.get_guild(int(notice.channel.workspace))
            system = guild.get("system_channel_id")
            if not system:
                return False
            await client.get_partial_messageable(int(system)).send(
                content, allowed_mentions=NO_MENTIONS
            )
        except (discord.HTTPException, ValueError):
            return False
        return True
