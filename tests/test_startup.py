"""Replicas start together on a new database: migrations take turns, every process comes up.

What `docker compose up` with replicas does: three processes at once, on a database nobody
migrated yet, several times over.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from paperbot.core import schema
from tests.cli_helpers import cli_env, closed_port, stop_bot, wait_healthy

REPLICAS = 3
ROUNDS = 3


@pytest.fixture
def new_pg_database(pg_url: str) -> Iterator[Callable[[], str]]:
    """Make empty PostgreSQL databases on the test server; all dropped at the end."""
    server = make_url(pg_url).set(database="postgres")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"paperbot_start_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def spawn(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "paperbot", *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def revision_of(url: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = schema.read_revision(conn)
        rows = conn.execute(select(func.count()).select_from(text("alembic_version"))).scalar()
    engine.dispose()
    assert rows == 1
    return found


def upgrade_at_once(url: str, tmp_path: Path) -> None:
    env = cli_env(url, tmp_path)
    procs = [spawn(["db", "upgrade"], env, tmp_path) for _ in range(REPLICAS)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    said = sorted(out.strip().splitlines()[0] for out, _err in outputs)
    # One process applied the migrations; the others waited, then found the schema current.
    assert said[0].startswith("already at") and said[1].startswith("already at")
    assert said[2] == "applied base -> 0001: initial schema"
    assert revision_of(url) == schema.HEAD


@pytest.mark.postgres
@pytest.mark.slow
def test_db_upgrade_three_at_once_on_a_new_postgres_database(
    new_pg_database: Callable[[], str], tmp_path: Path
) -> None:
    for _ in range(ROUNDS):
        upgrade_at_once(new_pg_database(), tmp_path)


@pytest.mark.slow
def test_db_upgrade_three_at_once_on_a_new_sqlite_file(tmp_path: Path) -> None:
    for i in range(ROUNDS):
        upgrade_at_once(f"sqlite:///{tmp_path / f'new{i}.db'}", tmp_path)


@pytest.mark.postgres
@pytest.mark.slow
def test_three_replicas_start_together_on_a_new_postgres_database(
    new_pg_database: Callable[[], str], tmp_path: Path
) -> None:
    for round_ in range(ROUNDS):
        url = new_pg_database()
        replicas = []
        for i in range(REPLICAS):
            port = closed_port()
            env = cli_env(
                url,
                tmp_path,
                PAPERBOT_HTTP__PORT=str(port),
                PAPERBOT_INDEX_DIR=str(tmp_path / f"index-{round_}-{i}"),
                PAPERBOT_INSTANCE_ID=f"replica-{round_}-{i}",
            )
            replicas.append((port, spawn(["run", "--no-console"], env, tmp_path)))
        try:
            for port, proc in replicas:
                assert wait_healthy(port, proc, timeout=60)["status"] == "ok"
        finally:
            errs = [stop_bot(proc) for _port, proc in replicas]
        for err in errs:
            assert "IntegrityError" not in err and "already exists" not in err
            assert "no console chat" in err  # --no-console does not claim a console
        assert revision_of(url) == schema.HEAD
