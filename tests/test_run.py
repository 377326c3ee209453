"""`paperbot run` on the embedded default: seeded SQLite, console on stdin/stdout, /healthz."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

from tests.cli_helpers import (
    add_due_channels,
    cli_env,
    closed_port,
    paperbot,
    start_bot,
    stop_bot,
    wait_healthy,
)


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
    assert "no console chat" in err and "console chat on stdin" not in err


def test_readyz_and_an_index_folder_deleted_under_the_running_bot(tmp_path: Path) -> None:
    import json
    import shutil
    import urllib.error
    from datetime import UTC, datetime

    from paperbot.adapters.console.platform import read_transcript

    port = closed_port()
    db = tmp_path / "paperbot.db"
    transcript = tmp_path / "transcript.jsonl"
    env = cli_env(
        f"sqlite:///{db}",
        tmp_path,
        PAPERBOT_HTTP__PORT=str(port),
        PAPERBOT_DIGEST__TICK_SECONDS="0.5",
        PAPERBOT_CONSOLE__TRANSCRIPT=str(transcript),
    )
    env.pop("PAPERBOT_INDEX_DIR")

    def ready() -> tuple[int, dict[str, object]]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    proc = start_bot("--no-console", env=env, cwd=tmp_path)
    try:
        wait_healthy(port, proc)
        assert ready() == (200, {"status": "ready"})
        shutil.rmtree(tmp_path / "paperbot.db.index")
        # The next delivery tick notices and rebuilds it from the database.
        deadline = time.monotonic() + 20
        while ready()[0] != 200 or not (tmp_path / "paperbot.db.index" / "meta.json").exists():
            assert time.monotonic() < deadline, ready()
            time.sleep(0.2)
        # Delivery goes on: a channel due now gets its digest.
        names = ["after-repair"]
        add_due_channels(
            f"sqlite:///{db}", datetime.now(UTC), platform="console", names=names, papers=0
        )
        deadline = time.monotonic() + 20
        while not any(e["channel"].endswith("after-repair") for e in read_transcript(transcript)):
            assert time.monotonic() < deadline, "no digest after the index was rebuilt"
            time.sleep(0.2)
    finally:
        stderr = stop_bot(proc)  # exits 0, no traceback
    assert "rebuilding it from the database" in stderr
