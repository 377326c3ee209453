"""`paperbot run` on the embedded default: seeded SQLite, console on stdin/stdout, /healthz."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

from tests.cli_helpers import cli_env, closed_port, paperbot, start_bot, stop_bot, wait_healthy


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


def test_healthz_and_metrics_while_running(tmp_path: Path) -> None:
    port = closed_port()
    env = cli_env(f"sqlite:///{tmp_path / 'paperbot.db'}", tmp_path, PAPERBOT_HTTP__PORT=str(port))
    proc = start_bot("--no-console", env=env, cwd=tmp_path)
    try:
        assert wait_healthy(port, proc)["status"] == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            metrics = r.read().decode()
        assert "paperbot_digests_sent" in metrics
        assert "paperbot_command_latency_seconds" in metrics
    finally:
        err = stop_bot(proc)
    assert "paperbot running: no chat (console off)" in err and "running: console" not in err
