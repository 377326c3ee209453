"""The deployment files: compose works for Slack's HTTP mode and Discord, the image stays clean.

No container engine runs here (hadolint and the compose schema check run in .ci/run); these
read the files as compose and Docker would, and check every service's settings load.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from paperbot.config import load_settings

REPO = Path(__file__).resolve().parents[1]
# What a user's .env holds for both platforms (values made up).
DOTENV = {
    "PAPERBOT_SLACK__BOT_TOKEN": "xoxb-1",
    "PAPERBOT_SLACK__SIGNING_SECRET": "secret",
    "PAPERBOT_DISCORD__TOKEN": "discord-token",
}


def compose() -> dict[str, Any]:
    return dict(YAML(typ="safe").load((REPO / "docker-compose.yml").read_text()))


def paperbot_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in compose()["services"].items() if s.get("image") == "paperbot:latest"}


def interpolate(value: str) -> str:
    """Compose's ${NAME:-default} with nothing set: the default."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def service_settings(service: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    environment = {**DOTENV, **{k: interpolate(str(v)) for k, v in service["environment"].items()}}
    with monkeypatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        return load_settings(_env_file=None)


def test_one_service_publishes_the_http_port_and_runs_discord(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = paperbot_services()
    published = [name for name, s in services.items() if s.get("ports")]
    assert published == ["web"]
    assert services["web"].get("deploy", {}).get("replicas", 1) == 1
    host, container = interpolate(services["web"]["ports"][0]).split(":")
    settings = {name: service_settings(s, monkeypatch) for name, s in services.items()}
    assert int(container) == settings["web"].http.port and host == "3000"
    assert settings["web"].slack.configured and settings["web"].discord.configured
    # Discord's gateway never runs twice for one shard: only `web` connects.
    assert [n for n, s in settings.items() if s.discord.configured] == ["web"]
    assert services["worker"]["deploy"]["replicas"] >= 2
    for name, s in settings.items():
        assert s.seed_sample_data == "false", name
        assert s.database_url.startswith("postgresql+psycopg://paperbot:")
        assert s.slack.configured  # every replica can post digests to Slack
        assert services[name]["command"] == ["run", "--no-console"]
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def docker_ignores(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore matching for these patterns (`**/` matches any depth)."""
    parts = path.split("/")
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        prefixes = range(len(parts)) if pattern.startswith("**/") else range(1)
        for start in prefixes:
            for end in range(start + 1, len(parts) + 1):  # a matched folder drops its contents
                if fnmatch.fnmatchcase("/".join(parts[start:end]), bare):
                    return True
    return False


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        (".venv/bin/python", True),
        (".env", True),
        ("config/.env", True),
        ("paperbot.db", True),
        ("data/bot.db", True),
        ("paperbot.db-wal", True),
        ("paperbot.db.index/meta.json", True),
        (".git/HEAD", True),
        ("paperbot/cli/__pycache__/main.cpython-311.pyc", True),
        ("paperbot/cli/main.py", False),
        ("paperbot/data/sample_papers.jsonl", False),
        ("pyproject.toml", False),
        ("README.md", False),
        ("config/paperbot.toml", False),
        ("config/example.env", False),
    ],
)
def test_dockerignore_keeps_secrets_and_local_state_out(path: str, ignored: bool) -> None:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert docker_ignores(path, patterns) is ignored


def test_the_image_runs_the_bot_without_a_console_on_a_data_volume() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert 'CMD ["run", "--no-console"]' in dockerfile
    assert "PAPERBOT_DATABASE_URL=sqlite:////data/paperbot.db" in dockerfile
    assert "USER 10001" in dockerfile and "HEALTHCHECK" in dockerfile
    assert os.path.exists(REPO / "config" / "paperbot.toml")  # what PAPERBOT_CONFIG names
