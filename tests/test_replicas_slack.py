"""Real `paperbot` processes posting to a slow loopback Slack: a `deliver --now` 130 s ahead
beside a running bot, and replicas SIGKILLed while they send. Each channel's digest is
counted at the fake: exactly one, every part once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakes.slack import FakeSlack
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from paperbot.core.models import Delivery
from tests.cli_helpers import add_due_channels, cli_env, closed_port
from tests.test_replicas import wait_for

pytestmark = pytest.mark.slow
TOKEN = "xoxb-test-token"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        # Slow answers: a post takes a while, so processes overlap in the middle of sends.
        fake.inject("chat.postMessage", delay=0.4, times=100_000)
        yield fake


def slack_env(url: str, tmp: Path, slack: FakeSlack, name: str) -> dict[str, str]:
    return cli_env(
        url,
        tmp,
        PAPERBOT_INDEX_DIR=str(tmp / f"index-{name}"),
        PAPERBOT_SEED_SAMPLE_DATA="false",
        PAPERBOT_HF__ENABLED="false",
        PAPERBOT_ARXIV__ENABLED="false",
        PAPERBOT_SLACK__BOT_TOKEN=TOKEN,
        PAPERBOT_SLACK__SIGNING_SECRET="8f742231b10e8888abcd99yyyzzz85a5",
        PAPERBOT_SLACK__API_BASE_URL=slack.api_url,
        PAPERBOT_SLACK__HISTORY_INTERVAL_SECONDS="1",
        PAPERBOT_HTTP__PORT=str(closed_port()),
        PAPERBOT_DIGEST__TICK_SECONDS="0.5",
        PAPERBOT_DIGEST__LEASE_SECONDS="10",
        PAPERBOT_DIGEST__RECONCILE_RETRY_SECONDS="1",
        PAPERBOT_LOG_LEVEL="INFO",
    )


def start(env: dict[str, str], tmp: Path, name: str) -> subprocess.Popen[bytes]:
    log = (tmp / f"{name}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "paperbot", "run", "--no-console"],
        env=env,
        cwd=tmp,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def add_due(url: str, slack: FakeSlack, n: int, now: datetime) -> list[str]:
    names = [f"C{i:03d}" for i in range(n)]
    for name in names:
        slack.add_channel(name)
    add_due_channels(url, now, platform="slack", names=names, papers=8)
    return names


def sent(url: str) -> int:
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.status == "sent")
                )
                or 0
            )
    finally:
        engine.dispose()


def assert_once_each(slack: FakeSlack, names: list[str]) -> None:
    counts = {name: slack.digests_in(name) for name in names}
    assert {n: c for n, c in counts.items() if c != 1} == {}
    for name in names:
        parts = slack.parts_in(name)
        assert len(parts) == len(set(parts)), (name, parts)


def test_a_deliver_130_s_ahead_beside_a_running_bot_doubles_nothing(
    database_url: str, tmp_path: Path, slack: FakeSlack
) -> None:
    bot = start(slack_env(database_url, tmp_path, slack, "bot"), tmp_path, "bot")
    try:
        names = add_due(database_url, slack, 12, datetime.now(UTC))
        wait_for(lambda: len(slack.calls_to("chat.postMessage")) >= 2, 60, "the bot to post")
        ahead = (datetime.now(UTC) + timedelta(seconds=130)).isoformat()
        env = slack_env(database_url, tmp_path, slack, "ahead")
        done = subprocess.run(
            [sys.executable, "-m", "paperbot", "deliver", "--now", ahead],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        wait_for(lambda: sent(database_url) == len(names), 60, "every digest recorded")
        time.sleep(1.5)  # a few more ticks: a duplicate would show up now
    finally:
        stop(bot)
    assert_once_each(slack, names)


@pytest.mark.postgres
def test_replicas_killed_while_sending_post_each_digest_once(
    pg_url: str, tmp_path: Path, slack: FakeSlack
) -> None:
    replicas = [
        start(slack_env(pg_url, tmp_path, slack, f"r{i}"), tmp_path, f"r{i}") for i in range(3)
    ]
    try:
        names = add_due(pg_url, slack, 40, datetime.now(UTC))
        # SIGKILL two replicas mid-send (each has a slow post in flight), then restart one.
        wait_for(lambda: len(slack.calls_to("chat.postMessage")) >= 6, 60, "the first posts")
        for proc in replicas[:2]:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        replicas.append(start(slack_env(pg_url, tmp_path, slack, "r0b"), tmp_path, "r0b"))
        wait_for(lambda: sent(pg_url) == len(names), 90, "every digest recorded")
        time.sleep(1.5)
    finally:
        for proc in replicas:
            stop(proc)
    assert_once_each(slack, names)
