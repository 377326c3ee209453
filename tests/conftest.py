"""Shared fixtures: a real SQLite file and a real PostgreSQL database per test, fixed clocks."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import Settings
from paperbot.core import db
from paperbot.core.models import Base

PG_SERVER = os.environ.get(
    "PAPERBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_PG = os.environ.get("PAPERBOT_REQUIRE_POSTGRES") == "1"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No PAPERBOT_* from the developer's shell, no config/paperbot.toml, no .env leaks in."""
    for key in list(os.environ):
        if key.startswith("PAPERBOT_") and not key.startswith("PAPERBOT_TEST"):
            monkeypatch.delenv(key)
    # An empty config file (a missing one named by PAPERBOT_CONFIG is an error).
    monkeypatch.setenv("PAPERBOT_CONFIG", os.devnull)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = db.create_db_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_database() -> Iterator[str]:
    """One migrated PostgreSQL database per test session, dropped at the end."""
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL required but unreachable at {PG_SERVER}: {exc}")
        pytest.skip(f"no PostgreSQL at {PG_SERVER}")
    name = f"paperbot_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    engine = db.create_db_engine(url)
    db.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database: a real SQLite file, or a real PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "paperbot.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def pg_url(_pg_database: str) -> str:
    """PostgreSQL only (e.g. multi-replica tests): the session's database, emptied."""
    _truncate_all(_pg_database)
    return _pg_database


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """SQLite only, for tests about SQLite-specific behaviour."""
    path = tmp_path / "paperbot.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = db.create_db_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return db.make_session_factory(engine)


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Any:
    """Settings for this test's database and index folder, with overrides."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "index_dir": tmp_path / "index",
            "seed_sample_data": False,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    s: Settings = make_settings()
    return s


@pytest.fixture
def webhook() -> Iterator[Any]:
    """A loopback receiver for PAPERBOT_ALERTS__WEBHOOK_URL."""
    from fakes.webhook import FakeWebhook

    with FakeWebhook() as hook:
        yield hook


@pytest.fixture(scope="session")
def native_panic(tmp_path_factory: pytest.TempPathFactory) -> BaseException:
    """A real pyo3 PanicException (a BaseException), from tantivy losing its index folder."""
    from paperbot.core.papers.ingest import ingest_file
    from paperbot.core.search import SearchIndex

    root = tmp_path_factory.mktemp("panic")
    engine = db.create_db_engine(f"sqlite:///{root / 'p.db'}")
    db.upgrade(engine)
    factory = db.make_session_factory(engine)
    papers = root / "papers.jsonl"
    papers.write_text('{"title": "One", "abstract": "a"}\n')
    ingest_file(factory, papers, now=NOW)
    index = SearchIndex(root / "index", keep_writer=True)
    index.catch_up(factory)
    shutil.rmtree(root / "index")
    papers.write_text('{"title": "Two", "abstract": "b"}\n')
    ingest_file(factory, papers, now=NOW)
    caught: BaseException | None = None
    for _ in range(3):
        try:
            index.catch_up(factory)
        except BaseException as exc:
            caught = exc
            if not isinstance(exc, Exception):
                break
    engine.dispose()
    assert caught is not None and not isinstance(caught, Exception), caught
    return caught
