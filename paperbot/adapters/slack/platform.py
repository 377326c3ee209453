"""The core's ChatPlatform port for Slack: post digests part by part with slack_sdk (sync).

Reconciliation reads conversations.history, which Slack limits for apps outside the
Marketplace to about one call a minute per workspace and 15 messages: one channel per call,
only messages since the attempt, at most one call per `history_interval_seconds` per
workspace; when Slack (or that pacing) says no, find_posted answers "cannot tell" (None) and
the core asks again later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from cachetools import LRUCache, TLRUCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from paperbot.adapters.slack.errors import WORKSPACE, classify, retry_after, retry_handlers
from paperbot.adapters.slack.render import escape, render_digest
from paperbot.adapters.slack.settings import SlackSettings
from paperbot.core.messages import ChannelRef, Digest
from paperbot.core.ports import DeliveryError, Notice, ProbeBackoff

log = logging.getLogger(__name__)

EVENT_TYPE = "paperbot_digest"
HISTORY_LIMIT = 15
# Slack's clock and the database's may differ a little: read a minute before the attempt.
HISTORY_MARGIN = timedelta(seconds=60)

# Workspaces served at once before the least recently used one's client is rebuilt.
MAX_CLIENTS = 10_000

TokenLookup = Callable[[str], str | None]


class SlackPlatform:
    """Posts digests to Slack channels; called from delivery's worker threads.

    single: one bot token for the deployment (its refusal pauses the platform, workspace "*").
    installer: who installed paperbot in a workspace (OAuth), told when nobody else can be.
    """

    name = "slack"
    probe_backoff = ProbeBackoff()

    def __init__(
        self,
        settings: SlackSettings,
        tokens: TokenLookup,
        *,
        single: bool = False,
        installer: Callable[[str], str | None] | None = None,
        timeout: float = 10.0,
        max_inline_wait: float = 15.0,
    ) -> None:
        self._settings = settings
        self._tokens = tokens
        self._single, self._installer = single, installer
        self._timeout, self._max_wait = timeout, max_inline_wait
        # One client per token (a client holds no connection: one evicted is just rebuilt).
        self._clients: LRUCache[str, WebClient] = LRUCache(maxsize=MAX_CLIENTS)
        # Workspaces whose history may not be read yet, each for the seconds it holds.
        self._history_paused: TLRUCache[str, float] = TLRUCache(
            maxsize=MAX_CLIENTS, ttu=lambda _workspace, seconds, now: now + seconds
        )
        self._lock = threading.Lock()

    def client(self, workspace: str) -> WebClient:
        token = self._tokens(workspace)
        if not token:
            raise DeliveryError(
                WORKSPACE["team_access_not_granted"],
                retryable=False,
                scope="platform" if self._single else "workspace",
            )
        with self._lock:
            client = self._clients.get(token)
            if client is None:
                client = WebClient(
                    token=token,
                    base_url=self._settings.api_base_url,
                    timeout=max(1, round(self._timeout)),
                    retry_handlers=retry_handlers(self._max_wait),
                )
                self._clients[token] = client
            return client

    # --- the port -------------------------------------------------------------------------

    def digest_parts(self, digest: Digest) -> list[tuple[str, ...]]:
        return [message.papers for message in render_digest(digest)]

    def post_part(
        self, channel: ChannelRef, digest: Digest, part: int, *, idempotency_key: str
    ) -> str:
        client = self.client(channel.workspace)
        messages = render_digest(digest)
        payload = {"delivery": idempotency_key, "part": part, "parts": len(messages)}
        try:
            response = client.chat_postMessage(
                channel=channel.channel,
                metadata={"event_type": EVENT_TYPE, "event_payload": payload},
                **messages[part].args(),
            )
        except Exception as exc:
            # Delivery logs the outcome (one line per channel); the reason says what happened.
            raise classify(exc, single=self._single) from None
        return str(response.get("ts"))

    def find_posted(
        self, channel: ChannelRef, idempotency_key: str, *, since: datetime | None = None
    ) -> dict[int, str] | None:
        """Parts posted under this key ({} none), or None when Slack cannot tell right now."""
        if not self._may_read_history(channel.workspace):
            return None
        oldest = f"{(since - HISTORY_MARGIN).timestamp():.6f}" if since is not None else None
        try:
            response = self.client(channel.workspace).conversations_history(
                channel=channel.channel,
                limit=HISTORY_LIMIT,
                include_all_metadata=True,
                oldest=oldest,
            )
        except Exception as exc:
            if isinstance(exc, SlackApiError) and exc.response.status_code == 429:
                wait = retry_after(exc.response.headers) or self._settings.history_interval_seconds
                self._history_wait(channel.workspace, wait)
            log.info("slack: cannot check %s's history now (%s)", channel, type(exc).__name__)
            return None
        found, total = {}, 0
        for message in response.get("messages") or []:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == EVENT_TYPE and payload.get("delivery") == idempotency_key:
                found[int(payload.get("part") or 0)] = str(message.get("ts"))
                total = int(payload.get("parts") or 0)
        complete = bool(total) and len(found) >= total
        if response.get("has_more") and not complete:
            return None  # more than 15 messages since: what is missing may be further back
        return found

    def probe(self, workspace: str) -> bool | None:
        """auth.test with the workspace's token (and chat:write among its scopes)."""
        try:
            response = self.client(workspace).auth_test()
        except DeliveryError:
            return False
        except Exception as exc:
            return False if not classify(exc).retryable else None
        headers = {k.lower(): v for k, v in dict(response.headers or {}).items()}
        scopes = headers.get("x-oauth-scopes")
        text = scopes[0] if isinstance(scopes, list) else scopes
        return text is None or "chat:write" in str(text).split(",")

    def notify(self, notice: Notice) -> bool:
        """A DM (conversations.open) to the member who set the channel up, else the installer."""
        team = notice.channel.workspace
        users = [u for u in (notice.user, self._installer(team) if self._installer else None) if u]
        text = f"In <#{escape(notice.channel.channel)}>: {escape(notice.text)}"
        for user in dict.fromkeys(users):
            try:
                client = self.client(team)
                opened = client.conversations_open(users=user)
                dm = str((opened.get("channel") or {}).get("id") or "")
                client.chat_postMessage(channel=dm, text=text, unfurl_links=False)
                return True
            except Exception as exc:  # missing im:write, a deactivated member: try the next
                log.info(
                    "slack: could not DM %s about %s (%s)", user, notice.channel, type(exc).__name__
                )
        return False

    # --- pacing of conversations.history ---------------------------------------------------

    def _may_read_history(self, workspace: str) -> bool:
        with self._lock:
            if workspace in self._history_paused:
                return False
            self._history_paused[workspace] = self._settings.history_interval_seconds
            return True

    def _history_wait(self, workspace: str, seconds: float) -> None:
        with self._lock:
            self._history_paused[workspace] = seconds
