"""POST /slack/events under malformed input: 401 unsigned, 400 malformed, 413 too big, never 500.

Everything goes through the real bolt app under uvicorn on 127.0.0.1; bodies are signed with
the v0 HMAC over the raw bytes (slack_sdk's helper cannot sign a body that is not UTF-8).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from fakes.slack import FakeSlack
from slack_harness import SECRET, Served, command_body, serve

from paperbot.web import MAX_BODY_BYTES

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
OK_STATUSES = {200, 400, 401, 404, 413}


def signed(body: bytes, ts: str | None = None, *, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time())) if ts is None else ts
    base = b"v0:" + stamp.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


@pytest.fixture
async def served(make_settings: Any, slack: FakeSlack, now: datetime) -> AsyncIterator[Served]:
    settings = make_settings(
        seed_sample_data=True,
        slack={
            "signing_secret": SECRET,
            "bot_token": "xoxb-test-token",
            "api_base_url": slack.api_url,
        },
    )
    app = await serve(settings, now=now)
    yield app
    await app.close()


async def post(app: Served, body: bytes, headers: dict[str, str], ctype: str = FORM) -> int:
    # Header values as bytes: a hostile timestamp need not be ASCII.
    raw = {k: v.encode() for k, v in {"Content-Type": ctype, **headers}.items()}
    response = await app.http.post(f"{app.url}/slack/events", content=body, headers=raw)
    return response.status_code


def form(payload: Any) -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return urlencode({"payload": text}).encode()


def block_actions(slack: FakeSlack, actions: Any) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "UADMIN", "team_id": "T1"},
        "channel": {"id": "C1"},
        "actions": actions,
        "response_url": slack.response_url("fuzz"),
    }


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()[:200]}"
        for r in caplog.records
        if r.exc_info or r.levelno >= logging.ERROR or "Traceback" in r.getMessage()
    ]


async def test_unsigned_and_badly_signed_requests_get_401_before_anything_is_parsed(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    body = b"\xff\xfe not even utf-8"
    assert await post(served, body, {}) == 401
    assert await post(served, body, {"X-Slack-Request-Timestamp": "abc"}) == 401
    assert await post(served, body, signed(body, secret="wrong")) == 401
    assert await post(served, body, {**signed(body), "X-Slack-Request-Timestamp": "1"}) == 401
    assert await post(served, body, signed(body, ts=str(int(time.time()) - 3600))) == 401
    assert await post(served, body, {**signed(body, ts="abc"), "X-Slack-Signature": ""}) == 401
    assert no_tracebacks(caplog) == []


async def test_signed_but_malformed_requests_get_400(
    served: Served, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    cases: dict[str, tuple[bytes, str | None, str]] = {
        "non-numeric timestamp": (urlencode(command_body("help")).encode(), "abc", FORM),
        "unicode digits": (urlencode(command_body("help")).encode(), "١٧٠٠٠٠٠٠٠٠", FORM),
        "binary body": (b"\xff\xfe\x00garbage", None, FORM),
        "payload null": (form("null"), None, FORM),
        "payload not JSON": (form("{nope"), None, FORM),
        "payload a list": (form("[1, 2]"), None, FORM),
        "actions not a list": (form(block_actions(slack, "x")), None, FORM),
        "actions empty": (form(block_actions(slack, [])), None, FORM),
        "action not an object": (form(block_actions(slack, [1])), None, FORM),
        "action_id a number": (form(block_actions(slack, [{"action_id": 5}])), None, FORM),
        "team a number": (
            form({**block_actions(slack, [{"action_id": "a"}]), "team": 7}),
            None,
            FORM,
        ),
        "response_url junk": (
            form({**block_actions(slack, [{"action_id": "a"}]), "response_url": "file:///x"}),
            None,
            FORM,
        ),
        "JSON list": (b"[1, 2]", None, JSON),
        "JSON broken": (b'{"type": ', None, JSON),
        "event a string": (
            json.dumps({"type": "event_callback", "event": "x"}).encode(),
            None,
            JSON,
        ),
        "event type a list": (
            json.dumps({"type": "event_callback", "event": {"type": []}}).encode(),
            None,
            JSON,
        ),
        "authorizations junk": (
            json.dumps(
                {"type": "event_callback", "authorizations": 5, "event": {"type": "x"}}
            ).encode(),
            None,
            JSON,
        ),
        "team_id a list": (
            json.dumps(
                {"type": "event_callback", "team_id": ["T1"], "event": {"type": "x"}}
            ).encode(),
            None,
            JSON,
        ),
        "nested too deep": (b"[" * 100_000 + b"]" * 100_000, None, JSON),
    }
    got = {
        name: await post(served, body, signed(body, ts), ctype)
        for name, (body, ts, ctype) in cases.items()
    }
    assert got == dict.fromkeys(cases, 400)
    assert no_tracebacks(caplog) == []
    # The app still answers well-formed requests.
    good = urlencode(command_body("help")).encode()
    assert await post(served, good, signed(good)) == 200


async def raw_request(url: str, head: bytes, chunks: list[bytes]) -> bytes:
    """Send a request by hand (a declared length we do not send, or a chunked body)."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(head)
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
        return await asyncio.wait_for(reader.read(65536), 10)
    except ConnectionError:
        return await asyncio.wait_for(reader.read(65536), 10)
    finally:
        writer.close()


