"""`paperbot digest --dry-run --json`: the digest a channel would get, as JSON, posting nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.cli_helpers import REPO, cli_env, paperbot

SAMPLE = REPO / "paperbot" / "data" / "sample_papers.jsonl"
ARGS = ["--platform", "console", "--workspace", "local", "--channel", "lab"]


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return cli_env(database_url, tmp_path, PAPERBOT_CONSOLE__TRANSCRIPT=str(tmp_path / "t.jsonl"))


def test_dry_run_json_lists_the_papers_with_why_and_topics(
    env: dict[str, str], tmp_path: Path
) -> None:
    paperbot("ingest", "--source", "file", str(SAMPLE), env=env, cwd=tmp_path)
    topics = ['"federated learning"', '"point cloud"', "diffusion"]
    added = paperbot(
        "channel", "add", *ARGS, "--zone", "UTC", "--size", "6",
        *[arg for t in topics for arg in ("--topic", t)], env=env, cwd=tmp_path,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    done = paperbot("digest", *ARGS, "--dry-run", "--json", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    digest = json.loads(done.stdout)
    assert set(digest) == {"channel", "slot", "papers", "notes"}
    assert digest["channel"] == "console:local/lab"
    assert digest["slot"] == datetime.now(UTC).date().isoformat()  # a daily channel runs today
    assert digest["notes"] == []
    papers = digest["papers"]
    assert len(papers) == 6
    for paper in papers:
        assert set(paper) == {"id", "title", "url", "score", "why", "topics"}
        assert paper["topics"] and set(paper["topics"]) <= set(topics)
        # The sample file has no dates: paperbot only knows it stored them today.
        assert "new today" not in paper["why"]
        assert paper["why"].startswith("added today · matches: ")
    # Each topic is represented, however many diffusion papers there are.
    assert {t for p in papers for t in p["topics"]} == set(topics)
    titles = [p["title"] for p in papers]
    assert any(t.startswith("FRAug") for t in titles)
    assert any("Point Cloud" in t for t in titles)
    assert not (tmp_path / "t.jsonl").exists()  # nothing was posted


def test_json_without_dry_run_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    paperbot("channel", "add", *ARGS, env=env, cwd=tmp_path)
    done = paperbot("digest", *ARGS, "--json", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "--dry-run" in done.stderr
    assert not (tmp_path / "t.jsonl").exists()
