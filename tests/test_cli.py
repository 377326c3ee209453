"""The `paperbot` command end to end, in a subprocess, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import REPO, cli_env, paperbot

SAMPLE = REPO / "paperbot" / "data" / "sample_papers.jsonl"


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return cli_env(database_url, tmp_path)


def test_ingest_file_then_search(env: dict[str, str], tmp_path: Path) -> None:
    done = paperbot("ingest", "--source", "file", str(SAMPLE), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "239" in done.stdout

    found = paperbot("search", "federated learning", "--limit", "10", env=env, cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    lines = found.stdout.strip().splitlines()
    assert 1 <= len(lines) <= 10
    assert "Federated" in lines[0]

    as_json = paperbot("search", "federated learning", "--json", env=env, cwd=tmp_path)
    results = json.loads(as_json.stdout)
    assert {"id", "title", "url", "score"} <= set(results[0])

    again = paperbot("ingest", "--source", "file", str(SAMPLE), env=env, cwd=tmp_path)
    assert again.returncode == 0 and "0 new" in again.stdout


def test_a_first_search_on_an_empty_store_says_where_papers_come_from(
    env: dict[str, str], tmp_path: Path
) -> None:
    for args in (["search", "diffusion"], ["trending"]):
        done = paperbot(*args, env=env, cwd=tmp_path)
        assert done.returncode == 0 and done.stdout == ""
        assert "holds no papers yet" in done.stderr and "paperbot run" in done.stderr
    paperbot("ingest", "--source", "file", str(SAMPLE), env=env, cwd=tmp_path)
    done = paperbot("search", "zzzqqq", env=env, cwd=tmp_path)
    assert done.returncode == 0 and done.stderr.strip() == "No papers found for 'zzzqqq'."


def test_index_status_embed_and_semantic_search(env: dict[str, str], tmp_path: Path) -> None:
    assert (
        paperbot("ingest", "--source", "file", str(SAMPLE), env=env, cwd=tmp_path).returncode == 0
    )
    before = paperbot("index", "status", env=env, cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    assert "semantic search: bundled model" in before.stdout
    assert "embedded: 0 of 239 papers (0%)" in before.stdout
    embed = paperbot("index", "embed", env=env, cwd=tmp_path)  # shipped vectors: no model run
    assert embed.returncode == 0 and "all papers have vectors" in embed.stdout, embed.stderr
    after = paperbot("index", "status", env=env, cwd=tmp_path).stdout
    assert "embedded: 239 of 239 papers (100%)" in after and "vector index: 239 papers" in after
    found = paperbot(
        "search",
        "putting broken pieces of an object back together",
        "--limit",
        "1",
        env=env,
        cwd=tmp_path,
    )
    assert "Shape Assembly" in found.stdout, found.stderr


@pytest.mark.parametrize(
    "query",
    ["", "x" * 10_000, "   "],
)
def test_search_bad_input_exits_2_with_one_line(
    env: dict[str, str], tmp_path: Path, query: str
) -> None:
    done = paperbot("search", query, env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == ""


def test_search_hostile_text_is_answered(env: dict[str, str], tmp_path: Path) -> None:
    paperbot("ingest", "--source", "file", str(SAMPLE), env=env, cwd=tmp_path)
    for query in ['AND( "unbalanced', "it's a (test) * -", "author: cat: since:", "😀 \x01"]:
        done = paperbot("search", query, env=env, cwd=tmp_path)
        assert done.returncode == 0, (query, done.stderr)
        assert "Traceback" not in done.stderr


def test_bad_file_is_a_one_line_error(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "ok", "abstract": "fine"}\n{"title": "no abstract"}\n')
    done = paperbot("ingest", "--source", "file", str(bad), env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "bad.jsonl" in done.stderr and "2" in done.stderr
    missing = paperbot("ingest", "--source", "file", "nope.jsonl", env=env, cwd=tmp_path)
    assert missing.returncode == 2


def test_unreachable_source_fails_softly(env: dict[str, str], tmp_path: Path) -> None:
    env = {**env, "PAPERBOT_SOURCE_HTTP__MAX_ATTEMPTS": "1"}
    done = paperbot("ingest", "--source", "hf", "--date", "2026-06-12", env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr


def test_channels(env: dict[str, str], tmp_path: Path) -> None:
    args = ["--platform", "slack", "--workspace", "T1", "--channel", "C1"]
    added = paperbot(
        "channel", "add", *args, "--time", "08:30", "--zone", "Europe/Berlin",
        "--days", "weekdays", "--topic", "diffusion models", env=env, cwd=tmp_path,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = json.loads(paperbot("channel", "list", "--json", env=env, cwd=tmp_path).stdout)
    assert listed == [
        {
            "platform": "slack",
            "workspace": "T1",
            "channel": "C1",
            "time": "08:30",
            "zone": "Europe/Berlin",
            "days": "weekdays",
            "size": 5,
            "topics": ["diffusion models"],
            "paused": False,
            "pause_reason": None,
            "pause_kind": None,
        }
    ]
    bad = paperbot("channel", "add", *args, "--zone", "Mars/Base", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "time zone" in bad.stderr
    bad_time = paperbot("channel", "add", *args, "--time", "29:99", env=env, cwd=tmp_path)
    assert bad_time.returncode == 2
    unchanged = json.loads(paperbot("channel", "list", "--json", env=env, cwd=tmp_path).stdout)
    assert unchanged == listed
    removed = paperbot("channel", "remove", *args, env=env, cwd=tmp_path)
    assert removed.returncode == 0
    gone = paperbot("channel", "remove", *args, env=env, cwd=tmp_path)
    assert gone.returncode == 2


def test_digest_dry_run_and_deliver_once(env: dict[str, str], tmp_path: Path) -> None:
    transcript = tmp_path / "transcript.jsonl"
    env = {**env, "PAPERBOT_CONSOLE__TRANSCRIPT": str(transcript)}
    paperbot("ingest", "--source", "file", str(SAMPLE), env=env, cwd=tmp_path)
    args = ["--platform", "console", "--workspace", "local", "--channel", "lab"]
    paperbot(
        "channel", "add", *args, "--time", "09:00", "--zone", "Europe/Berlin",
        "--topic", "federated learning", env=env, cwd=tmp_path,
    )  # fmt: skip
    dry = paperbot("digest", *args, "--dry-run", env=env, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "Federated" in dry.stdout
    assert not transcript.exists()

    first = paperbot("deliver", "--now", "2026-11-27T09:01:00+01:00", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    posted = transcript.read_text().splitlines()
    assert posted
    second = paperbot("deliver", "--now", "2026-11-27T09:02:00+01:00", env=env, cwd=tmp_path)
    assert second.returncode == 0
    assert transcript.read_text().splitlines() == posted
    bad = paperbot("deliver", "--now", "tomorrow", env=env, cwd=tmp_path)
    assert bad.returncode == 2


def test_concurrent_deliver_processes_post_each_digest_once(
    env: dict[str, str], tmp_path: Path, session_factory: Any
) -> None:
    from paperbot.adapters.console.platform import read_transcript
    from paperbot.config import DigestSettings
    from paperbot.core.channels import store as channels
    from paperbot.core.messages import ChannelRef

    transcript = tmp_path / "transcript.jsonl"
    env = {
        **env,
        "PAPERBOT_CONSOLE__TRANSCRIPT": str(transcript),
        "PAPERBOT_DIGEST__GRACE_HOURS": "8",
    }
    paperbot("ingest", "--source", "file", str(SAMPLE), env=env, cwd=tmp_path)
    created = datetime(2026, 11, 20, tzinfo=UTC)
    names = [f"lab{i}" for i in range(30)]
    with session_factory.begin() as session:
        for i, name in enumerate(names):
            row = channels.get_or_create(
                session, ChannelRef("console", "local", name), DigestSettings(), now=created
            )
            zone = ("Europe/Berlin", "America/New_York", "Asia/Tokyo")[i % 3]
            channels.set_schedule(row, channels.ScheduleSpec("08:00", zone, "daily"))
    # 2026-11-27 14:00 UTC: past 08:00 in Berlin (07:00 UTC) and New York (13:00 UTC), within
    # the 8 h grace; Tokyo's 08:00 (23:00 UTC the day before) is past it.
    now = "2026-11-27T14:00:00+00:00"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "paperbot", "deliver", "--now", now],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    posted = [line["channel"] for line in read_transcript(transcript) if line["part"] == 0]
    due = [name for i, name in enumerate(names) if i % 3 != 2]
    assert sorted(posted) == sorted(f"console:local/{n}" for n in due)


def test_deliver_names_troubled_channels_and_still_exits_0(
    env: dict[str, str], tmp_path: Path, session_factory: Any
) -> None:
    from sqlalchemy import update

    from paperbot.core.models import Channel

    env = {**env, "PAPERBOT_CONSOLE__TRANSCRIPT": str(tmp_path / "transcript.jsonl")}
    paperbot("ingest", "--source", "file", str(SAMPLE), env=env, cwd=tmp_path)
    for name in ("good", "bad"):
        args = ["--platform", "console", "--workspace", "local", "--channel", name]
        added = paperbot("channel", "add", *args, "--time", "09:00", env=env, cwd=tmp_path)
        assert added.returncode == 0, added.stderr
    with session_factory.begin() as session:  # a zone tzdata no longer has
        session.execute(
            update(Channel).where(Channel.channel == "bad").values(timezone="Europe/Atlantis")
        )
    done = paperbot("deliver", "--now", "2099-11-27T09:01:00+00:00", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "sent 1" in done.stdout
    lines = [line for line in done.stderr.splitlines() if line.startswith("console:")]
    assert lines == ["console:local/bad: unknown time zone 'Europe/Atlantis': run /papers schedule"]
    listed = paperbot("channel", "list", env=env, cwd=tmp_path)
    assert "[paused: unknown time zone 'Europe/Atlantis'" in listed.stdout


@pytest.mark.parametrize("when", ["1999-12-31T23:00:00+00:00", "2100-01-01T09:00:00+00:00"])
def test_deliver_refuses_an_instant_outside_the_sane_years(
    env: dict[str, str], tmp_path: Path, when: str
) -> None:
    done = paperbot("deliver", "--now", when, env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("paperbot: --now must be between 2000 and 2100")


def test_deliver_exits_1_when_the_pass_cannot_run(tmp_path: Path) -> None:
    env = cli_env("postgresql+psycopg://postgres@127.0.0.1:9/unreachable", tmp_path)
    done = paperbot("deliver", env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
