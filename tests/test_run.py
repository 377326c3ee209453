"""`paperbot run` on the embedded default: seeded SQLite, console on stdin/stdout, /healthz."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.cli_helpers import cli_env, paperbot


def test_console_search_from_a_pipe_with_sources_unreachable(tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'paperbot.db'}", tmp_path)
    env.pop("PAPERBOT_INDEX_DIR")
    started = time.monotonic()
    done = paperbot(
        "run",
        env=env,
        cwd=tmp_path,
        stdin="/papers search diffusion\n/papers frobnicate\n/papers schedule 25:00\n",
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "diffusion" in done.stdout.lower()
    assert "Unknown command" in done.stdout
    assert "not a time" in done.stdout
    assert "Traceback" not in done.stderr
    assert (tmp_path / "paperbot.db").exists()
    assert (tmp_path / "paperbot.db.index").is_dir()
    assert elapsed < 30


def test_healthz_while_running(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = cli_env(f"sqlite:///{tmp_path / 'paperbot.db'}", tmp_path, PAPERBOT_HTTP__PORT=str(port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperbot", "run", "--no-console"],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    body = json.loads(r.read())
                    break
            except OSError:
                time.sleep(0.2)
        assert body is not None and body["status"] == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            assert b"paperbot" in r.read()
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
