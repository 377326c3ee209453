"""The console chat answers anything typed at it, and never with a traceback."""

from __future__ import annotations

import asyncio
import io
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from paperbot.adapters.console import repl
from paperbot.bootstrap import Core, build_core
from tests.cli_helpers import cli_env


@pytest.fixture
def core(make_settings: Any, now: datetime) -> Iterator[Core]:
    c = build_core(make_settings(seed_sample_data=True), now=now, seed=True)
    yield c
    c.close()


def test_commands_are_answered(core: Core, now: datetime) -> None:
    found = repl.answer(core.service, "/papers search federated learning", now=now)
    assert found is not None and "Federated" in found
    assert repl.answer(core.service, "   ", now=now) is None
    assert "start with /papers" in (repl.answer(core.service, "/frobnicate", now=now) or "")
    changed = repl.answer(core.service, "/papers subscribe graph neural networks", now=now)
    assert changed is not None and "Subscribed" in changed
    listed = repl.answer(core.service, "papers list", now=now)
    assert listed is not None and "graph neural networks" in listed
    assert "Your paper digest" in repl.preview_digest(core.service, now=now)


def test_papers_are_liked_and_disliked_by_their_key(core: Core, now: datetime) -> None:
    repl.preview_digest(core.service, now=now)  # the console channel exists once it starts
    found = repl.answer(core.service, "/papers search MiniMax Sparse Attention", now=now) or ""
    key = found.split("https://arxiv.org/abs/", 1)[1].split()[0]  # an arXiv id is its key
    liked = repl.answer(core.service, f"/papers like {key}", now=now) or ""
    assert liked.startswith("👍 noted")
    assert "withdrawn" in (repl.answer(core.service, f"/papers like {key}", now=now) or "")
    assert "👎" in (repl.answer(core.service, f"dislike {key}", now=now) or "")
    assert "know" in (repl.answer(core.service, "/papers like no-such-paper", now=now) or "")


def test_thousands_of_messy_lines_never_fail(
    core: Core, now: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(11)
    words = [
        "/papers", "search", "subscribe", "unsubscribe", "schedule", "size", "list", "help",
        "more-like-this", "trending", "pause", "resume", "diffusion", "LLM", "author:", "cat:",
        "since:", "since:7d", "since:2026-99-99", '"', "'", "-", "(", ")", "AND(", "OR", "*", ":",
        "😀", "\x00", "\x1b[31m", "<!channel>", "@everyone", "25:99", "Mars/Base", "9am",
        "Europe/Berlin", "weekdays", "mon,fri", "0", "21", "x" * 600,
    ]  # fmt: skip
    for _ in range(2000):
        line = " ".join(rng.choice(words) for _ in range(rng.randint(0, 8)))
        if rng.random() < 0.7:
            line = "/papers " + line
        reply = repl.answer(core.service, line, now=now)
        assert reply is None or isinstance(reply, str)
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_run_reads_until_eof(core: Core) -> None:
    out = io.StringIO()
    asyncio.run(repl.run(core.service, io.StringIO("/papers help\n\n/papers list\n"), out))
    text = out.getvalue()
    assert "paperbot commands" in text
    assert "Topics" in text


def test_lines_that_are_not_utf8_are_answered(core: Core) -> None:
    raw = b"/papers search \xff\xfe diffusion\n/papers subscribe caf\xe9\n/papers list\n"
    stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="strict")
    out = io.StringIO()
    asyncio.run(repl.run(core.service, stdin, out))
    text = out.getvalue()
    assert text.count(repl.NOT_UTF8) == 2
    assert "Topics: none" in text  # the line after them is answered as usual
    assert "caf" not in text


def test_the_console_answers_non_utf8_stdin_without_a_traceback(
    sqlite_url: str, tmp_path: Path
) -> None:
    env = cli_env(sqlite_url, tmp_path, PAPERBOT_SEED_SAMPLE_DATA="true",
                  PAPERBOT_HF__ENABLED="false", PAPERBOT_ARXIV__ENABLED="false")  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "paperbot", "run", "--console"],
        input=b"/papers search \xff\xfe\n/papers help\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, err
    assert repl.NOT_UTF8 in out and "paperbot commands" in out
    assert "Traceback" not in err and "UnicodeDecodeError" not in err
