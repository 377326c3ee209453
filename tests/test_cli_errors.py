"""Bad settings and unreachable databases through the real `paperbot` command: one clear line.

Exit 2 for what the user must fix in the settings, exit 1 for a database that does not answer;
never a traceback, "unexpected error", an exception class, a secret or a password.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.cli_helpers import cli_env, closed_port, paperbot


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(f"sqlite:///{tmp_path / 'paperbot.db'}", tmp_path)


def one_line(done: object, code: int) -> str:
    stderr: str = done.stderr  # type: ignore[attr-defined]
    assert done.returncode == code, stderr  # type: ignore[attr-defined]
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("paperbot: ")
    for word in ("Traceback", "unexpected", "Error:", "Exception"):
        assert word not in stderr
    return lines[0]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAPERBOT_DIGEST__DEFAULT_ZONE", "Mars/Olympus"),
        ("PAPERBOT_DIGEST__DEFAULT_TIME", "25:99"),
        ("PAPERBOT_DIGEST__DEFAULT_DAYS", "funday"),
        ("PAPERBOT_DIGEST__DEFAULT_SIZE", "500"),
        ("PAPERBOT_HF__BASE_URL", "hf.example"),
        ("PAPERBOT_DIGEST__LEASE_SECONDS", "nan"),
        ("PAPERBOT_DATABASE_URL", "postgresql+psycopg://bob:hunter2@db:5432:5432/x"),
    ],
)
def test_a_bad_setting_is_refused_before_anything_is_stored(
    env: dict[str, str], tmp_path: Path, name: str, value: str
) -> None:
    args = ["channel", "add", "--platform", "console", "--workspace", "w", "--channel", "c"]
    line = one_line(paperbot(*args, env={**env, name: value}, cwd=tmp_path), 2)
    assert name in line
    if "hunter2" in value:
        assert "hunter2" not in line and "bob:***@" in line
    else:
        assert repr(value) in line
    # Nothing was stored: the same command with good settings finds no channel.
    listed = paperbot("channel", "list", "--json", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []


def test_config_file_problems_name_the_file(env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    line = one_line(
        paperbot("search", "x", env={**env, "PAPERBOT_CONFIG": str(missing)}, cwd=tmp_path), 2
    )
    assert str(missing) in line
    broken = tmp_path / "broken.toml"
    broken.write_text('[digest]\ndefault_zone = "Europe/Berlin"\ndefault_size = = 3\n')
    line = one_line(
        paperbot("search", "x", env={**env, "PAPERBOT_CONFIG": str(broken)}, cwd=tmp_path), 2
    )
    assert str(broken) in line and "line 3" in line
    # Without PAPERBOT_CONFIG the default file may be absent (tmp_path has no config/).
    quiet = {k: v for k, v in env.items() if k != "PAPERBOT_CONFIG"}
    assert paperbot("search", "x", env=quiet, cwd=tmp_path).returncode == 0


def test_a_malformed_database_url_is_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    for url in ("postgresql+psycopg://u:hunter2@host:port/db", "oracle://u@h/db", "::"):
        line = one_line(
            paperbot("search", "x", env={**env, "PAPERBOT_DATABASE_URL": url}, cwd=tmp_path), 2
        )
        assert "PAPERBOT_DATABASE_URL" in line and "hunter2" not in line


def test_a_server_that_refuses_connections_is_exit_1_naming_host_and_database(
    env: dict[str, str], tmp_path: Path
) -> None:
    port = closed_port()
    url = f"postgresql+psycopg://bob:hunter2@127.0.0.1:{port}/papers"
    for command in (["search", "x"], ["db", "upgrade"], ["channel", "list"]):
        line = one_line(
            paperbot(*command, env={**env, "PAPERBOT_DATABASE_URL": url}, cwd=tmp_path), 1
        )
        assert f'database "papers" on 127.0.0.1:{port}' in line and "does not answer" in line
        assert "hunter2" not in line


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung server, a firewall)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield int(server.getsockname()[1])


def test_a_server_that_never_answers_times_out_with_one_line(
    env: dict[str, str], tmp_path: Path, silent_server: int
) -> None:
    url = f"postgresql+psycopg://bob@127.0.0.1:{silent_server}/papers"
    env = {**env, "PAPERBOT_DATABASE_URL": url, "PAPERBOT_DATABASE_CONNECT_TIMEOUT_SECONDS": "2"}
    started = time.monotonic()
    line = one_line(paperbot("trending", env=env, cwd=tmp_path, timeout=60), 1)
    assert time.monotonic() - started < 30
    assert f'database "papers" on 127.0.0.1:{silent_server}' in line and "in time" in line


@pytest.mark.postgres
def test_a_missing_database_or_refused_login_is_exit_1(
    pg_url: str, env: dict[str, str], tmp_path: Path
) -> None:
    server = make_url(pg_url)
    where = f"{server.host}:{server.port or 5432}"
    missing = server.set(database="paperbot_no_such_database")
    run = {**env, "PAPERBOT_DATABASE_URL": missing.render_as_string(hide_password=False)}
    line = one_line(paperbot("search", "x", env=run, cwd=tmp_path), 1)
    assert f'database "paperbot_no_such_database" on {where}' in line and "does not exist" in line
    stranger = server.set(username="paperbot_no_such_role", password="hunter2")
    run = {**env, "PAPERBOT_DATABASE_URL": stranger.render_as_string(hide_password=False)}
    line = one_line(paperbot("search", "x", env=run, cwd=tmp_path), 1)
    assert f'database "{server.database}" on {where}' in line and "refused the login" in line
    assert "hunter2" not in line
