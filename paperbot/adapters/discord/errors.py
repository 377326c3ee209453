"""Discord failures as the core's DeliveryError (what to retry, when, what to pause); the
error tree's answers to people are in adapters/replies.py.

Discord bans an IP after 10,000 401/403/429 answers in 10 minutes, so a permanent refusal is
never retried: it pauses the channel (or, for the bot token, the whole platform).
"""

from __future__ import annotations

import asyncio

import aiohttp
import discord

from paperbot.core.ports import DeliveryError

PERMANENT_CODES = {
    10003: "Unknown Channel",
    10004: "Unknown Guild",
    50001: "Missing Access",
    50007: "Cannot send messages to this user",
    50013: "Missing Permissions",
}
GONE_CODES = {10003, 10004}
# A 429 without a `Via` header comes from Cloudflare, not Discord: back off for long.
CLOUDFLARE_BACKOFF_SECONDS = 900.0


def classify(exc: BaseException) -> DeliveryError:
    """Map a discord.py / network failure to a DeliveryError (retryable, or what to pause)."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, discord.RateLimited):
        return DeliveryError(
            f"Discord rate limit ({exc.retry_after:.0f} s)",
            retryable=True,
            retry_after=exc.retry_after,
        )
    if isinstance(exc, discord.LoginFailure) or (
        isinstance(exc, discord.HTTPException) and exc.status == 401
    ):
        # The bot token is the deployment's own: every server waits for a probe that works.
        return DeliveryError(
            "Discord rejected the bot token (401): check PAPERBOT_DISCORD__TOKEN",
            retryable=False,
            scope="platform",
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
            kind = "gone" if code in GONE_CODES or status == 404 else "permission"
            return DeliveryError(
                f"Discord refused to post here: {name} ({code or status}). Give paperbot View"
                " Channel, Send Messages and Embed Links in this channel.",
                retryable=False,
                kind=kind,
            )
        return DeliveryError(f"Discord error {status} ({code})", retryable=True)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return DeliveryError(f"Could not reach Discord: {type(exc).__name__}", retryable=True)
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | aiohttp.ClientError | OSError):
        # The request may have reached Discord: whether it was posted is unknown.
        return DeliveryError(
            f"No answer from Discord ({type(exc).__name__})",
            retryable=True,
            outcome_unknown=True,
        )
    return DeliveryError(
        f"Unexpected error posting to Discord: {type(exc).__name__}",
        retryable=True,
        outcome_unknown=True,
    )


__all__ = ["CLOUDFLARE_BACKOFF_SECONDS", "PERMANENT_CODES", "classify"]
