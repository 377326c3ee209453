"""Database engine and sessions: SQLite pragmas, PostgreSQL options, connection failures in words.

Migrations live in paperbot.core.schema (Alembic is imported only when one is due).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from paperbot.core.schema import Upgrade

DEFAULT_CONNECT_TIMEOUT = 10.0
# The execution option that marks a session as reading only (see snapshot()).
READ_ONLY = "paperbot_read_only"


def create_db_engine(
    url: str, *, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT, **kwargs: Any
) -> Engine:
    """An engine with the pragmas paperbot relies on (WAL and foreign keys on SQLite).

    A PostgreSQL server that does not answer fails after `connect_timeout` seconds instead
    of the operating system's minutes.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseUnavailable(
                    f"cannot open {where(parsed)}: cannot create its folder {folder}"
                    f" ({exc.strerror})"
                ) from None
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _sqlite_pragmas(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = max(2, math.ceil(connect_timeout))  # libpq: >= 2 s
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, open transactions, so we can make them IMMEDIATE:
        # a deferred transaction that later writes can fail with SQLITE_BUSY at once, while an
        # immediate one waits for the write lock (busy timeout) and claims stay compare-and-set.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A reader's deferred transaction is a WAL snapshot: it takes no lock, so a search
        # never waits behind an ingest batch (IMMEDIATE would queue it for the write lock).
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def snapshot(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that only reads: one consistent view that never waits for a writer (on
    SQLite a deferred transaction; a write in it is a bug and may fail as busy)."""
    with factory() as session:
        session.connection(execution_options={READ_ONLY: True})
        yield session


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on error."""
    with factory.begin() as session:
        yield session


def where(url: URL) -> str:
    """'database "paperbot" on db.example:5432' (never the password)."""
    if url.get_backend_name() == "sqlite":
        return f"the SQLite database {url.database or ':memory:'}"
    return f'database "{url.database}" on {url.host or "localhost"}:{url.port or 5432}'


def unavailable(url: URL, exc: DBAPIError) -> DatabaseUnavailable:
    """A driver's connection failure as one line naming the host and the database."""
    text = str(exc.orig) if exc.orig is not None else str(exc)
    lowered = text.lower()
    if "password authentication failed" in lowered or (
        "role" in lowered and "does not exist" in lowered
    ):
        why = f"the server refused the login of user {url.username!r}"
    elif "database" in lowered and "does not exist" in lowered:
        why = f'it does not exist: create it (createdb "{url.database}") or fix the URL'
    elif "timeout" in lowered:
        why = "the server did not answer in time"
    elif "refused" in lowered or "resolve host" in lowered or "no route" in lowered:
        why = "the server does not answer (" + _last_line(text) + ")"
    else:
        why = _last_line(text)
    return DatabaseUnavailable(f"cannot open {where(url)}: {why}")


def _last_line(text: str) -> str:
    """The driver's reason without its framing ("connection to server at ... failed: ")."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    first = lines[0] if lines else "no answer"
    reason = first.rsplit("failed: ", 1)[-1].replace("FATAL:", "").strip()
    return (reason[:1].lower() + reason[1:])[:200]


def upgrade(engine: Engine, revision: str = "head") -> Upgrade:
    """Apply migrations under the cross-process lock (see paperbot.core.schema.upgrade)."""
    from paperbot.core import schema

    return schema.upgrade(engine, revision)
