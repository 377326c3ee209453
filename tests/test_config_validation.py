"""Settings are validated when they load: one line per bad setting, naming it, never a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperbot.config import ConfigError, Settings, load_settings
from paperbot.core import errors


def refused(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None)
    return str(raised.value)


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("PAPERBOT_DIGEST__DEFAULT_ZONE", "Mars/Olympus", "IANA time zone"),
        ("PAPERBOT_DIGEST__DEFAULT_ZONE", "../../etc/passwd", "IANA time zone"),
        ("PAPERBOT_DIGEST__DEFAULT_TIME", "25:99", "HH:MM"),
        ("PAPERBOT_DIGEST__DEFAULT_TIME", "noon-ish", "HH:MM"),
        ("PAPERBOT_DIGEST__DEFAULT_DAYS", "funday", "mon,wed,fri"),
        ("PAPERBOT_DIGEST__DEFAULT_SIZE", "0", "greater than or equal to 1"),
        ("PAPERBOT_DIGEST__DEFAULT_SIZE", "many", "integer"),
        ("PAPERBOT_DIGEST__LEASE_SECONDS", "100000000", "less than or equal"),
        ("PAPERBOT_DIGEST__GRACE_HOURS", "nan", "finite"),
        ("PAPERBOT_DIGEST__TICK_SECONDS", "inf", "finite"),
        ("PAPERBOT_SOURCE_HTTP__TIMEOUT_SECONDS", "-1", "greater than 0"),
        ("PAPERBOT_HTTP__PORT", "70000", "less than or equal to 65535"),
        ("PAPERBOT_HF__BASE_URL", "ftp://mirror.example", "http(s) URL"),
        ("PAPERBOT_HF__BASE_URL", "huggingface.co", "http(s) URL"),
        ("PAPERBOT_SLACK__API_BASE_URL", "https://exa mple.com/api/", "no spaces"),
        ("PAPERBOT_DISCORD__GATEWAY_URL", "https://gateway.discord.gg", "ws(s) URL"),
        ("PAPERBOT_DATABASE_URL", "not a url", "not a database URL"),
        ("PAPERBOT_DATABASE_URL", "mysql://u@h/db", "SQLite or PostgreSQL"),
        ("PAPERBOT_DATABASE_URL", "postgresql+psycopg://u@h:99999/db", "port"),
        ("PAPERBOT_DATABASE_URL", "postgresql+psycopg2://u@h/db", "not installed"),
        ("PAPERBOT_DATABASE_URL", "postgresql+psycopg://u@h", "name the database"),
        ("PAPERBOT_LOG_LEVEL", "LOUD", "log level"),
        ("PAPERBOT_SEED_SAMPLE_DATA", "maybe", "'auto', 'true' or 'false'"),
        ("PAPERBOT_ARXIV__CATEGORIES", "cs.LG,not a category", "pattern"),
        ("PAPERBOT_ARXIV__ANNOUNCE_TYPES", "new,old", "'new'"),
        ("PAPERBOT_DISCORD__SHARD_COUNT", "lots", "'auto'"),
        ("PAPERBOT_DISCORD__GUILD_IDS", "1,x", "integer"),
        ("PAPERBOT_SLACK__COMMAND", "papers", "pattern"),
        ("PAPERBOT_PERMISSIONS__CHANNEL_CHANGES", "everyone", "'managers' or 'anyone'"),
        ("PAPERBOT_INSTANCE_ID", "two words", "one word"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable_and_value(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, why: str
) -> None:
    message = refused(monkeypatch, **{name: value})
    assert len(message.splitlines()) == 1, message
    assert message.startswith(f"invalid setting {name}")
    shown = value.split(",")[-1] if name.endswith(("CATEGORIES", "TYPES", "IDS")) else value
    assert repr(shown) in message
    assert why in message


def test_cross_field_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refused(
        monkeypatch, PAPERBOT_DIGEST__DEFAULT_SIZE="10", PAPERBOT_DIGEST__MAX_SIZE="5"
    )
    assert "PAPERBOT_DIGEST__MAX_SIZE='5'" in message and "default_size (10)" in message


def test_every_bad_setting_gets_its_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refused(
        monkeypatch, PAPERBOT_DIGEST__DEFAULT_ZONE="Mars/Olympus", PAPERBOT_HTTP__PORT="0"
    )
    assert len(message.splitlines()) == 2
    assert "PAPERBOT_DIGEST__DEFAULT_ZONE" in message and "PAPERBOT_HTTP__PORT" in message


def test_unknown_keys_are_typos_and_their_values_stay_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = refused(monkeypatch, PAPERBOT_SLACK__BOT_TOKN="xoxb-very-secret")
    assert message == (
        "unknown setting PAPERBOT_SLACK__BOT_TOKN (did you mean PAPERBOT_SLACK__BOT_TOKEN?)"
    )


def test_misspelt_top_level_names_are_refused_other_variables_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = refused(monkeypatch, PAPERBOT_DATABSE_URL="sqlite:///x.db")
    assert message == "unknown setting PAPERBOT_DATABSE_URL (did you mean PAPERBOT_DATABASE_URL?)"
    monkeypatch.delenv("PAPERBOT_DATABSE_URL")
    message = refused(monkeypatch, PAPERBOT_DIGSET__DEFAULT_ZONE="Europe/Berlin")
    assert "did you mean PAPERBOT_DIGEST__DEFAULT_ZONE?" in message
    monkeypatch.delenv("PAPERBOT_DIGSET__DEFAULT_ZONE")
    monkeypatch.setenv("PAPERBOT_TEST_SOMETHING", "1")  # not a setting, not a near miss
    monkeypatch.setenv("PAPERBOT_REQUIRE_POSTGRES", "1")
    assert load_settings(_env_file=None).digest.default_zone == "UTC"


def test_secrets_and_passwords_are_never_shown(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = refused(monkeypatch, PAPERBOT_DATABASE_URL="postgresql+psycopg://bob:hunter2@h:0/db")
    assert "hunter2" not in url and "bob:***@h" in url
    monkeypatch.delenv("PAPERBOT_DATABASE_URL")
    blob = refused(monkeypatch, PAPERBOT_SLACK='{"bot_token": "xoxb-very-secret"')
    assert "very-secret" not in blob and "PAPERBOT_SLACK" in blob
    monkeypatch.delenv("PAPERBOT_SLACK")
    toml = tmp_path / "paperbot.toml"
    toml.write_text("[discord]\ntoken = 9876543210\n")  # not even a string
    message = refused(monkeypatch, PAPERBOT_CONFIG=str(toml))
    assert "discord.token (value hidden)" in message and "9876543210" not in message


def test_values_are_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERBOT_DIGEST__DEFAULT_ZONE", "europe/berlin")
    monkeypatch.setenv("PAPERBOT_DIGEST__DEFAULT_TIME", "9:05")
    monkeypatch.setenv("PAPERBOT_DIGEST__DEFAULT_DAYS", "Wed, Mon")
    monkeypatch.setenv("PAPERBOT_DATABASE_URL", "postgres://u@db.example/papers")
    monkeypatch.setenv("PAPERBOT_LOG_LEVEL", "debug")
    settings = load_settings(_env_file=None)
    assert settings.digest.default_zone == "Europe/Berlin"
    assert settings.digest.default_time == "09:05"
    assert settings.digest.default_days == "mon,wed"
    assert settings.database_url == "postgresql://u@db.example/papers"
    assert settings.log_level == "DEBUG"


def test_empty_values_mean_unset_as_in_the_example_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = Path(__file__).parents[1] / "config" / "example.env"
    (tmp_path / ".env").write_text(example.read_text())
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert not settings.slack.configured and not settings.discord.configured
    assert settings.discord.shard_count is None and settings.discord.guild_ids == []


def test_a_bad_value_in_dotenv_or_toml_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("PAPERBOT_DIGEST__DEFAULT_ZONE=Mars/Olympus\n")
    with pytest.raises(ConfigError, match=r"PAPERBOT_DIGEST__DEFAULT_ZONE='Mars/Olympus' in \.env"):
        load_settings()
    (tmp_path / ".env").unlink()
    toml = tmp_path / "bot.toml"
    toml.write_text('[digest]\ndefault_time = "25:99"\n')
    monkeypatch.setenv("PAPERBOT_CONFIG", str(toml))
    with pytest.raises(ConfigError, match=rf"digest.default_time='25:99' in {toml}: not a time"):
        load_settings()


def test_config_file_errors_name_the_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "missing.toml"
    monkeypatch.setenv("PAPERBOT_CONFIG", str(missing))
    with pytest.raises(ConfigError, match=f"PAPERBOT_CONFIG names {missing}, which does not"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    broken = tmp_path / "broken.toml"
    broken.write_text('log_level = "INFO"\n[digest]\ndefault_zone = \n')
    monkeypatch.setenv("PAPERBOT_CONFIG", str(broken))
    with pytest.raises(ConfigError, match=rf"{broken}: not valid TOML: .*line 3"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    typo = tmp_path / "typo.toml"
    typo.write_text('databse_url = "sqlite:///x.db"\n')
    monkeypatch.setenv("PAPERBOT_CONFIG", str(typo))
    with pytest.raises(ConfigError, match=r"unknown setting 'databse_url'.*'database_url'"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('instance_id = "café"\n'.encode("latin-1"))
    monkeypatch.setenv("PAPERBOT_CONFIG", str(latin1))
    with pytest.raises(ConfigError, match="not UTF-8"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_the_default_config_file_may_be_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAPERBOT_CONFIG")
    monkeypatch.chdir(tmp_path)  # no config/paperbot.toml here
    assert load_settings(_env_file=None).digest.default_zone == "UTC"


def test_the_shipped_config_file_is_valid_and_all_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = Path(__file__).parents[1] / "config" / "paperbot.toml"
    monkeypatch.setenv("PAPERBOT_CONFIG", str(shipped))
    from_file = load_settings(_env_file=None)
    monkeypatch.setenv("PAPERBOT_CONFIG", "/dev/null")
    assert from_file == load_settings(_env_file=None)


def test_the_error_tree() -> None:
    from paperbot.adapters.discord.adapter import DiscordConfigError
    from paperbot.adapters.slack.adapter import SlackConfigError
    from paperbot.adapters.slack.installation import InstallationConfigError
    from paperbot.cli.common import BadInput

    assert ConfigError is errors.ConfigError
    for cls in (ConfigError, SlackConfigError, DiscordConfigError, InstallationConfigError):
        assert issubclass(cls, errors.PaperbotError) and cls.exit_code == 2
        assert not issubclass(cls, ValueError)  # a ValueError is a bug, never a setting
    assert issubclass(BadInput, errors.UserError) and BadInput.exit_code == 2
    assert issubclass(errors.DatabaseUnavailable, errors.Unavailable)
    assert errors.DatabaseUnavailable.exit_code == errors.SchemaMismatch.exit_code == 1
