"""A loopback fake of Discord: REST API + gateway websocket, recording what a real client sends.

Point discord.py at it with two class attributes (see `paperbot.adapters.discord.platform`):
`Route.BASE = fake.api_base_url` and `DiscordWebSocket.DEFAULT_GATEWAY = URL(fake.gateway_url)`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SPEC_PATH = Path(__file__).resolve().parents[1] / "specs" / "discord-openapi.json"
# The spec says 4000; Discord documents (and enforces for bots) 2000.
CONTENT_LIMIT = 2000
DEADLINE_SECONDS = 3.0
DISCORD_EPOCH_MS = 1420070400000

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
MEMBER = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY
BOT_OK = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | READ_MESSAGE_HISTORY
    | SEND_MESSAGES_IN_THREADS
    | CREATE_PUBLIC_THREADS
)
_MENTION = re.compile(r"@everyone|@here|<@!?(\d+)>|<@&(\d+)>")


@dataclass
class Recorded:
    """One HTTP request the client made."""

    method: str
    path: str
    route: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    at: float


RECORDED = web.RequestKey("recorded", Recorded)


@dataclass
class Failure:
    status: int
    code: int = 0
    message: str = ""
    retry_after: float = 0.0
    via: bool = True
    times: int | None = 1  # None: every request
    after: int = 0  # requests that still succeed before the failures start
    drop_reply: bool = False  # post the message, then close the connection without answering


@dataclass
class Callback:
    """An interaction's response, with how long after dispatch it arrived."""

    interaction_id: str
    body: dict[str, Any]
    latency: float


@dataclass
class _Session:
    ws: web.WebSocketResponse
    compress: str | None
    shard: tuple[int, int] = (0, 1)
    identified: bool = False
    seq: int = 0
    zlib: Any = field(default_factory=zlib.compressobj)


@cache
def _spec_registry() -> tuple[dict[str, Any], Registry]:
    spec = json.loads(SPEC_PATH.read_text())
    resource = Resource.from_contents(spec, default_specification=_draft())
    return spec, Registry().with_resource("urn:discord", resource)


def _draft() -> Any:
    from referencing.jsonschema import DRAFT202012

    return DRAFT202012


def spec_errors(route: str, method: str, body: Any) -> list[str]:
    """Where `body` breaks Discord's OpenAPI request schema for this route (plus the 2000 rule)."""
    spec, registry = _spec_registry()
    operation = spec["paths"].get(route, {}).get(method.lower())
    if operation is None or "requestBody" not in operation:
        return []
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    schema = json.loads(json.dumps(schema).replace('"#/', '"urn:discord#/'))
    validator = Draft202012Validator(schema, registry=registry)
    errors = [f"{route}: {e.json_path}: {e.message[:200]}" for e in validator.iter_errors(body)]
    for message in _messages_in(body):
        content = message.get("content") or ""
        if len(content) > CONTENT_LIMIT:
            errors.append(f"{route}: content has {len(content)} > {CONTENT_LIMIT} characters")
        total = sum(_embed_chars(e) for e in message.get("embeds") or [])
        if total > 6000:
            errors.append(f"{route}: embeds have {total} > 6000 characters")
    return errors


