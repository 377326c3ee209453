"""What reaches bolt over HTTP: signed, well-formed Slack requests; 401 or 400 for the rest.

bolt answers 500 (and logs a traceback) for a signed request it cannot parse, and for some it
cannot even verify: a non-numeric timestamp, a body that is not UTF-8, `payload` that is not a
JSON object, `actions` that is not a list. This guard checks the signature first over the raw
bytes (so nothing unsigned is ever parsed: 401), then the request's shape with bolt's own
parser (400), and only then hands the request to bolt. Size is limited before: web.BodyLimit.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from slack_bolt.request import payload_utils
from slack_bolt.request.async_request import AsyncBoltRequest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

log = logging.getLogger(__name__)

# Slack's replay window: requests older (or newer) than this are refused, as bolt does.
MAX_CLOCK_SKEW_SECONDS = 300
# Slack ids (T…, C…, U…, E…) and timestamps ("1700000000.000100"): nothing else is an id.
_ID = re.compile(r"[A-Za-z0-9._-]{0,255}")
_CONTEXT_IDS = (
    "enterprise_id",
    "team_id",
    "user_id",
    "channel_id",
    "actor_enterprise_id",
    "actor_team_id",
    "actor_user_id",
    "thread_ts",
)
# Fields bolt's extractors and matchers index into: each must have the shape Slack sends.
# team, channel and enterprise may be null (org-wide installs); a team may be a bare id.
_DICTS = ("event", "view", "container", "message", "user")
_NULLABLE: dict[str, tuple[type, ...]] = {
    "team": (dict, str),
    "channel": (dict,),
    "enterprise": (dict,),
}
_STRINGS = ("type", "callback_id", "command", "text", "trigger_id", "response_url", "token")

_EXTRACTS = (
    payload_utils.to_options,
    payload_utils.to_shortcut,
    payload_utils.to_action,
    payload_utils.to_view,
    payload_utils.to_command,
    payload_utils.to_event,
    payload_utils.to_message,
    payload_utils.to_step,
)

Handler = Callable[[Request], Awaitable[Response]]


def _reply(status: int, text: str) -> Response:
    return PlainTextResponse(text, status)


class SlackRequestGuard:
    """Wraps bolt's Starlette handler for POST /slack/events."""

    def __init__(self, signing_secret: str, handle: Handler) -> None:
        self._secret = signing_secret.encode()
        self._handle = handle

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not self._signed(timestamp, signature, body):
            return _reply(401, "invalid request signature")
        if not (timestamp.isascii() and timestamp.isdigit()):
            return _reply(400, "X-Slack-Request-Timestamp must be a number")
        if abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
            return _reply(401, "stale request timestamp")
        problem = _problem(body, request)
        if problem is not None:
            log.info("slack: refused a malformed request (%s)", problem)
            return _reply(400, problem)
        return await self._handle(request)

    def _signed(self, timestamp: str, signature: str, body: bytes) -> bool:
        if not timestamp or not signature:
            return False
        base = b"v0:" + timestamp.encode("latin-1") + b":" + body
        expected = "v0=" + hmac.new(self._secret, base, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), signature.encode("latin-1"))


def _problem(body: bytes, request: Request) -> str | None:
    """Why bolt could not handle this signed body, or None when it can."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8"
    try:
        parsed = AsyncBoltRequest(body=text, headers=dict(request.headers))
        if not isinstance(parsed.body, dict):
            return "body is not a JSON object"
        # What bolt extracts for every listener's arguments, run here first.
        for extract in _EXTRACTS:
            extract(parsed.body)
    except RecursionError:
        return "body is nested too deeply"
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        return "body is not a Slack payload"
    for name in _CONTEXT_IDS:
        if not _is_id(parsed.context.get(name)):
            return f"{name} is not a Slack id"
    return _shape(parsed.body)


def _is_url(url: str) -> bool:
    if not (url.isascii() and url.isprintable()) or " " in url:
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        return False
    return parts.scheme in ("https", "http") and bool(parts.hostname)


def _is_id(value: Any) -> bool:
    return value is None or (isinstance(value, str) and _ID.fullmatch(value) is not None)


def _shape(payload: dict[str, Any]) -> str | None:
    for name in _DICTS:
        if name in payload and not isinstance(payload[name], dict):
            return f"'{name}' must be an object"
    for name, allowed in _NULLABLE.items():
        if payload.get(name) is not None and not isinstance(payload[name], allowed):
            return f"'{name}' must be an object"
    for name in _STRINGS:
        if name in payload and not isinstance(payload[name], str):
            return f"'{name}' must be a string"
    url = payload.get("response_url")
    if url and not _is_url(url):
        return "'response_url' must be an http(s) URL"
    event = payload.get("event")
    if isinstance(event, dict):
        for name in ("type", "subtype", "channel_type"):
            if event.get(name) is not None and not isinstance(event[name], str):
                return f"'event.{name}' must be a string"
        for name in ("channel", "user", "team"):
            if isinstance(event.get(name), str) and not _is_id(event[name]):
                return f"'event.{name}' is not a Slack id"
        for name in ("tokens", "function"):
            if name in event and not isinstance(event[name], dict):
                return f"'event.{name}' must be an object"
        tokens = event.get("tokens") or {}
        if any(not isinstance(tokens.get(k, []), list) for k in ("bot", "oauth")):
            return "'event.tokens' must list user ids"
    elif payload.get("type") == "event_callback":
        return "'event' is missing"
    if "actions" in payload:
        return _actions(payload["actions"], block=payload.get("type") == "block_actions")
    if payload.get("type") in ("block_actions", "interactive_message"):
        return "'actions' is missing"
    return None


def _actions(actions: Any, *, block: bool) -> str | None:
    if not isinstance(actions, list) or not actions:
        return "'actions' must be a non-empty list"
    for action in actions:
        if not isinstance(action, dict):
            return "each action must be an object"
        for name in ("action_id", "block_id", "value", "name", "type"):
            if action.get(name) is not None and not isinstance(action[name], str):
                return f"'action.{name}' must be a string"
        if block and not isinstance(action.get("action_id"), str):
            return "each action needs an action_id"
    return None


__all__ = ["MAX_CLOCK_SKEW_SECONDS", "SlackRequestGuard"]
