"""Run the real `paperbot` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

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
            "PAPERBOT_CONFIG": str(tmp_path / "absent.toml"),
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
