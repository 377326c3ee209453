"""A loopback fake of the Slack Web API and of response_url: records calls, injects failures."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from .http import send

# Arguments Slack sends as JSON strings inside form posts.
_JSON_ARGS = ("blocks", "attachments", "metadata")


@dataclass
class Call:
    """One request the fake received: API method (or "response_url"), arguments, token."""

    method: str
    args: dict[str, Any]
    token: str | None
    path: str
    content_type: str
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    """What to answer instead of the normal response, for the next `times` calls.

    after: calls that are answered normally before the fault starts (e.g. 1: the second part).
    drop_reply: do the call (a post is stored), then close the connection without answering.
    delay: answer (and do the call) only after this long; a client with a shorter timeout
    gives up although the call goes through.
    """

    error: str | None = None
    status: int = 200
    retry_after: int | float | str | None = None
    delay: float = 0.0
    times: int = 1
    after: int = 0
    drop_reply: bool = False


@dataclass
class FakeChannel:
    id: str
    name: str = "general"
    is_member: bool = True
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False
    team: str = "T1"


ALL_SCOPES = (
    "commands,chat:write,users:read,channels:read,groups:read,channels:history,"
    "groups:history,im:write,reactions:read"
)


@dataclass
class FakeTeam:
    id: str
    bot_token: str
    bot_user_id: str = "UBOT"
    bot_id: str = "BBOT"
    name: str = "Test Team"
    scopes: str = ALL_SCOPES


class FakeSlack:
    """`with FakeSlack() as slack:` serves http://127.0.0.1:<port>/api/<method> until exit."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.teams: dict[str, FakeTeam] = {}
        self.users: dict[tuple[str, str], dict[str, Any]] = {}
        self.channels: dict[str, FakeChannel] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        # Thread replies (chat.postMessage with thread_ts), by (channel, thread_ts): Slack keeps
        # them out of conversations.history.
        self.replies: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.revoked: set[str] = set()
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        self.app_tokens: set[str] = set()
        self._socket_urls: Callable[[], str] | None = None
        self._faults: dict[str, deque[Fault]] = {}
        # conversations.history calls allowed per minute per team (None: no limit), as Slack
        # allows apps outside the Marketplace about one.
        self.history_per_minute: int | None = None
        self._history_calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._ts = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.add_team("T1", "xoxb-test-token")

    # -- world setup -------------------------------------------------------------------------
    def add_team(self, team_id: str, bot_token: str, *, bot_user_id: str = "UBOT") -> FakeTeam:
        team = FakeTeam(id=team_id, bot_token=bot_token, bot_user_id=bot_user_id)
        self.teams[bot_token] = team
        return team

    def add_installable_team(self, code: str = "code-1") -> None:
        """Team T2 (channel C2, admin UADMIN2) that installs paperbot with OAuth `code`."""
        self.add_team("T2", "xoxb-team2-secret", bot_user_id="UBOT2")
        self.add_channel("C2", team="T2")
        self.add_user("T2", "UADMIN2", admin=True)
        self.oauth_codes[code] = {
            "app_id": "A1",
            "authed_user": {"id": "UADMIN2"},
            "scope": "commands,chat:write",
            "token_type": "bot",
            "access_token": "xoxb-team2-secret",
            "bot_user_id": "UBOT2",
            "team": {"id": "T2", "name": "Team Two"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def add_user(self, team: str, user: str, *, admin: bool = False, owner: bool = False) -> None:
        self.users[(team, user)] = {"is_admin": admin, "is_owner": owner}

    def add_channel(self, channel_id: str, **kwargs: Any) -> FakeChannel:
        channel = FakeChannel(id=channel_id, **kwargs)
        self.channels[channel_id] = channel
        return channel

    def serve_socket_mode(self, app_token: str, issue_url: Callable[[], str]) -> None:
        """Answer `apps.connections.open` for this app-level token with URLs from `issue_url`."""
        self.app_tokens.add(app_token)
        self._socket_urls = issue_url

    def inject(self, method: str, **kwargs: Any) -> None:
        """Make the next call(s) to `method` fail: error code, HTTP status, Retry-After, delay."""
        with self._lock:
            self._faults.setdefault(method, deque()).append(Fault(**kwargs))

    # -- inspection --------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def digests_in(self, channel: str) -> int:
        """Digests the channel received (each digest's part 0), counted at the fake."""
        with self._lock:
            messages = list(self.messages.get(channel, []))
        return sum(
            1
            for m in messages
            if (m.get("metadata") or {}).get("event_payload", {}).get("part") == 0
        )

    def parts_in(self, channel: str) -> list[tuple[str, int]]:
        """(delivery key, part) of every digest message the channel received."""
        with self._lock:
            messages = list(self.messages.get(channel, []))
        out = []
        for m in messages:
            payload = (m.get("metadata") or {}).get("event_payload") or {}
            if "delivery" in payload:
                out.append((str(payload["delivery"]), int(payload["part"])))
        return out

    def thread_replies(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """What paperbot posted in the thread under message `thread_ts`."""
        with self._lock:
            return list(self.replies.get((channel, thread_ts), []))

    def response_url(self, name: str = "r1") -> str:
        return f"{self.url}/response/{name}"

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeSlack is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients that time out on purpose close the socket mid-reply

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling --------------------------------------------------------------------
    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(req.path)
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length) if length else b""
        content_type = req.headers.get("Content-Type") or ""
        args: dict[str, Any] = dict(parse_qsl(parts.query))
        if raw and "json" in content_type:
            args.update(json.loads(raw))
        elif raw:
            args.update(parse_qsl(raw.decode()))
        for key in _JSON_ARGS:
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        auth = req.headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ").strip() or args.pop("token", None)
        if parts.path.startswith("/response/"):
            method = "response_url"
        else:
            method = parts.path.removeprefix("/api/")
        call = Call(
            method=method, args=args, token=token, path=parts.path, content_type=content_type
        )
        with self._lock:
            self.calls.append(call)
            faults = self._faults.get(method)
            fault = faults[0] if faults else None
            if fault is not None and fault.after > 0:
                fault.after -= 1
                fault = None
            elif fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    faults.popleft()  # type: ignore[union-attr]
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status != 200 or fault.error:
                self._send_fault(req, fault)
                return
        if method == "response_url":
            send(req, 200, b"ok", "text/plain")
            return
        if method == "conversations.history" and self._history_limited(token):
            self._send_fault(req, Fault(status=429, retry_after=60))
            return
        body = self._api(method, args, token)
        if fault is not None and fault.drop_reply:
            req.close_connection = True  # the call happened; its reply is lost
            return
        headers = {}
        team = self.teams.get(token or "")
        if method == "auth.test" and team is not None:
            headers["X-OAuth-Scopes"] = team.scopes
        send(req, 200, json.dumps(body).encode(), "application/json; charset=utf-8", headers)

    def _history_limited(self, token: str | None) -> bool:
        if self.history_per_minute is None:
            return False
        now = time.monotonic()
        with self._lock:
            calls = self._history_calls.setdefault(token or "", deque())
            while calls and now - calls[0] > 60:
                calls.popleft()
            if len(calls) >= self.history_per_minute:
                return True
            calls.append(now)
            return False

    def _send_fault(self, req: BaseHTTPRequestHandler, fault: Fault) -> None:
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        if fault.status >= 500:
            send(req, fault.status, b"<html>upstream error</html>", "text/html", headers)
            return
        error = fault.error or ("ratelimited" if fault.status == 429 else "fatal_error")
        body = json.dumps({"ok": False, "error": error}).encode()
        send(req, fault.status, body, "application/json; charset=utf-8", headers)

    def _next_ts(self) -> str:
        # Real time, so a client's `oldest` bound (its attempt time) selects what it posted.
        with self._lock:
            self._ts = max(self._ts + 1, int(time.time() * 1000))
            return f"{self._ts / 1000:.6f}"

    def _api(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if method == "oauth.v2.access":
            return self._oauth(args)
        if method == "apps.connections.open":
            return self._connections_open(token)
        team = self.teams.get(token or "")
        if team is None or token in self.revoked:
            return {"ok": False, "error": "not_authed" if not token else "invalid_auth"}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://test.slack.com/",
                "team": team.name,
                "team_id": team.id,
                "user": "paperbot",
                "user_id": team.bot_user_id,
                "bot_id": team.bot_id,
                "is_enterprise_install": False,
            }
        if method == "users.info":
            flags = self.users.get((team.id, str(args.get("user"))))
            if flags is None:
                return {"ok": False, "error": "user_not_found"}
            user = {"id": args["user"], "team_id": team.id, "name": args["user"], **flags}
            return {"ok": True, "user": user}
        if method == "conversations.open":
            if "im:write" not in team.scopes.split(","):
                return {"ok": False, "error": "missing_scope", "needed": "im:write"}
            user = str(args.get("users") or "")
            if (team.id, user) not in self.users:
                return {"ok": False, "error": "user_not_found"}
            dm = self.add_channel(f"D{user}", is_im=True, team=team.id)
            return {"ok": True, "channel": {"id": dm.id}}
        channel = self.channels.get(str(args.get("channel")))
        if channel is None or channel.team != team.id:
            return {"ok": False, "error": "channel_not_found"}
        if method == "conversations.info":
            if channel.is_private and not channel.is_member:
                return {"ok": False, "error": "channel_not_found"}
            return {
                "ok": True,
                "channel": {
                    "id": channel.id,
                    "name": channel.name,
                    "is_member": channel.is_member,
                    "is_private": channel.is_private,
                    "is_archived": channel.is_archived,
                    "is_im": channel.is_im,
                },
            }
        if method in ("chat.postMessage", "chat.postEphemeral"):
            if channel.is_archived:
                return {"ok": False, "error": "is_archived"}
            if not channel.is_member:
                return {"ok": False, "error": "not_in_channel"}
            ts = self._next_ts()
            message = {
                "type": "message",
                "ts": ts,
                "bot_id": team.bot_id,
                "text": args.get("text", ""),
                "blocks": args.get("blocks", []),
            }
            if args.get("metadata"):
                message["metadata"] = args["metadata"]
            thread = str(args.get("thread_ts") or "")
            if method == "chat.postMessage" and thread:
                if not any(m["ts"] == thread for m in self.messages.get(channel.id, [])):
                    return {"ok": False, "error": "thread_not_found"}
                message["thread_ts"] = thread
                with self._lock:
                    self.replies.setdefault((channel.id, thread), []).append(message)
                return {"ok": True, "channel": channel.id, "ts": ts, "message": message}
            if method == "chat.postMessage":
                with self._lock:
                    self.messages.setdefault(channel.id, []).append(message)
                return {"ok": True, "channel": channel.id, "ts": ts, "message": message}
            return {"ok": True, "message_ts": ts}
        if method == "conversations.history":
            limit = int(args.get("limit") or 100)
            oldest = float(args.get("oldest") or 0)
            with_meta = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
            with self._lock:
                newer = [m for m in self.messages.get(channel.id, []) if float(m["ts"]) > oldest]
            history = list(reversed(newer))[:limit]
            if not with_meta:
                history = [{k: v for k, v in m.items() if k != "metadata"} for m in history]
            return {"ok": True, "messages": history, "has_more": len(newer) > limit}
        return {"ok": False, "error": "unknown_method"}

    def _connections_open(self, token: str | None) -> dict[str, Any]:
        if token in self.teams:
            return {"ok": False, "error": "not_allowed_token_type"}
        if token not in self.app_tokens or token in self.revoked or self._socket_urls is None:
            return {"ok": False, "error": "not_authed" if not token else "invalid_auth"}
        return {"ok": True, "url": self._socket_urls()}

    def _oauth(self, args: dict[str, Any]) -> dict[str, Any]:
        grant = self.oauth_codes.get(str(args.get("code")))
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        return {"ok": True, **grant}


# -- Events API payloads as Slack sends them (the harness signs and posts them) ----------------
def reaction_event(
    name: str, *, user: str, channel: str, ts: str, added: bool = True, item_user: str = "UBOT"
) -> dict[str, Any]:
    """reaction_added / reaction_removed: `name` as Slack spells it (`+1`, `+1::skin-tone-3`)."""
    return {
        "type": "reaction_added" if added else "reaction_removed",
        "user": user,
        "reaction": name,
        "item_user": item_user,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": f"{time.time():.6f}",
    }


def message_event(
    text: str, *, user: str, channel: str, ts: str, thread_ts: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A message.channels / message.groups event (a thread reply when thread_ts differs)."""
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
        **extra,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


# -- what a correct Slack client sends ---------------------------------------------------------
_SPEC_PATH = Path(__file__).resolve().parent.parent / "specs" / "slack-web-openapi-v2.json"
# Newer than the 2021 spec (message metadata 2022; include_all_metadata on history; the
# team_id bolt's per-request client sends on every call, as org-wide apps need).
_NEWER_ARGS = {"metadata", "include_all_metadata", "team_id"}
MAX_BLOCKS = 50
MAX_MESSAGE_CHARS = 12_000


@cache
def _spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_SPEC_PATH.read_text())
    return data


def spec_problems(method: str, args: dict[str, Any]) -> list[str]:
    """Arguments the Slack Web API spec does not know for `method`, or required ones missing."""
    path = _spec()["paths"].get("/" + method)
    if path is None:
        return [f"{method}: not in the Slack Web API spec"]
    params = next(iter(path.values())).get("parameters", [])
    known = {p["name"] for p in params} | _NEWER_ARGS
    problems = [f"{method}: unknown argument {name!r}" for name in args if name not in known]
    for p in params:
        if p.get("required") and p["name"] != "token" and p["name"] not in args:
            problems.append(f"{method}: missing required {p['name']!r}")
    return problems


def block_kit_problems(message: dict[str, Any]) -> list[str]:
    """Block Kit limits checked with slack_sdk's own models, plus message-level limits."""
    problems: list[str] = []
    blocks = message.get("blocks") or []
    if not message.get("text"):
        problems.append("no fallback text")
    if message.get("link_names"):
        problems.append("link_names set")
    if blocks and message.get("unfurl_links", False) is not False:
        problems.append("link unfurling not turned off")
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks")
    size = sum(len(json.dumps(b, ensure_ascii=False)) for b in blocks)
    if size > MAX_MESSAGE_CHARS:
        problems.append(f"{size} characters of blocks")
    for raw in blocks:
        try:
            parsed = Block.parse(raw)
            if parsed is None:
                problems.append(f"unknown block {raw.get('type')}")
                continue
            # to_dict() validates nested objects too; a key the model drops is a typo of ours.
            if parsed.to_dict() != raw:
                problems.append(f"{raw.get('type')}: not a faithful Block Kit block: {raw}")
        except SlackObjectFormationError as exc:
            problems.append(f"{raw.get('type')}: {exc}")
    return problems


def mention_leaks(message: dict[str, Any], allowed_users: tuple[str, ...] = ()) -> list[str]:
    """Raw mention tokens that would ping someone (everything but allowed user mentions)."""
    text = "\n".join(_shown_text(message))
    leaks = re.findall(r"<[!@#][^>]*>", text)
    return [m for m in leaks if m.removeprefix("<@").rstrip(">") not in allowed_users]


def _shown_text(node: Any) -> list[str]:
    """Every string a reader sees (button values and ids are never rendered)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [t for item in node for t in _shown_text(item)]
    if isinstance(node, dict):
        hidden = ("value", "action_id", "block_id", "metadata", "url", "image_url", "type")
        return [t for k, v in node.items() if k not in hidden for t in _shown_text(v)]
    return []