async def test_bodies_over_a_megabyte_get_413_before_they_are_read(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    big = 50 * 1024 * 1024
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}\r\n"
        f"Content-Length: {big}\r\nX-Slack-Request-Timestamp: 1\r\nX-Slack-Signature: v0=0\r\n\r\n"
    ).encode()
    started = time.monotonic()
    reply = await raw_request(served.url, head, [b"x" * 1024])  # 1 KB of the promised 50 MB
    assert reply.startswith(b"HTTP/1.1 413") and time.monotonic() - started < 10

    chunked = (
        f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    piece = b"a" * 65536
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * (MAX_BODY_BYTES // len(piece) + 2)
    reply = await raw_request(served.url, chunked, chunks)
    assert reply.startswith(b"HTTP/1.1 413")

    # /healthz and every other route share the limit; a body just under it is read.
    under = b"x" * (MAX_BODY_BYTES - 10)
    assert await post(served, under, signed(under)) == 404  # read, parsed, nothing handles it
    response = await served.http.post(f"{served.url}/healthz", content=b"y" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert no_tracebacks(caplog) == []


JUNK: list[Any] = [
    None,
    0,
    -1,
    1.5,
    True,
    "",
    "x",
    "\x00",
    "é" * 3000,
    [],
    [1],
    {},
    {"a": 1},
    [[[[]]]],
    "<!channel>",
    "\ud800",
]
TIMESTAMPS = ["", "abc", "-1", "1e3", "1 2", "0x10", "9" * 40, "١٢٣", "1.5"]
TYPES = [FORM, JSON, "text/plain", "multipart/form-data; boundary=x", ""]


def _mutate_json(rng: random.Random, value: Any, depth: int = 0) -> Any:
    if isinstance(value, dict) and value and depth < 4:
        out = dict(value)
        key = rng.choice(list(out))
        roll = rng.random()
        if roll < 0.5:
            out[key] = rng.choice(JUNK)
        elif roll < 0.7:
            del out[key]
        else:
            out[key] = _mutate_json(rng, out[key], depth + 1)
        return out
    if isinstance(value, list) and value and depth < 4:
        out_list = list(value)
        i = rng.randrange(len(out_list))
        out_list[i] = _mutate_json(rng, out_list[i], depth + 1)
        return out_list
    return rng.choice(JUNK)


def _raw(text: str) -> bytes:
    """UTF-8, keeping lone surrogates as the invalid bytes a hostile client would send."""
    return text.encode("utf-8", "surrogatepass")


def _body(rng: random.Random, slack: FakeSlack) -> tuple[bytes, str]:
    action = {
        "action_id": "paperbot_next",
        "value": json.dumps({"cmd": "search", "q": "x", "p": 2}),
    }
    seeds: list[tuple[str, Any]] = [
        ("payload", block_actions(slack, [action])),
        (
            "event",
            {
                "type": "event_callback",
                "team_id": "T1",
                "event_id": "Ev1",
                "event": {"type": "channel_archive", "channel": "C9"},
            },
        ),
        (
            "event",
            {
                "type": "event_callback",
                "team_id": "T1",
                "event_id": "Ev2",
                "event": {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}},
            },
        ),
        ("event", {"type": "url_verification", "challenge": "c", "token": "t"}),
        (
            "payload",
            {
                "type": "view_submission",
                "team": {"id": "T1"},
                "user": {"id": "U1"},
                "view": {"callback_id": "v", "state": {"values": {}}},
            },
        ),
        ("command", command_body("search diffusion")),
        ("command", command_body("subscribe robots", response_url=slack.response_url("c"))),
    ]
    kind, seed = rng.choice(seeds)
    mutated = _mutate_json(rng, seed)
    if kind == "payload":
        text = json.dumps(mutated, ensure_ascii=rng.random() < 0.5) if rng.random() < 0.8 else "{"
        body = urlencode({"payload": _raw(text)}).encode()
        ctype = FORM
    elif kind == "event":
        body, ctype = json.dumps(mutated).encode(), JSON
    else:
        items = mutated.items() if isinstance(mutated, dict) else [("x", "y")]
        fields = {k: _raw(v if isinstance(v, str) else json.dumps(v)) for k, v in items}
        body, ctype = urlencode(fields).encode(), FORM
    roll = rng.random()
    if roll < 0.15:  # flip a few bytes
        data = bytearray(body)
        for _ in range(rng.randint(1, 5)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        body = bytes(data)
    elif roll < 0.25:
        body = body[: rng.randrange(len(body) + 1)]
    if rng.random() < 0.15:
        ctype = rng.choice(TYPES)
    return body, ctype


async def test_fuzzed_requests_never_get_500_or_a_traceback(
    served: Served, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(20261127)
    statuses: dict[int, int] = {}
    for _ in range(300):
        body, ctype = _body(rng, slack)
        roll = rng.random()
        if roll < 0.7:
            headers = signed(body)
        elif roll < 0.85:
            headers = signed(body, ts=rng.choice(TIMESTAMPS))
        else:
            headers = {"X-Slack-Request-Timestamp": rng.choice(TIMESTAMPS)}
        status = await post(served, body, headers, ctype)
        statuses[status] = statuses.get(status, 0) + 1
    assert set(statuses) <= OK_STATUSES, statuses
    assert statuses.get(400, 0) > 50 and statuses.get(200, 0) > 10, statuses  # both sides hit
    await asyncio.sleep(0.5)  # listeners answering through response_url finish
    assert no_tracebacks(caplog) == []
