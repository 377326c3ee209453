"""The schema version: read with plain SQL, upgraded by Alembic under a cross-process lock.

Every command checks the database's revision against the newest migration file (its name is
its revision id), which costs one query and no Alembic import. When an upgrade is due, it
runs under a lock every replica takes: a PostgreSQL advisory lock, or a file lock beside the
SQLite file. Replicas started together wait for the first one, then find the schema current.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError, OperationalError

from paperbot.core.db import unavailable, where
from paperbot.core.errors import SchemaMismatch, Unavailable

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")
# pg_advisory_lock takes a bigint: a fixed one for paperbot's migrations ("pb-migr").
ADVISORY_KEY = 0x70622D6D69677200
LOCK_WAIT_SECONDS = 600


def revisions() -> list[str]:
    """Every migration's revision id, oldest first (files are named <revision>_<slug>.py)."""
    folder = resources.files("paperbot.core.migrations").joinpath("versions")
    names = (entry.name for entry in folder.iterdir())
    return sorted(m.group(1) for m in map(_REVISION_FILE.match, names) if m)


HEAD = revisions()[-1]


@dataclass(frozen=True)
class Step:
    down: str | None
    revision: str
    doc: str


@dataclass(frozen=True)
class Upgrade:
    """What an upgrade did: the revision before, after, and the migrations applied between."""

    before: str | None
    after: str | None
    steps: list[Step] = field(default_factory=list)

    def lines(self) -> list[str]:
        if not self.steps:
            return [f"already at {self.after} (head)"]
        return [f"applied {s.down or 'base'} -> {s.revision}: {s.doc}" for s in self.steps]


def read_revision(conn: Connection) -> str | None:
    """The database's revision (None for a new database), by plain SQL."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(engine: Engine) -> Upgrade | None:
    """Check the revision (one query); upgrade when behind. Connection failures in words."""
    with _connect(engine) as conn:
        current = read_revision(conn)
    if current == HEAD:
        return None
    _check_known(engine, current)
    return upgrade(engine)


def upgrade(engine: Engine, revision: str = "head") -> Upgrade:
    """Apply migrations (idempotent): the lock holder migrates, the others find it done."""
    with _migration_lock(engine) as conn:
        before = read_revision(conn)
        conn.commit()
        _check_known(engine, before)
        if before == (HEAD if revision == "head" else revision):
            return Upgrade(before, before)
        _alembic_upgrade(conn, revision)
        after = read_revision(conn)
        conn.commit()
    return Upgrade(before, after, _steps(before, after))


@contextmanager
def _connect(engine: Engine) -> Iterator[Connection]:
    """A connection; a server that does not answer (or refuses us) is DatabaseUnavailable."""
    try:
        conn = engine.connect()
    except DBAPIError as exc:
        raise unavailable(engine.url, exc) from None
    with conn:
        yield conn


def _check_known(engine: Engine, current: str | None) -> None:
    if current is not None and current not in revisions():
        raise SchemaMismatch(
            f"{where(engine.url)} is at schema revision {current}, which this paperbot does not"
            f" know (its newest is {HEAD}): run a paperbot at least as new as the one that"
            " migrated it"
        )


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection holding the deployment-wide migration lock."""
    if engine.dialect.name == "postgresql":
        with _connect(engine) as conn:
            _pg_lock(engine, conn)
            try:
                yield conn
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        with _connect(engine) as conn:
            yield conn
        return
    from filelock import FileLock, Timeout

    lock = FileLock(f"{database}.lock")
    try:
        lock.acquire(timeout=LOCK_WAIT_SECONDS)
    except Timeout:
        raise Unavailable(_waited(engine)) from None
    try:
        with _connect(engine) as conn:
            yield conn
    finally:
        lock.release()


def _pg_lock(engine: Engine, conn: Connection) -> None:
    # Session-level: it outlives the transactions below, and the server drops it if we die.
    if conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar():
        conn.commit()
        return
    log.info("another paperbot process is migrating %s; waiting for it", where(engine.url))
    conn.execute(text(f"SET lock_timeout = '{LOCK_WAIT_SECONDS}s'"))
    try:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
    except OperationalError:
        raise Unavailable(_waited(engine)) from None
    conn.execute(text("RESET lock_timeout"))
    conn.commit()


def _waited(engine: Engine) -> str:
    return (
        f"another paperbot process has been migrating {where(engine.url)} for"
        f" {LOCK_WAIT_SECONDS // 60} minutes; try again when it is done"
    )


def alembic_config(conn: Connection) -> Any:
    """Alembic's config for our migrations on this connection (imports Alembic)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def _alembic_upgrade(conn: Connection, revision: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(conn), revision)


def _steps(before: str | None, after: str | None) -> list[Step]:
    """The migrations between two revisions, oldest first, with their titles."""
    if after is None or before == after:
        return []
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(MIGRATIONS))
    found = scripts.iterate_revisions(after, before or "base")
    steps = [
        Step(str(s.down_revision) if s.down_revision else None, s.revision, s.doc) for s in found
    ]
    return steps[::-1]


__all__ = [
    "HEAD",
    "Step",
    "Upgrade",
    "alembic_config",
    "ensure_schema",
    "read_revision",
    "revisions",
    "upgrade",
]
