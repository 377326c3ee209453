"""Posting digests to Discord over REST: the core's ChatPlatform port, nonces, error classes.

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
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from paperbot.adapters.discord.render import NO_MENTIONS, Part, digest_parts
from paperbot.adapters.discord.views import MLT_TEMPLATE, build_view
from paperbot.config import DiscordSettings, Settings
from paperbot.core.messages import ChannelRef, Digest
from paperbot.core.ports import DeliveryError

log = logging.getLogger(__name__)
T = TypeVar("T")
NONCE_LIMIT = 25
# Discord bans IPs after 10,000 401/403/429 in 10 minutes: permanent errors are never retried.
PERMANENT_CODES = {
    10003: "Unknown Channel",
    10004: "Unknown Guild",
    50001: "Missing Access",
    50007: "Cannot send messages to this user",
    50013: "Missing Permissions",
}
# A 429 without a `Via` header comes from Cloudflare, not Discord: back off for long.
CLOUDFLARE_BACKOFF_SECONDS = 900.0
LOGIN_BACKOFF_SECONDS = 600.0
_REMEMBERED = 512


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


def classify(exc: BaseException) -> DeliveryError:
    """Map a discord.py / network failure to a retryable or permanent DeliveryError."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, discord.RateLimited):
        return DeliveryError(
            f"Discord rate limit ({exc.retry_after:.0f} s)",
            retryable=True,
            retry_after=exc.retry_after,
        )
    if isinstance(exc, discord.HTTPException):
        status, code = exc.status, exc.code
        if status == 429:
            return DeliveryError(
                "Discord answered 429 without a Via header (a Cloudflare block)",
                retryable=True,
                retry_after=CLOUDFLARE_BACKOFF_SECONDS,
            )
        if code in PERMANENT_CODES or status in (403, 404):
            name = PERMANENT_CODES.get(code) or ("Forbidden" if status == 403 else "Not Found")
            return DeliveryError(
                f"Discord refused to post here: {name} ({code or status}). Give paperbot View"
                " Channel, Send Messages and Embed Links in this channel, then /papers resume.",
                retryable=False,
            )
        if status == 401:
            return DeliveryError(
                "Discord rejected the bot token (401): check PAPERBOT_DISCORD__TOKEN",
                retryable=True,
                retry_after=LOGIN_BACKOFF_SECONDS,
            )
        return DeliveryError(f"Discord error {status} ({code})", retryable=True)
    if isinstance(exc, discord.LoginFailure):
        return DeliveryError(
            "Discord rejected the bot token: check PAPERBOT_DISCORD__TOKEN",
            retryable=True,
            retry_after=LOGIN_BACKOFF_SECONDS,
        )
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return DeliveryError("Discord did not answer in time", retryable=True)
    if isinstance(exc, aiohttp.ClientError | OSError):
        return DeliveryError(f"Could not reach Discord: {type(exc).__name__}", retryable=True)
    return DeliveryError(
        f"Unexpected error posting to Discord: {type(exc).__name__}", retryable=True
    )


def _remember(store: OrderedDict[str, Any], key: str, value: Any) -> Any:
    store[key] = value
    store.move_to_end(key)
    while len(store) > _REMEMBERED:
        store.popitem(last=False)
    return value


def _channel_id(channel: ChannelRef) -> int:
    if channel.platform != "discord" or not channel.channel.isdigit():
        raise DeliveryError(f"{channel} is not a Discord channel", retryable=False)
    return int(channel.channel)


class DiscordPlatform:
    """The ChatPlatform port for Discord (see paperbot.core.ports)."""

    name = "discord"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings.discord
        use_endpoints(self.settings)
        self._client: discord.Client | None = None
        self._own: tuple[discord.Client, asyncio.AbstractEventLoop, threading.Thread] | None = None
        self._lock = threading.Lock()
        self._login_failed_at: float | None = None
        # Parts known to be posted, per key: skipped when the same delivery is retried.
        self._parts: OrderedDict[str, dict[int, str]] = OrderedDict()
        self._sent: OrderedDict[str, list[str]] = OrderedDict()

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
            raise DeliveryError("Discord did not answer in time", retryable=True) from None

    # ----- the port
    def post_digest(
        self, channel: ChannelRef, digest: Digest, *, idempotency_key: str
    ) -> list[str]:
        channel_id = _channel_id(channel)
        parts = digest_parts(digest, tag_for(idempotency_key))
        per_part = self.settings.send_timeout_seconds
        try:
            return self._call(
                lambda client: self._post(client, channel, channel_id, parts, idempotency_key),
                per_part * len(parts) + 10,
            )
        except DeliveryError as exc:
            log.warning("discord post to %s failed: %s", channel, exc.reason)
            raise

    def find_posted(self, channel: ChannelRef, idempotency_key: str) -> list[str] | None:
        if idempotency_key in self._sent:
            return list(self._sent[idempotency_key])
        try:
            channel_id = _channel_id(channel)
            return self._call(
                lambda client: self._find(client, channel_id, idempotency_key),
                self.settings.send_timeout_seconds,
            )
        except DeliveryError:
            return None

    # ----- on the loop
    async def _post(
        self,
        client: discord.Client,
        channel: ChannelRef,
        channel_id: int,
        parts: list[Part],
        key: str,
    ) -> list[str]:
        guild_id = int(channel.workspace) if channel.workspace.isdigit() else None
        target = client.get_partial_messageable(channel_id, guild_id=guild_id)
        done = _remember(self._parts, key, self._parts.get(key, {}))
        for index, part in enumerate(parts):
            if index in done:
                continue
            try:
                message = await asyncio.wait_for(
                    target.send(
                        content=part.content,
                        embeds=list(part.embeds),
                        view=build_view(part.buttons),  # type: ignore[arg-type]
                        allowed_mentions=NO_MENTIONS,
                        nonce=nonce_for(key, index),
                    ),
                    self.settings.send_timeout_seconds,
                )
            except Exception as exc:
                raise classify(exc) from exc
            done[index] = str(message.id)
        ids = [done[i] for i in range(len(parts))]
        _remember(self._sent, key, ids)
        self._parts.pop(key, None)
        return ids

    async def _find(self, client: discord.Client, channel_id: int, key: str) -> list[str] | None:
        """Read recent history for this key's marker (needs Read Message History)."""
        try:
            history: list[Any] = await client.http.logs_from(channel_id, limit=100)
        except (discord.HTTPException, aiohttp.ClientError, OSError):
            return None
        tag = tag_for(key)
        me = str(client.user.id) if client.user else None
        found: dict[int, str] = {}
        total = 0
        for message in history:
            if me is not None and str(message.get("author", {}).get("id")) != me:
                continue
            for row in message.get("components") or []:
                for component in row.get("components") or []:
                    match = MLT_TEMPLATE.fullmatch(str(component.get("custom_id", "")))
                    if match and match.group("tag"):
                        mark, part, parts = match.group("tag").split(".")
                        if mark == tag:
                            found[int(part)] = str(message["id"])
                            total = int(parts)
        if total and all(i in found for i in range(total)):
            return [found[i] for i in range(total)]
        if found:
            # Partly posted before a crash: the retry posts only the missing parts.
            _remember(self._parts, key, found)
        return None
