"""Alembic environment: runs against the engine paperbot hands over (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from paperbot.core.models import Base


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Slack's installation tables are created by migration 0002 but have no model here."""
    return not (
        type_ == "table" and reflected and compare_to is None and (name or "").startswith("slack_")
    )


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


config = context.config
# paperbot.core.schema hands over the connection that holds the migration lock; tools that
# use alembic directly may hand over an engine.
given: Connection | None = config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine: Engine = config.attributes["engine"]
    with engine.connect() as connection:
        run(connection)
