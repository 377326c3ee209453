"""What paperbot knows about a Slack caller: admin/owner (users.info, cached), bot access."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from cachetools import TLRUCache
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

# A failed lookup is retried sooner than a successful one expires.
FAILED_TTL = 60.0


class AdminCache:
    """users.info is_admin/is_owner per (team, user), for `ttl` seconds (a failed lookup for
    FAILED_TTL), least recently used first out when full."""

    def __init__(
        self, ttl: float = 600.0, size: int = 10_000, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        # Each entry is (admin, trusted for seconds); ttu: when it expires.
        self._entries: TLRUCache[tuple[str, str], tuple[bool, float]] = TLRUCache(
            maxsize=size, ttu=lambda _key, entry, now: now + entry[1], timer=timer
        )

    async def is_admin(self, client: AsyncWebClient, team: str, user: str) -> bool:
        key = (team, user)
        entry = self._entries.get(key)
        if entry is not None:
            return entry[0]
        ttl = self.ttl
        try:
            response = await client.users_info(user=user)
            info = response.get("user") or {}
            # A token of another workspace cannot vouch for this one.
            same_team = info.get("team_id") in (None, team)
            admin = bool(same_team and (info.get("is_admin") or info.get("is_owner")))
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.info("users.info failed for %s/%s: %s", team, user, type(exc).__name__)
            admin, ttl = False, FAILED_TTL
        self._entries[key] = (admin, ttl)
        return admin


async def bot_can_post(client: AsyncWebClient, channel: str) -> bool | None:
    """Whether the bot is a member of an open channel (True/False), None when Slack won't say."""
    try:
        response = await client.conversations_info(channel=channel)
    except SlackApiError as exc:
        code = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        # A private channel the bot is not in looks like a missing one.
        return False if code in ("channel_not_found", "not_in_channel", "is_archived") else None
    except (SlackClientError, OSError):
        return None
    info = response.get("channel") or {}
    if info.get("is_archived"):
        return False
    return bool(info.get("is_member"))
