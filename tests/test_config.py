"""Settings precedence: defaults < config/paperbot.toml < .env < PAPERBOT_* environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperbot.config import Settings


def test_defaults_toml_dotenv_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = tmp_path / "paperbot.toml"
    toml.write_text(
        '[digest]\ndefault_zone = "Europe/Berlin"\ndefault_size = 7\n'
        '[arxiv]\ncategories = ["cs.RO"]\n[http]\nport = 4000\n'
    )
    (tmp_path / ".env").write_text("PAPERBOT_DIGEST__DEFAULT_SIZE=9\nPAPERBOT_HTTP__PORT=5000\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPERBOT_CONFIG", str(toml))
    monkeypatch.setenv("PAPERBOT_HTTP__PORT", "6000")
    settings = Settings()
    assert settings.digest.default_time == "09:00"  # built-in default
    assert settings.digest.default_zone == "Europe/Berlin"  # toml
    assert settings.arxiv.categories == ["cs.RO"]
    assert settings.digest.default_size == 9  # .env beats toml
    assert settings.http.port == 6000  # environment beats .env


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("cs.LG,cs.CL", ["cs.LG", "cs.CL"]), ('["cs.LG", "cs.CL"]', ["cs.LG", "cs.CL"]), ("", [])],
)
def test_lists_take_json_or_commas(
    raw: str, expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERBOT_ARXIV__CATEGORIES", raw)
    monkeypatch.setenv("PAPERBOT_SLACK__ADMINS", raw.replace("cs.", "U"))
    monkeypatch.setenv("PAPERBOT_DISCORD__GUILD_IDS", "1,2")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.arxiv.categories == expected
    assert settings.slack.admins == [e.replace("cs.", "U") for e in expected]
    assert settings.discord.guild_ids == [1, 2]


def test_secrets_never_show(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERBOT_SLACK__BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("PAPERBOT_DISCORD__TOKEN", "discord-very-secret")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert "very-secret" not in shown
    assert settings.slack.bot_token is not None
    assert settings.slack.bot_token.get_secret_value() == "xoxb-very-secret"


def test_index_folder_beside_sqlite_or_per_postgres_database() -> None:
    sqlite = Settings(_env_file=None, database_url="sqlite:///data/bot.db")  # type: ignore[call-arg]
    assert sqlite.resolved_index_dir() == Path("data/bot.db.index")
    pg = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url="postgresql+psycopg://u:pw@db.example:5432/papers"
    )
    assert pg.resolved_index_dir().parent == Path("paperbot-index")
    assert "papers" in pg.resolved_index_dir().name and "pw" not in str(pg.resolved_index_dir())
