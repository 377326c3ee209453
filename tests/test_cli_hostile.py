"""The real `paperbot` command on hostile files and stored hostile text (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.models import Channel, Subscription
from tests.cli_helpers import REPO, cli_env, paperbot
from tests.core.paper_rows import NOW, add_paper

# What must never reach a terminal from third-party text.
UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
GOOD = {"title": "A fine paper on diffusion", "abstract": "We propose diffusion things."}


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return cli_env(database_url, tmp_path)


def jsonl(tmp_path: Path, lines: list[str | dict[str, Any]], name: str = "in.jsonl") -> Path:
    path = tmp_path / name
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def test_a_nul_is_refused_with_its_line_and_no_sql(env: dict[str, str], tmp_path: Path) -> None:
    path = jsonl(tmp_path, [GOOD, '{"title": "bad\\u0000title", "abstract": "' + "x" * 5000 + '"}'])
    done = paperbot("ingest", "--source", "file", str(path), env=env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "in.jsonl, line 2: 'title' contains a NUL character" in done.stderr
    assert "--skip-invalid" in done.stderr
    assert (
        "INSERT" not in done.stderr
        and "xxxxx" not in done.stderr
        and "Traceback" not in done.stderr
    )
    found = paperbot("search", "diffusion", env=env, cwd=tmp_path)
    assert found.stdout == ""  # nothing was ingested


def test_many_bad_lines_are_listed_up_to_twenty(env: dict[str, str], tmp_path: Path) -> None:
    lines: list[str | dict[str, Any]] = [GOOD, *(["{not json"] * 30)]
    done = paperbot(
        "ingest", "--source", "file", str(jsonl(tmp_path, lines)), env=env, cwd=tmp_path
    )
    assert done.returncode == 2
    err = done.stderr.splitlines()
    assert err[0] == "paperbot: in.jsonl: 30 bad lines:"
    assert err[1] == "  line 2: invalid JSON (Expecting property name enclosed in double quotes)"
    assert "  and 10 more" in err and len([e for e in err if e.startswith("  line ")]) == 20


def test_skip_invalid_ingests_the_good_lines(env: dict[str, str], tmp_path: Path) -> None:
    lines: list[str | dict[str, Any]] = [GOOD, "[1]", {**GOOD, "title": "Second paper"}]
    path = jsonl(tmp_path, lines)
    done = paperbot(
        "ingest", "--source", "file", str(path), "--skip-invalid", env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "Ingested 2 papers" in done.stdout and "(2 new, 0 updated)" in done.stdout
    assert f"skipped 1 bad line of {path}:" in done.stderr
    assert "line 2: each line must be a JSON object" in done.stderr


def test_stored_hostile_text_prints_as_plain_text(
    env: dict[str, str], tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    # Rows stored before ingest cleaned text (or by hand): every output path cleans again.
    evil = "Diffusion \x1b[2J\x1b]0;pwned\x07evil\u202eexe\x9b31m"
    add_paper(session_factory, evil, "diffusion \x1b[31mabstract", authors=["Mal\x1b[5mlory"],
              announced=NOW.date(), upvotes=5)  # fmt: skip
    with session_factory.begin() as s:
        channel = Channel(
            platform="console", workspace="local", channel="lab\u202e", created_at=NOW
        )
        s.add(channel)
        s.flush()
        s.add(Subscription(channel_id=channel.id, topic="topic\x1b[31m", created_at=NOW))
    assert paperbot("index", "rebuild", env=env, cwd=tmp_path).returncode == 0
    outputs = {
        "search": paperbot("search", "diffusion", env=env, cwd=tmp_path),
        "search --json": paperbot("search", "diffusion", "--json", env=env, cwd=tmp_path),
        "trending": paperbot("trending", env=env, cwd=tmp_path),
        "trending --json": paperbot("trending", "--json", env=env, cwd=tmp_path),
        "channel list": paperbot("channel", "list", env=env, cwd=tmp_path),
        "channel list --json": paperbot("channel", "list", "--json", env=env, cwd=tmp_path),
    }
    for name, done in outputs.items():
        assert done.returncode == 0, (name, done.stderr)
        assert not UNPRINTABLE.findall(done.stdout.replace("\n", "")), name
    assert "Diffusion evilexe" in outputs["search"].stdout
    assert json.loads(outputs["search --json"].stdout)[0]["authors"] == ["Mallory"]
    assert "topic" in outputs["channel list"].stdout


def test_channel_add_takes_any_iana_zone(env: dict[str, str], tmp_path: Path) -> None:
    base = ["channel", "add", "--platform", "console", "--workspace", "local", "--channel", "lab"]
    for zone, stored in [("CET", "CET"), ("est", "EST"), ("etc/gmt+5", "Etc/GMT+5")]:
        done = paperbot(*base, "--zone", zone, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert f" {stored} " in done.stdout
    bad = paperbot(*base, "--zone", "Mars/Olympus", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "not a time zone" in bad.stderr


def big_file(tmp_path: Path, n: int = 6000) -> Path:
    rows = [{"title": f"Paper {i} on topic {i % 7}", "abstract": "We study things. " * 10,
             "arxiv_id": f"2601.{i:05d}"} for i in range(n)]  # fmt: skip
    return jsonl(tmp_path, [*rows], name="big.jsonl")


def run_in_pty(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run paperbot with stderr on a pseudo-terminal (a user's terminal); (rc, stdout, tty)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperbot", *args],
        env={**env, "TERM": "xterm-256color", "COLUMNS": "120"},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=slave,
        stdin=subprocess.DEVNULL,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    out = proc.stdout.read().decode() if proc.stdout else ""
    proc.wait(timeout=30)
    os.close(master)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


def test_long_work_shows_a_bar_on_a_terminal(sqlite_url: str, tmp_path: Path) -> None:
    env = cli_env(sqlite_url, tmp_path)
    path = big_file(tmp_path)
    rc, out, tty = run_in_pty(["ingest", "--source", "file", str(path)], env, tmp_path)
    assert rc == 0 and "Ingested 6000 papers" in out
    assert "ingesting" in tty and "6,000/6,000 papers" in tty and "━" in tty
    assert "checking big.jsonl" in tty and "indexing" in tty
    rc, out, tty = run_in_pty(["index", "rebuild"], env, tmp_path)
    assert rc == 0 and "Indexed 6000 papers" in out
    assert "indexing" in tty and "6,000/6,000 papers" in tty


def test_long_work_prints_no_bar_into_a_pipe(sqlite_url: str, tmp_path: Path) -> None:
    env = cli_env(sqlite_url, tmp_path)
    done = paperbot("ingest", "--source", "file", str(big_file(tmp_path)), env=env, cwd=tmp_path)
    assert done.returncode == 0 and "Ingested 6000 papers" in done.stdout
    assert "\x1b" not in done.stderr and "━" not in done.stderr
    rebuilt = paperbot("index", "rebuild", env=env, cwd=tmp_path)
    assert rebuilt.returncode == 0 and "\x1b" not in rebuilt.stderr


def test_sample_file_still_ingests_whole(sqlite_url: str, tmp_path: Path) -> None:
    env = cli_env(sqlite_url, tmp_path)
    sample = REPO / "paperbot" / "data" / "sample_papers.jsonl"
    done = paperbot("ingest", "--source", "file", str(sample), env=env, cwd=tmp_path)
    assert done.returncode == 0 and "Ingested 239 papers" in done.stdout and done.stderr == ""
