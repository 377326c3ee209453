"""Read-only commands stay light: no platform SDK, web server, scheduler or migration tool.

Each command runs in a fresh interpreter, as `paperbot ...` would, and reports the modules it
loaded (`python -X importtime -m paperbot search ...` shows the same by hand).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import cli_env

HEAVY = (
    "slack_bolt",
    "slack_sdk",
    "discord",
    "aiohttp",
    "uvicorn",
    "starlette",
    "apscheduler",
    "alembic",
    "paperbot.adapters.slack",
    "paperbot.adapters.discord",
    "paperbot.web",
    "paperbot.scheduling",
)

PLATFORM_SETTINGS = (
    "paperbot.adapters.discord",
    "paperbot.adapters.discord.settings",
    "paperbot.adapters.slack",
    "paperbot.adapters.slack.settings",
)

RUN_AND_LIST_MODULES = """
import json, sys
out, args = sys.argv[1], sys.argv[2:]
sys.argv = ["paperbot", *args]
from paperbot.cli import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
with open(out, "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


def loaded(args: list[str], env: dict[str, str], tmp_path: Path) -> list[str]:
    out = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST_MODULES, str(out), *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = json.loads(out.read_text())
    assert report["code"] == 0, done.stderr
    return list(report["modules"])


@pytest.mark.parametrize(
    "args",
    [["search", "diffusion models"], ["trending", "--json"], ["channel", "list"]],
    ids=["search", "trending", "channel-list"],
)
def test_read_only_commands_import_nothing_heavy(
    args: list[str], database_url: str, tmp_path: Path
) -> None:
    # Slack and Discord configured: a read-only command still must not load their SDKs.
    env = cli_env(
        database_url,
        tmp_path,
        PAPERBOT_SLACK__BOT_TOKEN="xoxb-1",
        PAPERBOT_SLACK__SIGNING_SECRET="s",
        PAPERBOT_DISCORD__TOKEN="t",
    )
    modules = loaded(args, env, tmp_path)
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY))
    # The settings load each platform's section (a plain model, no SDK) and nothing else of it.
    assert heavy == sorted(PLATFORM_SETTINGS)


def test_alembic_is_imported_only_when_an_upgrade_is_due(tmp_path: Path) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'new.db'}", tmp_path)
    assert "alembic" in loaded(["channel", "list"], env, tmp_path)  # new database: migrated
    assert "alembic" not in loaded(["channel", "list"], env, tmp_path)  # current: one query
