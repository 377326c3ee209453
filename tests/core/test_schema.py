"""The schema version: plain SQL to check it, Alembic under a lock to upgrade, failures in words."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from paperbot.core import db, schema
from paperbot.core.errors import DatabaseUnavailable, SchemaMismatch
from tests.cli_helpers import closed_port


def test_head_from_file_names_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(schema.MIGRATIONS))
    # One head (two migrations with the same down_revision must be re-chained), and every
    # revision id is its file's number: what the plain-SQL check relies on.
    assert scripts.get_heads() == [schema.HEAD]
    assert sorted(s.revision for s in scripts.walk_revisions()) == schema.revisions()
    for script in scripts.walk_revisions():
        assert Path(script.path).name.startswith(f"{script.revision}_")


def test_a_new_database_is_upgraded_and_says_what_was_applied(tmp_path: Path) -> None:
    engine = db.create_db_engine(f"sqlite:///{tmp_path / 'new.db'}")
    done = schema.ensure_schema(engine)
    assert done is not None and done.before is None and done.after == schema.HEAD
    assert done.lines()[0] == "applied base -> 0001: initial schema"
    assert done.lines()[-1].startswith(f"applied {schema.revisions()[-2]} -> {schema.HEAD}: ")
    assert schema.ensure_schema(engine) is None  # current: one query, nothing to do
    assert schema.upgrade(engine).lines() == [f"already at {schema.HEAD} (head)"]
    assert (tmp_path / "new.db.lock").exists()  # the SQLite migration lock sits beside it
    engine.dispose()


def test_a_database_from_a_newer_paperbot_is_refused(tmp_path: Path) -> None:
    engine = db.create_db_engine(f"sqlite:///{tmp_path / 'newer.db'}")
    schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaMismatch, match="revision 9999, which this paperbot does not know"):
        schema.ensure_schema(engine)
    with pytest.raises(SchemaMismatch):
        schema.upgrade(engine)
    engine.dispose()


def test_a_server_that_does_not_answer_is_named(tmp_path: Path) -> None:
    port = closed_port()
    engine = db.create_db_engine(f"postgresql+psycopg://bob:hunter2@127.0.0.1:{port}/papers")
    with pytest.raises(DatabaseUnavailable) as raised:
        schema.ensure_schema(engine)
    message = str(raised.value)
    assert message.startswith(f'cannot open database "papers" on 127.0.0.1:{port}:')
    assert "does not answer" in message and "hunter2" not in message
    (tmp_path / "file").write_text("")
    with pytest.raises(DatabaseUnavailable, match="cannot create its folder"):
        db.create_db_engine(f"sqlite:///{tmp_path / 'file' / 'x.db'}")
