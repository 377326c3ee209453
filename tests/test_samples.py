"""Sample data belongs to the console: honest first digest there, none in a Slack team's store.

Both through `paperbot run` as a user starts it (sources unreachable), and `db remove-samples`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.slack import FakeSlack
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from paperbot.core.models import Paper
from tests.cli_helpers import (
    REPO,
    cli_env,
    closed_port,
    paperbot,
    start_bot,
    stop_bot,
    wait_healthy,
)

HF_DAY = REPO / "paperbot" / "data" / "hf_daily_papers_2026-06-12.json"


def recorded_titles() -> set[str]:
    return {" ".join(item["paper"]["title"].split()) for item in json.loads(HF_DAY.read_text())}


def first_digest(stdout: str) -> list[str]:
    """The numbered papers of the digest the console shows at start (up to the first reply)."""
    digest = stdout.split("== ", 1)[1].split("Papers for", 1)[0]
    return re.split(r"\n\n(?=\d+\. )", digest.split("\n\n", 1)[1].strip())


def test_the_console_opens_on_the_recorded_hugging_face_day_with_links(tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'paperbot.db'}", tmp_path)
    done = paperbot("run", env=env, cwd=tmp_path, stdin="/papers search federated learning\n")
    assert done.returncode == 0, done.stderr
    cards = first_digest(done.stdout)
    assert len(cards) == 5
    titles = [card.splitlines()[0].split(". ", 1)[1] for card in cards]
    assert titles[0] in recorded_titles()  # the HF day comes first, with its signals
    assert "upvotes" in cards[0]
    for card in cards:
        assert re.search(r"^\s+https://arxiv\.org/\S+", card, re.M), card  # each shows its link
    assert "new today" not in done.stdout  # nothing bundled was announced today
    search = done.stdout.split("Papers for", 1)[1]
    assert "Federated" in search and "https://arxiv.org/search/?searchtype=title" in search
    assert "no console chat" not in done.stderr and "console chat on stdin" in done.stderr


def papers_in(url: str) -> int:
    engine = create_engine(url)
    with Session(engine) as session:
        count = session.scalar(select(func.count()).select_from(Paper)) or 0
    engine.dispose()
    return count


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_channel("C1")
        yield fake


def slack_bot_env(slack: FakeSlack, database_url: str, tmp: Path) -> tuple[int, dict[str, str]]:
    """A free HTTP port, and the environment of a bot serving Slack (the fake) on it."""
    port = closed_port()
    env = cli_env(
        database_url,
        tmp,
        PAPERBOT_HTTP__PORT=str(port),
        PAPERBOT_SLACK__SIGNING_SECRET="signing-secret",
        PAPERBOT_SLACK__BOT_TOKEN="xoxb-test-token",
        PAPERBOT_SLACK__API_BASE_URL=slack.api_url,
    )
    return port, env


def test_a_slack_store_gets_no_samples_unless_asked_and_can_drop_them(
    slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    port, env = slack_bot_env(slack, database_url, tmp_path)

    def run_once(**extra: str) -> str:
        proc = start_bot("--no-console", env={**env, **extra}, cwd=tmp_path)
        try:
            wait_healthy(port, proc)
        finally:
            err = stop_bot(proc)
        assert "xoxb-test-token" not in err
        return err

    quiet = run_once()  # default "auto": Slack is configured, so no samples
    assert papers_in(database_url) == 0 and "sample" not in quiet
    assert "slack; no console chat" in quiet  # --no-console does not claim a console

    seeded = run_once(PAPERBOT_SEED_SAMPLE_DATA="true")
    assert papers_in(database_url) == 269
    assert "PAPERBOT_SEED_SAMPLE_DATA=true put 269 sample papers beside Slack" in seeded
    assert "serves slack and holds 269 bundled sample papers" in seeded
    assert "db remove-samples" in seeded

    removed = paperbot("db", "remove-samples", env=env, cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.startswith("Removed 269 sample papers.")
    assert papers_in(database_url) == 0
    again = paperbot("db", "remove-samples", env=env, cwd=tmp_path)
    assert again.stdout.strip() == "Removed 0 sample papers."
    assert "sample" not in run_once()


def test_a_sigterm_while_the_adapters_start_stops_cleanly(
    slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    """/healthz answers before the Slack adapter has checked its token: a service manager's
    SIGTERM then must stop the bot with exit 0, not kill it (uvicorn re-raises the signal)."""
    port, env = slack_bot_env(slack, database_url, tmp_path)
    slack.inject("auth.test", delay=3.0)
    proc = start_bot("--no-console", env=env, cwd=tmp_path)
    try:
        wait_healthy(port, proc)
    finally:
        stop_bot(proc)
    assert len(slack.calls_to("auth.test")) == 1  # it was still starting when stopped