def _messages_in(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    if isinstance(body.get("data"), dict) and "type" in body:
        return [body["data"]]
    return [body]


def _embed_chars(embed: dict[str, Any]) -> int:
    fields = embed.get("fields") or []
    return (
        len(embed.get("title") or "")
        + len(embed.get("description") or "")
        + len((embed.get("footer") or {}).get("text") or "")
        + len((embed.get("author") or {}).get("name") or "")
        + sum(len(f.get("name", "")) + len(f.get("value", "")) for f in fields)
    )


def pinged(message: dict[str, Any]) -> set[str]:
    """Who Discord would notify for this message body (content only; embeds never ping)."""
    content = message.get("content") or ""
    allowed = message.get("allowed_mentions")
    parse = {"everyone", "users", "roles"} if allowed is None else set(allowed.get("parse") or [])
    users = {str(u) for u in (allowed or {}).get("users") or []}
    roles = {str(r) for r in (allowed or {}).get("roles") or []}
    out: set[str] = set()
    for match in _MENTION.finditer(content):
        text, user, role = match.group(0), match.group(1), match.group(2)
        if text in ("@everyone", "@here") and "everyone" in parse:
            out.add(text)
        elif user and ("users" in parse or user in users):
            out.add(f"<@{user}>")
        elif role and ("roles" in parse or role in roles):
            out.add(f"<@&{role}>")
    return out


class FakeDiscord:
    """Discord REST + gateway on 127.0.0.1:0. Start with `await fake.start()`."""

    def __init__(self, *, token: str = "fake-bot-token", application_id: int = 4242) -> None:
        self.token = token
        self.application_id = application_id
        self.bot_user = _user(application_id, "paperbot", bot=True)
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.commands: dict[str | None, list[dict[str, Any]]] = {}
        self.callbacks: dict[str, list[Callback]] = defaultdict(list)
        self.followups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.guilds: dict[str, dict[str, Any]] = {}
        self.identifies: list[dict[str, Any]] = []
        self.compressions: list[str | None] = []
        self.resumes: list[dict[str, Any]] = []
        self._resumable: dict[str, tuple[int, int]] = {}
        self.failures: dict[str, list[Failure]] = defaultdict(list)
        # Threads paperbot opened: thread id -> the thread channel object.
        self.threads: dict[str, dict[str, Any]] = {}
        self.delay: dict[str, float] = {}
        self.shards_recommended = 1
        self._nonces: dict[tuple[str, str], dict[str, Any]] = {}
        self._dispatched: dict[str, float] = {}
        self._tokens: dict[str, str] = {}
        self._sessions: list[_Session] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----- lifecycle
    async def start(self) -> FakeDiscord:
        app = web.Application(middlewares=[self._record])
        r = app.router
        r.add_get("/gateway", self._gateway_ws)
        base = "/api/v10"
        r.add_get(base + "/users/@me", self._me)
        r.add_get(base + "/oauth2/applications/@me", self._application)
        r.add_get(base + "/applications/@me", self._application)
        r.add_get(base + "/gateway", self._gateway_info)
        r.add_get(base + "/gateway/bot", self._gateway_info)
        for path in (
            "/applications/{application_id}/commands",
            "/applications/{application_id}/guilds/{guild_id}/commands",
        ):
            r.add_get(base + path, self._get_commands)
            r.add_put(base + path, self._put_commands)
        r.add_post(base + "/users/@me/channels", self._open_dm)
        r.add_get(base + "/guilds/{guild_id}", self._get_guild)
        r.add_post(base + "/channels/{channel_id}/messages", self._create_message)
        r.add_post(base + "/channels/{channel_id}/threads", self._create_thread)
        r.add_get(base + "/channels/{channel_id}/messages", self._list_messages)
        r.add_post(
            base + "/interactions/{interaction_id}/{interaction_token}/callback", self._callback
        )
        r.add_post(base + "/webhooks/{webhook_id}/{webhook_token}", self._followup)
        r.add_patch(
            base + "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", self._edit
        )
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        for session in list(self._sessions):
            await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ----- scenario set-up
    def add_guild(
        self,
        guild_id: int,
        channels: dict[int, str],
        name: str = "Lab",
        system_channel: int | None = None,
    ) -> None:
        self.guilds[str(guild_id)] = {
            "id": str(guild_id),
            "name": name,
            "unavailable": False,
            "member_count": 3,
            "owner_id": "1",
            "roles": [
                {
                    "id": str(guild_id),
                    "name": "@everyone",
                    "permissions": str(MEMBER),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "channels": [_channel(cid, guild_id, cname) for cid, cname in channels.items()],
            "system_channel_id": str(system_channel) if system_channel else None,
            # Without the members intent Discord still sends the bot's own member.
            "members": [
                {
                    "user": self.bot_user,
                    "roles": [],
                    "joined_at": _now_iso(),
                    "deaf": False,
                    "mute": False,
                    "flags": 0,
                }
            ],
            "threads": [],
            "emojis": [],
            "stickers": [],
            "features": [],
            "joined_at": _now_iso(),
        }

    async def set_everyone(self, guild_id: int, permissions: int) -> None:
        """Change the @everyone role's permissions (the bot's too) and tell the gateway."""
        role = self.guilds[str(guild_id)]["roles"][0]
        role["permissions"] = str(permissions)
        await self.dispatch(
            "GUILD_ROLE_UPDATE", {"guild_id": str(guild_id), "role": role}, guild_id
        )

    def digest_parts_in(self, channel_id: int | str) -> list[tuple[str, int]]:
        """(delivery marker, part) of every digest message the channel received."""
        out = []
        for message in self.messages.get(str(channel_id), []):
            for row in message.get("components") or []:
                for component in row.get("components") or []:
                    tag = str(component.get("custom_id", "")).partition("|")[2]
                    if tag.count(".") == 2:
                        mark, part, _ = tag.split(".")
                        out.append((mark, int(part)))
        return out

    def digests_in(self, channel_id: int | str) -> int:
        return sum(1 for _, part in self.digest_parts_in(channel_id) if part == 0)

    def fail(self, channel_id: int | str, failure: Failure) -> None:
        """Make posts to this channel fail (`times` requests, or always)."""
        self.failures[str(channel_id)].append(failure)

    def posts(self, channel_id: int | str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if r.route.endswith("/channels/{channel_id}/messages")
            and r.method == "POST"
            and (channel_id is None or r.path.split("/")[-2] == str(channel_id))
        ]

    # ----- gateway
    async def identified(self, count: int = 1, timeout: float = 10.0) -> None:
        await self._wait(lambda: sum(s.identified for s in self._sessions) >= count, timeout)

    async def dispatch(self, event: str, data: dict[str, Any], guild_id: int | None = None) -> None:
        """Send a DISPATCH to every identified session (of the guild's shard, when given)."""
        for session in self._sessions:
            if not session.identified:
                continue
            if guild_id is not None and (guild_id >> 22) % session.shard[1] != session.shard[0]:
                continue
            session.seq += 1
            await self._send(session, {"op": 0, "t": event, "s": session.seq, "d": data})

    async def drop(self, code: int = 4000) -> None:
        """Close every gateway connection, as Discord does now and then."""
        for session in list(self._sessions):
            session.identified = False
            await session.ws.close(code=code)

    async def readd_guild(self, guild_id: int, channels: dict[int, str]) -> None:
        """The bot is added to a server (again): Discord sends GUILD_CREATE without the
        `unavailable` key, which is what tells a join from a guild coming back online."""
        self.add_guild(guild_id, channels)
        guild = {k: v for k, v in self.guilds[str(guild_id)].items() if k != "unavailable"}
        await self.dispatch("GUILD_CREATE", guild, guild_id)

    async def remove_guild(self, guild_id: int) -> None:
        self.guilds.pop(str(guild_id), None)
        await self.dispatch("GUILD_DELETE", {"id": str(guild_id)}, guild_id)

    async def interact(self, payload: dict[str, Any], timeout: float = 10.0) -> Callback:
        """Push an INTERACTION_CREATE and wait for the bot's first response to it."""
        iid = payload["id"]
        self._dispatched[iid] = time.monotonic()
        self._tokens[payload["token"]] = iid
        gid = payload.get("guild_id")
        await self.dispatch("INTERACTION_CREATE", payload, int(gid) if gid else None)
        await self._wait(lambda: bool(self.callbacks.get(iid)), timeout)
        return self.callbacks[iid][0]

    async def followup(self, payload: dict[str, Any], count: int = 1, timeout: float = 10.0) -> Any:
        token = payload["token"]
        await self._wait(lambda: len(self.followups.get(token, [])) >= count, timeout)
        return self.followups[token][count - 1]

    async def wait_posts(self, channel_id: int | str, count: int, timeout: float = 10.0) -> None:
        await self._wait(lambda: len(self.messages.get(str(channel_id), [])) >= count, timeout)

    async def _wait(self, predicate: Any, timeout: float) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _send(self, session: _Session, payload: dict[str, Any]) -> None:
        text = json.dumps(payload)
        if session.compress == "zlib-stream":
            data = session.zlib.compress(text.encode()) + session.zlib.flush(zlib.Z_SYNC_FLUSH)
            await session.ws.send_bytes(data)
        elif session.compress == "zstd-stream":
            import zstandard  # only when the client asked for it (it has zstandard then)

            await session.ws.send_bytes(zstandard.ZstdCompressor().compress(text.encode()))
        else:
            await session.ws.send_str(text)

    async def _gateway_ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        session = _Session(ws, request.query.get("compress"))
        self.compressions.append(session.compress)
        self._sessions.append(session)
        await self._send(session, {"op": 10, "d": {"heartbeat_interval": 41250}})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._on_gateway(session, json.loads(msg.data))
        finally:
            self._sessions.remove(session)
        return ws

    async def _on_gateway(self, session: _Session, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == 1:
            await self._send(session, {"op": 11})
        elif op == 2:
            self.identifies.append(data)
            session.shard = tuple(data.get("shard") or (0, 1))  # type: ignore[assignment]
            await self._ready(session)
        elif op == 6:
            shard = self._resumable.get(data.get("session_id", ""))
            if shard is None:  # unknown session: the client must identify afresh
                await self._send(session, {"op": 9, "d": False})
                return
            self.resumes.append(data)
            session.shard, session.identified = shard, True
            session.seq = int(data.get("seq") or 0) + 1
            await self._send(session, {"op": 0, "t": "RESUMED", "s": session.seq, "d": {}})
            await self._notify()

    async def _ready(self, session: _Session) -> None:
        shard_id, count = session.shard
        mine = [g for g in self.guilds.values() if (int(g["id"]) >> 22) % count == shard_id]
        session.seq += 1
        session_id = f"s{next(self._ids)}"
        self._resumable[session_id] = session.shard
        ready = {
            "v": 10,
            "user": self.bot_user,
            "session_id": session_id,
            "resume_gateway_url": self.gateway_url,
            "shard": [shard_id, count],
            "guilds": [{"id": g["id"], "unavailable": True} for g in mine],
            "application": {"id": str(self.application_id), "flags": 0},
        }
        await self._send(session, {"op": 0, "t": "READY", "s": session.seq, "d": ready})
        session.identified = True
        for guild in mine:
            session.seq += 1
            await self._send(session, {"op": 0, "t": "GUILD_CREATE", "s": session.seq, "d": guild})
        await self._notify()

    # ----- REST
    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/gateway":
            return await handler(request)
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if request.content_type == "application/json" else raw
        info = request.match_info.route.resource
        route = info.canonical.removeprefix("/api/v10") if info is not None else request.path
        rec = Recorded(
            request.method,
            request.path,
            route,
            dict(request.query),
            dict(request.headers),
            body,
            time.monotonic(),
        )
        self.requests.append(rec)
        request[RECORDED] = rec
        if body is not None and request.content_type == "application/json":
            self.violations += spec_errors(route, request.method, body)
            for message in _messages_in(body):
                self.violations += [f"{route}: pings {p}" for p in pinged(message)]
        needs_bot = not route.startswith(("/interactions/", "/webhooks/"))
        if needs_bot and request.headers.get("Authorization") != f"Bot {self.token}":
            return _error(401, 0, "401: Unauthorized")
        response = await handler(request)
        await self._notify()
        return response

    async def _me(self, request: web.Request) -> web.Response:
        return _json(self.bot_user)

    async def _application(self, request: web.Request) -> web.Response:
        return _json(
            {
                "id": str(self.application_id),
                "name": "paperbot",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "00",
                "owner": _user(1, "owner"),
                "flags": 0,
                "team": None,
                "summary": "",
                "bot": self.bot_user,
                "interactions_endpoint_url": None,
            }
        )

    async def _gateway_info(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _json(
            {
                "url": self.gateway_url,
                "shards": self.shards_recommended,
                "session_start_limit": limit,
            }
        )

    async def _get_commands(self, request: web.Request) -> web.Response:
        return _json(self.commands.get(request.match_info.get("guild_id"), []))

    async def _put_commands(self, request: web.Request) -> web.Response:
        guild = request.match_info.get("guild_id")
        body = request[RECORDED].body or []
        stored = [
            {
                **c,
                "id": str(self._snowflake()),
                "application_id": str(self.application_id),
                "version": str(self._snowflake()),
                **({"guild_id": guild} if guild else {}),
            }
            for c in body
        ]
        self.commands[guild] = stored
        return _json(stored)

    async def _create_message(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel_id"]
        if (delay := self.delay.get(channel)) is not None:
            await asyncio.sleep(delay)
        queue = self.failures.get(channel) or []
        drop = False
        if queue and queue[0].after > 0:
            queue[0].after -= 1
        elif queue:
            failure = queue[0]
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    queue.pop(0)
            if failure.drop_reply:
                drop = True
            elif failure.status == 429:
                return _rate_limited(failure)
            else:
                return _error(failure.status, failure.code, failure.message)
        body = request[RECORDED].body
        nonce = body.get("nonce")
        if body.get("enforce_nonce") and nonce is not None and (channel, nonce) in self._nonces:
            return _json(self._nonces[(channel, nonce)])
        message = self.message(channel, body)
        self.messages[channel].append(message)
        if nonce is not None:
            self._nonces[(channel, nonce)] = message
        if drop and request.transport is not None:
            request.transport.close()  # posted; the reply is lost
        return _json(message)

    async def _create_thread(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/threads: a thread without a starter message, announced to the
        gateway (THREAD_CREATE) as Discord does for the member who created it."""
        channel = request.match_info["channel_id"]
        queue = self.failures.get(f"{channel}/threads") or []
        if queue:
            failure = queue.pop(0)
            return _error(failure.status, failure.code, failure.message)
        guild = next(
            (g for g in self.guilds.values() if any(c["id"] == channel for c in g["channels"])),
            None,
        )
        if guild is None:
            return _error(404, 10003, "Unknown Channel")
        body = request[RECORDED].body or {}
        thread = {
            "id": str(self._snowflake()),
            "guild_id": guild["id"],
            "parent_id": channel,
            "owner_id": self.bot_user["id"],
            "type": body.get("type") or 12,
            "name": body["name"],
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration") or 4320,
                "archive_timestamp": _now_iso(),
                "locked": False,
            },
        }
        self.threads[thread["id"]] = thread
        guild["threads"].append(thread)
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True}, int(guild["id"]))
        return _json(thread, status=201)

    async def react(
        self,
        channel_id: int | str,
        message_id: int | str,
        emoji: str,
        *,
        guild_id: int,
        user_id: int = 1001,
        added: bool = True,
    ) -> None:
        """A member adds (or removes) a unicode reaction: MESSAGE_REACTION_ADD / _REMOVE."""
        data: dict[str, Any] = {
            "user_id": str(user_id),
            "channel_id": str(channel_id),
            "message_id": str(message_id),
            "guild_id": str(guild_id),
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
        }
        if added:
            data["member"] = {
                "user": _user(user_id, f"user{user_id}", bot=user_id == self.application_id),
                "roles": [],
                "joined_at": _now_iso(),
                "deaf": False,
                "mute": False,
                "flags": 0,
            }
            data["message_author_id"] = self.bot_user["id"]
        event = "MESSAGE_REACTION_ADD" if added else "MESSAGE_REACTION_REMOVE"
        await self.dispatch(event, data, guild_id)

    async def say(
        self, channel_id: int | str, *, guild_id: int, user_id: int = 1001, bot: bool = False
    ) -> dict[str, Any]:
        """A member posts in a channel or thread: MESSAGE_CREATE, without message content
        (paperbot has no message content intent), as Discord sends it then."""
        message = {
            "id": str(self._snowflake()),
            "channel_id": str(channel_id),
            "guild_id": str(guild_id),
            "type": 0,
            "author": _user(user_id, f"user{user_id}", bot=bot),
            "member": {"roles": [], "joined_at": _now_iso(), "deaf": False, "mute": False},
            "content": "",
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "flags": 0,
        }
        await self.dispatch("MESSAGE_CREATE", message, guild_id)
        return message

    async def _open_dm(self, request: web.Request) -> web.Response:
        recipient = str((request[RECORDED].body or {}).get("recipient_id"))
        dm = {"id": str(900_000 + int(recipient)), "type": 1, "last_message_id": None}
        return _json({**dm, "recipients": [_user(int(recipient), f"user{recipient}")], "flags": 0})

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild = self.guilds.get(request.match_info["guild_id"])
        return _json(guild) if guild is not None else _error(404, 10004, "Unknown Guild")

    async def _list_messages(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel_id"]
        limit = int(request.query.get("limit", "50"))
        found = [{k: v for k, v in m.items() if k != "nonce"} for m in self.messages[channel]]
        return _json(list(reversed(found))[:limit])

    async def _callback(self, request: web.Request) -> web.Response:
        iid = request.match_info["interaction_id"]
        latency = time.monotonic() - self._dispatched.get(iid, time.monotonic())
        if latency > DEADLINE_SECONDS:
            return _error(404, 10062, "Unknown interaction")
        if self.callbacks.get(iid):
            return _error(400, 40060, "Interaction has already been acknowledged.")
        body = request[RECORDED].body
        self.callbacks[iid].append(Callback(iid, body, latency))
        data = body.get("data") or {}
        ephemeral = bool((data.get("flags") or 0) & 64)
        kind = body["type"]
        resource: dict[str, Any] = {"type": kind}
        if kind in (4, 7):
            resource["message"] = self.message("0", data)
        return _json(
            {
                "interaction": {
                    "id": iid,
                    "type": 2,
                    "response_message_id": str(self._snowflake()),
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": ephemeral,
                },
                "resource": resource,
            }
        )

    async def _followup(self, request: web.Request) -> web.Response:
        token = request.match_info["webhook_token"]
        message = self.message("0", request[RECORDED].body, webhook=True)
        self.followups[token].append(message)
        return _json(message)

    async def _edit(self, request: web.Request) -> web.Response:
        token = request.match_info["webhook_token"]
        message = self.message("0", request[RECORDED].body, webhook=True)
        self.followups[token].append(message)
        return _json(message)

    def message(self, channel: str, body: dict[str, Any], webhook: bool = False) -> dict[str, Any]:
        """A full message object as Discord returns it."""
        return {
            "id": str(self._snowflake()),
            "channel_id": channel,
            "type": 0,
            "author": self.bot_user,
            "content": body.get("content") or "",
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": "@everyone" in pinged(body),
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "flags": body.get("flags") or 0,
            "nonce": body.get("nonce"),
            **({"webhook_id": str(self.application_id)} if webhook else {}),
        }

    def _snowflake(self) -> int:
        return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | next(self._ids) % 4096

    # ----- interaction payloads (discord.py 2.7.1 needs attachment_size_limit)
    def command(
        self,
        sub: str,
        options: dict[str, Any] | None = None,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int = 1001,
        permissions: int = MEMBER,
        app_permissions: int = BOT_OK,
        focused: str | None = None,
    ) -> dict[str, Any]:
        """A /papers <sub> interaction (an autocomplete when `focused` names an option)."""
        opts = [
            {
                "name": k,
                "type": 4 if isinstance(v, int) else 3,
                "value": v,
                **({"focused": True} if k == focused else {}),
            }
            for k, v in (options or {}).items()
        ]
        data = {
            "id": "77",
            "name": "papers",
            "type": 1,
            "options": [{"name": sub, "type": 1, "options": opts}],
        }
        return self._interaction(
            4 if focused else 2, data, guild_id, channel_id, user_id, permissions, app_permissions
        )

    def click(
        self,
        custom_id: str,
        message: dict[str, Any],
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int = 1001,
        permissions: int = MEMBER,
        app_permissions: int = BOT_OK,
    ) -> dict[str, Any]:
        """A button click on `message` (a message object this fake returned)."""
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self._interaction(
            3, data, guild_id, channel_id, user_id, permissions, app_permissions
        )
        payload["message"] = {**message, "channel_id": str(channel_id)}
        return payload

    def choose(
        self,
        custom_id: str,
        value: str,
        message: dict[str, Any],
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int = 1001,
        permissions: int = MEMBER,
        app_permissions: int = BOT_OK,
    ) -> dict[str, Any]:
        """A member picks option `value` in the select menu `custom_id` of `message`."""
        data = {"custom_id": custom_id, "component_type": 3, "values": [value]}
        payload = self._interaction(
            3, data, guild_id, channel_id, user_id, permissions, app_permissions
        )
        payload["message"] = {**message, "channel_id": str(channel_id)}
        return payload

    def _interaction(
        self,
        kind: int,
        data: dict[str, Any],
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        permissions: int,
        app_permissions: int,
    ) -> dict[str, Any]:
        iid = str(self._snowflake())
        user = _user(user_id, f"user{user_id}")
        payload: dict[str, Any] = {
            "id": iid,
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "token": f"tok-{iid}",
            "version": 1,
            "locale": "en-US",
            "app_permissions": str(app_permissions),
            "attachment_size_limit": 10 * 1024 * 1024,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id or 0)},
            "channel_id": str(channel_id),
        }
        if guild_id is None:
            payload["context"] = 1
            payload["user"] = user
            payload["channel"] = {
                "id": str(channel_id),
                "type": 1,
                "recipients": [user],
                "last_message_id": None,
                "flags": 0,
            }
        else:
            payload["context"] = 0
            payload["guild_id"] = str(guild_id)
            payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["member"] = {
                "user": user,
                "roles": [],
                "joined_at": _now_iso(),
                "deaf": False,
                "mute": False,
                "flags": 0,
                "permissions": str(permissions),
            }
            payload["channel"] = {
                **_channel(channel_id, guild_id, "general"),
                "permissions": str(permissions),
            }
        return payload


def _user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def _channel(channel_id: int, guild_id: int, name: str) -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "guild_id": str(guild_id),
        "type": 0,
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "rate_limit_per_user": 0,
        "last_message_id": None,
        "flags": 0,
    }


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses JSON only when Content-Type is exactly application/json (no charset).
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"message": message, "code": code}, status=status)


def _rate_limited(failure: Failure) -> web.Response:
    headers = {"Retry-After": str(failure.retry_after), "X-RateLimit-Scope": "user"}
    if failure.via:
        headers["Via"] = "1.1 google"
    body = {
        "message": "You are being rate limited.",
        "retry_after": failure.retry_after,
        "global": False,
    }
    return _json(body, status=429, headers=headers)
