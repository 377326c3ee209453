"""Insert papers straight into the store, as ingest would (with the next change_seq)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.models import Paper

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def add_paper(factory: sessionmaker[Session], title: str, abstract: str = "", **kw: Any) -> int:
    """Insert a paper with the next change_seq (what ingest does), return its id."""
    with factory.begin() as session:
        seq = (session.scalar(select(func.max(Paper.change_seq))) or 0) + 1
        paper = Paper(
            key=kw.pop("key", f"title:{title}"[:64]),
            title=title,
            abstract=abstract,
            first_seen_at=NOW,
            updated_at=NOW,
            change_seq=seq,
            **kw,
        )
        session.add(paper)
        session.flush()
        return paper.id
