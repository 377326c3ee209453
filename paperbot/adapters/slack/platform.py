"""The core's ChatPlatform port for Slack: post digests with slack_sdk's WebClient (sync)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from paperbot.adapters.slack.render import render_digest
from paperbot.config import SlackSettings
from paperbot.core.messages import ChannelRef, Digest
from paperbot.core.ports import DeliveryError

log = logging.getLogger(__name__)

EVENT_TYPE = "paperbot_digest"
# Errors that no retry will fix: the channel is paused with the reason (by delivery).
PERMANENT = {
    "not_in_channel": "paperbot is not a member of this channel: invite @paperbot, then"
    " `/papers resume`",
    "channel_not_found": "the channel was not found (deleted, or private without paperbot)",
    "is_archived": "the channel is archived",
    "invalid_auth": "Slack rejected paperbot's token (invalid_auth): reinstall the app",
    "account_inactive": "paperbot's Slack account is inactive (the app was removed)",
    "token_revoked": "paperbot's token was revoked: reinstall the app",
    "not_authed": "paperbot has no token for this workspace: reinstall the app",
    "no_permission": "paperbot may not post in this channel",
    "restricted_action": "this workspace does not allow paperbot to post here",
    "restricted_action_read_only_channel": "the channel is read-only",
    "missing_scope": "paperbot lacks the chat:write permission: reinstall the app",
    "team_access_not_granted": "paperbot is not installed in this workspace",
    "ekm_access_denied": "the workspace's key management denies access",
}

TokenLookup = Callable[[str], str | None]


class BoundedRateLimitRetry(RateLimitErrorRetryHandler):
    """Retry a 429 in place only when Retry-After is short; longer waits go back to delivery."""

    def __init__(self, max_wait: float, max_retry_count: int = 2) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return retry_after(response.headers) <= self.max_wait


def retry_after(headers: Any) -> float:
    """Seconds from a Retry-After header (slack_sdk gives lists or strings); 1 if absent."""
    for key, value in dict(headers or {}).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return 1.0
    return 1.0


def retry_handlers(max_wait: float) -> list[RetryHandler]:
    return [ConnectionErrorRetryHandler(), BoundedRateLimitRetry(max_wait)]


def classify(exc: Exception) -> DeliveryError:
    """Map a slack_sdk failure to DeliveryError(retryable=...) with a reason a person can read."""
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        code = str(exc.response.get("error") or "") if isinstance(exc.response.data, dict) else ""
        if status == 429 or code == "ratelimited":
            wait = retry_after(exc.response.headers)
            return DeliveryError(
                f"Slack rate limit (retry after {wait:g} s)", retryable=True, retry_after=wait
            )
        if status >= 500:
            return DeliveryError(f"Slack server error (HTTP {status})", retryable=True)
        if code in PERMANENT:
            return DeliveryError(f"{PERMANENT[code]} ({code})", retryable=False)
        return DeliveryError(f"Slack error: {code or 'unknown'}", retryable=True)
    if isinstance(exc, (URLError, TimeoutError, OSError, SlackClientError)):
        return DeliveryError(f"could not reach Slack ({type(exc).__name__})", retryable=True)
    return DeliveryError(
        f"unexpected error posting to Slack ({type(exc).__name__})", retryable=True
    )


class SlackPlatform:
    """Posts digests to Slack channels; called from delivery's worker threads."""

    name = "slack"

    def __init__(
        self,
        settings: SlackSettings,
        tokens: TokenLookup,
        *,
        timeout: float = 10.0,
        max_inline_wait: float = 30.0,
        history_limit: int = 100,
    ) -> None:
        self._base_url = settings.api_base_url
        self._tokens = tokens
        self._timeout = timeout
        self._max_wait = max_inline_wait
        self._history_limit = history_limit
        self._clients: dict[str, WebClient] = {}
        self._lock = threading.Lock()

    def client(self, workspace: str) -> WebClient:
        token = self._tokens(workspace)
        if not token:
            raise DeliveryError(PERMANENT["team_access_not_granted"], retryable=False)
        with self._lock:
            client = self._clients.get(token)
            if client is None:
                client = WebClient(
                    token=token,
                    base_url=self._base_url,
                    timeout=int(self._timeout),
                    retry_handlers=retry_handlers(self._max_wait),
                )
                self._clients[token] = client
            return client

    def post_digest(
        self, channel: ChannelRef, digest: Digest, *, idempotency_key: str
    ) -> list[str]:
        client = self.client(channel.workspace)
        messages = render_digest(digest)
        ids: list[str] = []
        for part, message in enumerate(messages):
            metadata = {
                "event_type": EVENT_TYPE,
                "event_payload": {
                    "delivery": idempotency_key,
                    "part": part,
                    "parts": len(messages),
                },
            }
            try:
                response = client.chat_postMessage(
                    channel=channel.channel, metadata=metadata, **message.args()
                )
            except Exception as exc:
                error = classify(exc)
                log.warning("slack post to %s failed: %s", channel, error.reason)
                raise error from None
            ids.append(str(response.get("ts")))
        return ids

    def find_posted(self, channel: ChannelRef, idempotency_key: str) -> list[str] | None:
        """Message ids posted under this key (found in recent history), [] if none, None if unknown.

        A partly posted digest returns the parts found: re-posting would repeat them.
        conversations.history is heavily rate-limited: call this only to reconcile after a crash.
        """
        client = self.client(channel.workspace)
        try:
            response = client.conversations_history(
                channel=channel.channel, limit=self._history_limit, include_all_metadata=True
            )
        except Exception as exc:
            error = classify(exc)
            if error.retryable:
                return None
            raise error from None
        found: dict[int, str] = {}
        for message in response.get("messages") or []:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == EVENT_TYPE and payload.get("delivery") == idempotency_key:
                found[int(payload.get("part") or 0)] = str(message.get("ts"))
        return [found[part] for part in sorted(found)]
