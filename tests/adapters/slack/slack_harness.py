"""Serve the real Slack adapter over HTTP on 127.0.0.1 and send it Slack-signed requests."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from slack_sdk.signature import SignatureVerifier

from paperbot.adapters.slack.adapter import SlackAdapter
from paperbot.bootstrap import Core, bind, build_core
from paperbot.config import Settings
from paperbot.web import build_app

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
# Mention syntax a hostile query or title might carry: it must come back escaped.
HOSTILE = "<!channel> <!here> <@U123> <!subteam^S1> & more"


def sign(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def command_body(text: str, **kw: str) -> dict[str, str]:
    body = {
        "token": "legacy",
        "team_id": "T1",
        "team_domain": "test",
        "channel_id": "C1",
        "channel_name": "general",
        "user_id": "UADMIN",
        "user_name": "ada",
        "command": "/papers",
        "text": text,
        "api_app_id": "A1",
        "response_url": "",
        "trigger_id": "1.2.3",
    }
    body.update(kw)
    return body


@dataclass
class Served:
    core: Core
    adapter: SlackAdapter
    url: str
    http: httpx.AsyncClient
    server: uvicorn.Server
    task: asyncio.Task[Any]

    async def post(
        self, body: bytes, *, content_type: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        hdrs = {"Content-Type": content_type, **(sign(body) if headers is None else headers)}
        return await self.http.post(f"{self.url}/slack/events", content=body, headers=hdrs)

    async def command(self, text: str, **kw: str) -> httpx.Response:
        body = urlencode(command_body(text, **kw)).encode()
        return await self.post(body, content_type="application/x-www-form-urlencoded")

    async def interact(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(body, content_type="application/x-www-form-urlencoded")

    async def event(self, event: dict[str, Any], event_id: str, team: str = "T1") -> httpx.Response:
        envelope = {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
        return await self.post(json.dumps(envelope).encode(), content_type="application/json")

    async def close(self) -> None:
        await self.http.aclose()
        self.server.should_exit = True
        await asyncio.wait_for(self.task, 5)
        await self.adapter.stop()
        self.core.close()


async def serve(settings: Settings, *, now: Any) -> Served:
    core = await asyncio.to_thread(build_core, settings, now=now, seed=True)
    adapter = SlackAdapter(core.service, settings, core.engine)
    core.service.platforms["slack"] = adapter.platform
    app = build_app(adapter.routes())
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    http = httpx.AsyncClient(timeout=10, follow_redirects=False)
    return Served(core, adapter, f"http://127.0.0.1:{port}", http, server, task)


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.02)
