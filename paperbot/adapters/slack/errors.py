"""Slack failures as the core's DeliveryError, and slack_sdk retries that can never re-post
(the error tree's answers to people: adapters/replies.py).

slack_sdk's default retry handlers include ConnectionErrorRetryHandler, which sends a request
again after a reset or a closed connection. For chat.postMessage that is a second copy when
Slack had accepted the first one and only its reply was lost. So posts are never retried on a
connection error (the core reconciles through find_posted instead); reads still are. A 429
means Slack refused the request, so it is retried in place, but only for a short wait.
"""

from __future__ import annotations

import math
import time
from http.client import HTTPException as HttpClientError
from typing import Any
from urllib.error import URLError

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from paperbot.core.ports import DeliveryError

# Methods a lost reply makes ambiguous: never sent twice by the client.
NOT_IDEMPOTENT = frozenset({"chat.postMessage"})
LONGEST_WAIT = 3600.0

# The workspace's token (or install) is refused: pause the workspace, probe with auth.test.
WORKSPACE = {
    "invalid_auth": "Slack rejected paperbot's token (invalid_auth): reinstall the app",
    "account_inactive": "paperbot's Slack account is inactive (account_inactive: the app was"
    " removed)",
    "token_revoked": "paperbot's token was revoked (token_revoked): reinstall the app",
    "not_authed": "paperbot has no token for this workspace (not_authed): reinstall the app",
    "team_access_not_granted": "paperbot is not installed in this workspace"
    " (team_access_not_granted)",
    "missing_scope": "paperbot lacks the chat:write permission (missing_scope): reinstall the app",
    "ekm_access_denied": "the workspace's key management denies access (ekm_access_denied)",
}
# This channel cannot be posted to: pause it, with what resumes it.
CHANNEL = {
    "not_in_channel": (
        "not_in_channel",
        "paperbot is not a member of this channel (not_in_channel): invite @paperbot",
    ),
    "channel_not_found": (
        "gone",
        "the channel was not found (channel_not_found: deleted, or private without paperbot)",
    ),
    "is_archived": ("archived", "the channel is archived (is_archived)"),
    "no_permission": ("permission", "paperbot may not post in this channel (no_permission)"),
    "restricted_action": (
        "permission",
        "this workspace does not allow paperbot to post here (restricted_action)",
    ),
    "restricted_action_read_only_channel": (
        "permission",
        "the channel is read-only (restricted_action_read_only_channel)",
    ),
}


def retry_after(headers: Any) -> float | None:
    """Seconds from a Retry-After header (lists or strings); None if absent or not a sane
    number (the caller's default backoff applies), never more than an hour."""
    for key, value in dict(headers or {}).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                seconds = float(raw)
            except (TypeError, ValueError):
                return None
            if not math.isfinite(seconds) or seconds < 0:
                return None
            return min(seconds, LONGEST_WAIT)
    return None


class IdempotentConnectionRetry(ConnectionErrorRetryHandler):
    """slack_sdk's connection-error retry, except for posts (a lost reply is no refusal)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.rstrip("/").rsplit("/", 1)[-1] in NOT_IDEMPOTENT:
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


class BoundedRateLimitRetry(RateLimitErrorRetryHandler):
    """Retry a 429 in place only when Retry-After is short; longer waits go back to delivery
    (whose lease they would outlive)."""

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
        wait = retry_after(response.headers)
        return wait is not None and wait <= self.max_wait

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        # slack_sdk's own reads the header with int(), which fails on "1.5".
        state.next_attempt_requested = True
        time.sleep(retry_after(response.headers if response else None) or 0)
        state.increment_current_attempt()


def retry_handlers(max_wait: float) -> list[RetryHandler]:
    return [IdempotentConnectionRetry(), BoundedRateLimitRetry(max_wait)]


def classify(exc: Exception, *, single: bool = False) -> DeliveryError:
    """A slack_sdk failure as DeliveryError with a reason a person can read.

    single: paperbot runs with one bot token, so a refused token is the platform's own.
    """
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        data = exc.response.data
        code = str(data.get("error") or "") if isinstance(data, dict) else ""
        if status == 429 or code == "ratelimited":
            wait = retry_after(exc.response.headers)
            shown = f"{wait:g} s" if wait is not None else "a while"
            return DeliveryError(
                f"Slack rate limit (retry after {shown})", retryable=True, retry_after=wait
            )
        if status >= 500:
            return DeliveryError(f"Slack server error (HTTP {status})", retryable=True)
        if code in WORKSPACE:
            return DeliveryError(
                WORKSPACE[code], retryable=False, scope="platform" if single else "workspace"
            )
        if code in CHANNEL:
            kind, reason = CHANNEL[code]
            return DeliveryError(reason, retryable=False, kind=kind)
        return DeliveryError(f"Slack error: {code or 'unknown'}", retryable=True)
    if isinstance(exc, URLError) and isinstance(exc.reason, ConnectionRefusedError):
        return DeliveryError("could not reach Slack (connection refused)", retryable=True)
    if isinstance(exc, URLError | TimeoutError | OSError | HttpClientError | SlackClientError):
        # The request may have reached Slack: whether it was posted is unknown.
        return DeliveryError(
            f"no answer from Slack ({type(exc).__name__})", retryable=True, outcome_unknown=True
        )
    return DeliveryError(
        f"unexpected error posting to Slack ({type(exc).__name__})",
        retryable=True,
        outcome_unknown=True,
    )
