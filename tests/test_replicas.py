"""Three `paperbot run` replicas on one PostgreSQL, one SIGKILLed: 200 digests, once each."""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from paperbot.adapters.console.platform import read_transcript
from paperbot.core.models import Delivery
from tests.cli_helpers import add_due_channels

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CHANNELS = 200
REPLICAS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Replica:
    def __init__(self, name: str, url: str, tmp: Path, transcript: Path) -> None:
        self.name, self.port = name, free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOT_")}
        env.update(
            PAPERBOT_CONFIG=os.devnull,
            PAPERBOT_DATABASE_URL=url,
            PAPERBOT_INDEX_DIR=str(tmp / f"index-{name}"),
            PAPERBOT_SEED_SAMPLE_DATA="false",
            PAPERBOT_CONSOLE__TRANSCRIPT=str(transcript),
            PAPERBOT_HF__ENABLED="false",
            PAPERBOT_ARXIV__ENABLED="false",
            PAPERBOT_HTTP__PORT=str(self.port),
            PAPERBOT_DIGEST__TICK_SECONDS="0.5",
            PAPERBOT_DIGEST__LEASE_SECONDS="10",
            PAPERBOT_LOG_LEVEL="INFO",
        )
        self.log = (tmp / f"{name}.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "paperbot", "run", "--no-console"],
            env=env,
            cwd=tmp,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def replicas(pg_url: str, tmp_path: Path) -> Iterator[list[Replica]]:
    started: list[Replica] = []
    yield started
    for replica in started:
        replica.stop()


def test_three_replicas_one_killed_deliver_each_digest_once(
    pg_url: str, tmp_path: Path, replicas: list[Replica]
) -> None:
    transcript = tmp_path / "transcript.jsonl"
    for i in range(REPLICAS):
        replicas.append(Replica(f"r{i}", pg_url, tmp_path, transcript))
    wait_for(lambda: all(r.healthy() for r in replicas), 40, "replicas to serve /healthz")

    names = [f"c{i:03d}" for i in range(CHANNELS)]
    add_due_channels(pg_url, datetime.now(UTC), platform="console", names=names)
    # Kill one replica in the middle of the fan-out, then start it again.
    wait_for(lambda: len(read_transcript(transcript)) >= 15, 30, "the first digests")
    os.kill(replicas[0].proc.pid, signal.SIGKILL)
    replicas[0].proc.wait()
    replicas.append(Replica("r0-restarted", pg_url, tmp_path, transcript))

    engine = create_engine(pg_url)

    def statuses() -> dict[str, int]:
        with Session(engine) as session:
            counts = session.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status)
            ).all()
        return {status: n for status, n in counts}

    try:
        # A digest the killed replica posted but did not record is reconciled (find_posted)
        # once its lease expires; one it had claimed but not posted is posted by another.
        wait_for(lambda: statuses() == {"sent": CHANNELS}, 45, "every delivery recorded as sent")
        time.sleep(1.5)  # a few more ticks: a duplicate would show up now
        final = statuses()
    finally:
        engine.dispose()

    posts = collections.Counter(e["channel"] for e in read_transcript(transcript))
    assert len(posts) == CHANNELS
    assert {channel: n for channel, n in posts.items() if n != 1} == {}
    assert final == {"sent": CHANNELS}
