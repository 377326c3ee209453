"""The database's clock as SQL: leases are judged by one clock, whatever each replica's says."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from paperbot.core.models import Tz


class db_now(FunctionElement[datetime]):
    """The database server's current UTC time plus `seconds`, comparable with Tz columns.

    PostgreSQL: now() (the transaction's start) plus an interval. SQLite: strftime in the
    exact text format SQLAlchemy stores Tz values in (six fractional digits), so comparisons
    of text against text order like the instants they name.
    """

    type = Tz()
    inherit_cache = True
    name = "db_now"

    def __init__(self, seconds: float = 0.0) -> None:
        super().__init__(literal(float(seconds), Float()))


@compiles(db_now, "postgresql")
def _pg(element: db_now, compiler: Any, **kw: Any) -> str:
    seconds = compiler.process(element.clauses, **kw)
    return f"(now() + make_interval(secs => {seconds}))"


@compiles(db_now, "sqlite")
def _sqlite(element: db_now, compiler: Any, **kw: Any) -> str:
    seconds = compiler.process(element.clauses, **kw)
    return f"(strftime('%Y-%m-%d %H:%M:%f', 'now', printf('%+.3f seconds', {seconds})) || '000')"


@compiles(db_now)
def _other(element: db_now, compiler: Any, **kw: Any) -> str:
    seconds = compiler.process(element.clauses, **kw)
    return f"(CURRENT_TIMESTAMP + {seconds} * INTERVAL '1' SECOND)"
