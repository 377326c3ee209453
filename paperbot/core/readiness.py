"""Readiness (/readyz): can this replica serve? The database answers, the search index opens,
and the deployment's own bot tokens are not refused (one OAuth workspace's trouble is not
the replica's)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core import db
from paperbot.core.delivery import workspaces
from paperbot.core.panics import recoverable
from paperbot.core.search import repair as index_repair


def reasons(
    session_factory: sessionmaker[Session],
    index: index_repair.RepairableIndex,
    platforms: Iterable[str],
) -> list[str]:
    """Why this replica is not ready; empty when it is."""
    out: list[str] = []
    try:
        with db.snapshot(session_factory) as session:
            session.execute(text("SELECT 1"))
            out += workspaces.refused(session, sorted(platforms))
    except BaseException as exc:
        if not recoverable(exc):
            raise
        out.append(f"the database is unreachable ({type(exc).__name__})")
    problem = index_repair.problem(index)
    if problem:
        out.append(problem)
    return out
