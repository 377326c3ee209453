"""Run the real `paperbot` command in a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def closed_port() -> int:
    """A loopback port nothing listens on (sources pointed here are 'unreachable')."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOT_")}
    dead = f"http://127.0.0.1:{closed_port()}"
    env.update(
        {
            "PAPERBOT_DATABASE_URL": database_url,
            "PAPERBOT_INDEX_DIR": str(tmp_path / "index"),
            "PAPERBOT_CONFIG": os.devnull,  # no config/paperbot.toml: defaults and env only
            "PAPERBOT_HF__BASE_URL": dead,
            "PAPERBOT_ARXIV__RSS_BASE_URL": dead,
            "PAPERBOT_ARXIV__API_BASE_URL": dead,
            "PAPERBOT_HTTP__PORT": str(closed_port()),
        }
    )
    env.update(extra)
    return env


def paperbot(
    *args: str, env: dict[str, str], cwd: Path, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paperbot", *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_bot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """`paperbot run ARGS` in the background, its output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "paperbot", "run", *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_healthy(port: int, proc: subprocess.Popen[str], timeout: float = 30.0) -> dict[str, Any]:
    """Poll GET /healthz until the bot answers; fail early if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                body: dict[str, Any] = json.loads(r.read())
                return body
        except OSError:
            time.sleep(0.1)
    raise AssertionError("paperbot did not come up")


def stop_bot(proc: subprocess.Popen[str]) -> str:
    """SIGTERM, as a service manager would; the bot must exit 0. Returns its stderr."""
    proc.terminate()
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return err


def add_due_channels(
    database_url: str, now: datetime, *, platform: str, names: list[str], papers: int = 6
) -> None:
    """Channels whose digest slot fired a minute before `now` (posted even when empty, so
    tests count posts), and `papers` fresh papers, written straight to the database."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from paperbot.core.models import Channel, Paper

    due = (now - timedelta(minutes=1)).strftime("%H:%M")
    workspace = {"slack": "T1", "console": "local"}.get(platform, "W1")
    engine = create_engine(database_url)
    with Session(engine) as session, session.begin():
        for i in range(papers):
            session.add(
                Paper(
                    key=f"2611.{i:05d}",
                    arxiv_id=f"2611.{i:05d}",
                    title=f"Paper under faults {i}",
                    abstract="Exactly-once delivery under failures.",
                    announced=now.date(),
                    first_seen_at=now - timedelta(hours=2),
                    updated_at=now - timedelta(hours=2),
                )
            )
        for name in names:
            session.add(
                Channel(
                    platform=platform,
                    workspace=workspace,
                    channel=name,
                    digest_time=due,
                    timezone="UTC",
                    days="daily",
                    size=3,
                    post_empty=True,
                    created_at=now - timedelta(hours=1),
                )
            )
    engine.dispose()
