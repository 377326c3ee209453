"""What paperbot knows about a Slack caller: admin/owner (users.info, cached), bot access."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

# A failed lookup is retried sooner than a successful one expires.
FAILED_TTL = 60.0


class AdminCache:
    """users.info is_admin/is_owner per (team, user), for `ttl` seconds (bounded LRU)."""

    def __init__(self, ttl: float = 600.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[tuple[str, str], tuple[float, bool]] = OrderedDict()

    async def is_admin(self, client: AsyncWebClient, team: str, user: str) -> bool:
        key = (team, user)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            self._entries.move_to_end(key)
            return entry[1]
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
        self._entries[key] = (now + ttl, admin)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
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
