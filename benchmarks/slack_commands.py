"""Slack HTTP mode under load: signed `/papers search` from concurrent clients over a large store.

Serves the real Slack adapter (bolt AsyncApp on the core's Starlette app under uvicorn) in a
child process over the synthetic store of benchmarks/search.py (benchmarks/.cache/run-N, built
with `python benchmarks/search.py --papers N`), against the loopback fake Slack of the tests.
Clients send Slack-signed slash commands; the ack latency is the HTTP response time, the answer
latency is the ack when it carries the answer, else the arrival of the response_url POST.

    python benchmarks/slack_commands.py --papers 1000000 --clients 20 --requests 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tests"), str(HERE)]

from fakes.slack import FakeSlack  # noqa: E402
from search import CACHE, queries  # noqa: E402
from stats import latency_ms  # noqa: E402

SECRET = "benchmark-signing-secret"
TOKEN = "xoxb-test-token"


def serve(settings_json: str, port: int) -> None:
    """Child process: what `paperbot run` serves in HTTP mode, without scheduler or console."""
    from datetime import UTC, datetime

    import uvicorn

    from paperbot.adapters.slack.adapter import SlackAdapter
    from paperbot.bootstrap import build_core
    from paperbot.config import Settings
    from paperbot.web import build_app

    settings = Settings(_env_file=None, **json.loads(settings_json))  # type: ignore[call-arg]
    core = build_core(settings, now=datetime.now(UTC))
    adapter = SlackAdapter(core.service, settings, core.engine)
    core.service.platforms["slack"] = adapter.platform
    uvicorn.run(build_app(adapter.routes()), host="127.0.0.1", port=port, log_level="warning")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def load(url: str, slack: FakeSlack, texts: list[str], clients: int) -> dict[str, Any]:
    verifier = SignatureVerifier(SECRET)
    acks: list[float] = []
    answers: list[float] = []
    late: dict[str, float] = {}
    errors = 0
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for item in enumerate(texts):
        queue.put_nowait(item)

    # Bodies and signatures are made before the clock starts, so the load generator (which
    # shares the cores with the server) spends its time sending; Slack accepts a timestamp for
    # five minutes, longer than a run.
    ts = str(int(time.time()))
    prepared: dict[int, tuple[bytes, dict[str, str]]] = {}
    for i, text in enumerate(texts):
        form = {
            "team_id": "T1",
            "channel_id": "C1",
            "channel_name": "general",
            "user_id": f"U{i % 50}",
            "command": "/papers",
            "text": f"search {text}",
            "response_url": slack.response_url(f"q{i}"),
            "trigger_id": str(i),
        }
        body = urlencode(form).encode()
        prepared[i] = (
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body),
            },
        )

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            i, _ = queue.get_nowait()
            body, headers = prepared[i]
            start = time.perf_counter()
            response = await http.post(url, content=body, headers=headers)
            ack = time.perf_counter() - start
            if response.status_code != 200:
                errors += 1
                continue
            acks.append(ack)
            if response.content:
                answers.append(ack)
            else:
                late[f"q{i}"] = time.monotonic() - ack

    started = time.perf_counter()
    # One keep-alive connection per client.
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
        deadline = time.monotonic() + 30
        while len(slack.calls_to("response_url")) < len(late) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    for call in slack.calls_to("response_url"):
        sent = late.get(call.path.rsplit("/", 1)[1])
        if sent is not None:
            answers.append(call.at - sent)
    return {
        "requests": len(texts),
        "clients": clients,
        "errors": errors,
        "requests_per_s": round(len(texts) / elapsed, 1),
        "ack": latency_ms(acks, digits=1),
        "answer": latency_ms(answers, digits=1),
        "answered_via_response_url": len(late),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args(argv)
    work = CACHE / f"run-{args.papers}"
    db_path = work / "paperbot.db"
    if not db_path.exists():
        print(f"no store at {work}: run python benchmarks/search.py --papers {args.papers}")
        return 1
    with FakeSlack() as slack:
        slack.add_channel("C1")
        settings = {
            "database_url": f"sqlite:///{db_path}",
            "index_dir": str(work / "paperbot.db.index"),
            "seed_sample_data": False,
            "log_level": "WARNING",
            "slack": {"signing_secret": SECRET, "bot_token": TOKEN, "api_base_url": slack.api_url},
        }
        port = free_port()
        os.environ["PAPERBOT_CONFIG"] = os.devnull
        child = multiprocessing.get_context("spawn").Process(
            target=serve, args=(json.dumps(settings), port), daemon=True
        )
        child.start()
        url = f"http://127.0.0.1:{port}/slack/events"
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            texts = queries(args.requests + 40)
            asyncio.run(load(url, slack, texts[:40], args.clients))  # warm up caches
            slack.calls.clear()
            report = {
                "papers": args.papers,
                **asyncio.run(load(url, slack, texts[40:], args.clients)),
            }
        finally:
            child.terminate()
            child.join(10)
    print(json.dumps(report, indent=2))
    (CACHE / f"slack-results-{args.papers}.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
