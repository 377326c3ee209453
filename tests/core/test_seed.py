"""Seeding: a first run on an empty store shows the bundled papers; a used store is left alone."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.ingest import ingest
from paperbot.core.models import Paper
from paperbot.core.seed import seed_if_empty
from paperbot.core.sources.base import PaperIn

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_empty_store_is_seeded_once_with_recent_sample_papers(
    session_factory: sessionmaker[Session],
) -> None:
    assert seed_if_empty(session_factory, now=NOW) == 269
    with session_factory() as s:
        papers = list(s.scalars(select(Paper)))
    hf = [p for p in papers if "hf" in p.sources]
    sample = [p for p in papers if "sample" in p.sources]
    assert len(hf) == 30 and len(sample) == 239
    assert {p.announced for p in hf} == {date(2026, 6, 12)}  # the recording's real day
    assert {p.announced for p in sample} == {NOW.date()}  # undated: shown as new today
    assert max(p.upvotes for p in hf) == 118
    assert seed_if_empty(session_factory, now=NOW) == 0


def test_a_store_with_papers_is_not_seeded(session_factory: sessionmaker[Session]) -> None:
    ingest(session_factory, [PaperIn(title="Mine", abstract="a")], source="file", now=NOW)
    assert seed_if_empty(session_factory, now=NOW) == 0
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Paper)) == 1
