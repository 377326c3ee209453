"""The bundled sample papers: seed an empty store for the console, find them, remove them.

Every seeded paper carries "sample" in its `sources`, so a store that later serves Slack or
Discord can tell them apart (and `paperbot db remove-samples` can drop them). Dates stay
honest: the recorded Hugging Face day keeps its day and signals; the sample JSONL papers, which
have no dates, count as announced the day before it, never "today".
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from importlib import resources
from urllib.parse import quote_plus

from sqlalchemy import ColumnElement, String, cast, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.models import Paper
from paperbot.core.papers.ingest import ingest
from paperbot.core.papers.sources import hf
from paperbot.core.papers.sources.base import PaperIn
from paperbot.core.papers.sources.files import parse_lines

SAMPLE_PAPERS = "sample_papers.jsonl"
SAMPLE_HF = "hf_daily_papers_2026-06-12.json"
SAMPLE_HF_DAY = date(2026, 6, 12)
SOURCE = "sample"
# Sources a seeded paper has from the seed alone: anything else means a real source has it too.
SEEDED_SOURCES = frozenset({SOURCE, hf.SOURCE})


def title_search_url(title: str) -> str:
    """Where to find a sample paper that came without an id: arXiv's title search."""
    return f"https://arxiv.org/search/?searchtype=title&query={quote_plus(title[:300])}"


def sample_papers() -> list[PaperIn]:
    """The bundled papers: the recorded HF day, then the undated JSONL list."""
    folder = resources.files("paperbot").joinpath("data")
    payload = json.loads(folder.joinpath(SAMPLE_HF).read_text(encoding="utf-8"))
    papers = hf.parse_daily_papers(payload)
    lines = folder.joinpath(SAMPLE_PAPERS).read_text(encoding="utf-8").splitlines()
    before = SAMPLE_HF_DAY - timedelta(days=1)
    papers.extend(
        dataclasses.replace(
            paper,
            announced=paper.announced or before,
            url=paper.url or title_search_url(paper.title),
        )
        for paper in parse_lines(lines, name=SAMPLE_PAPERS, source=SOURCE)
    )
    return papers


def store_is_empty(session_factory: sessionmaker[Session]) -> bool:
    with session_factory() as session:
        return session.execute(select(Paper.id).limit(1)).first() is None


def seed_if_empty(session_factory: sessionmaker[Session], *, now: datetime) -> int:
    """Ingest the bundled sample data when the store has no papers; the number added."""
    if not store_is_empty(session_factory):
        return 0
    papers = sample_papers()
    added = ingest(session_factory, papers, source=SOURCE, now=now).added
    _mark(session_factory, [p.key for p in papers if p.source != SOURCE])
    return added


def _mark(session_factory: sessionmaker[Session], keys: list[str]) -> None:
    """Add "sample" to the sources of seeded papers that came in under another source."""
    with session_factory.begin() as session:
        for paper in session.scalars(select(Paper).where(Paper.key.in_(keys))):
            if SOURCE not in paper.sources:
                paper.sources = sorted([*paper.sources, SOURCE])


def _is_sample() -> ColumnElement[bool]:
    # `sources` is a JSON list: its text holds "sample" in quotes on SQLite and PostgreSQL.
    return cast(Paper.sources, String).like(f'%"{SOURCE}"%')


def count_samples(session_factory: sessionmaker[Session]) -> int:
    """How many stored papers came from the bundled sample data."""
    with session_factory() as session:
        return int(session.scalar(select(func.count()).where(_is_sample())) or 0)


def remove_samples(session_factory: sessionmaker[Session]) -> tuple[int, int]:
    """Delete the papers only the seed brought; unmark those a real source also has.

    Returns (removed, kept). Their signal snapshots and posted-paper rows go with them.
    """
    with session_factory.begin() as session:
        rows = session.execute(select(Paper.id, Paper.sources).where(_is_sample())).all()
        only_seed = [pid for pid, sources in rows if set(sources) <= SEEDED_SOURCES]
        shared = [pid for pid, sources in rows if not set(sources) <= SEEDED_SOURCES]
        for start in range(0, len(only_seed), 500):
            session.execute(delete(Paper).where(Paper.id.in_(only_seed[start : start + 500])))
        for paper in session.scalars(select(Paper).where(Paper.id.in_(shared))):
            paper.sources = [s for s in paper.sources if s != SOURCE]
    return len(only_seed), len(shared)


__all__ = [
    "SAMPLE_HF_DAY",
    "count_samples",
    "remove_samples",
    "sample_papers",
    "seed_if_empty",
    "store_is_empty",
]
