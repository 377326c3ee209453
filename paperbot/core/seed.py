"""Seed an empty store with the bundled sample papers, so a first run has something to show."""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.ingest import ingest
from paperbot.core.models import Paper
from paperbot.core.sources import hf
from paperbot.core.sources.base import PaperIn
from paperbot.core.sources.files import parse_lines

SAMPLE_PAPERS = "sample_papers.jsonl"
SAMPLE_HF = "hf_daily_papers_2026-06-12.json"
SOURCE = "sample"


def sample_papers() -> list[PaperIn]:
    """The bundled papers: the recorded HF day (real dates) and the JSONL list (no dates)."""
    folder = resources.files("paperbot").joinpath("data")
    payload = json.loads(folder.joinpath(SAMPLE_HF).read_text(encoding="utf-8"))
    papers = hf.parse_daily_papers(payload)
    lines = folder.joinpath(SAMPLE_PAPERS).read_text(encoding="utf-8").splitlines()
    # Undated sample papers get the seeding day as `announced` (ingest's default), so the
    # first digest has recent papers to show.
    papers.extend(parse_lines(lines, name=SAMPLE_PAPERS, source=SOURCE))
    return papers


def store_is_empty(session_factory: sessionmaker[Session]) -> bool:
    with session_factory() as session:
        return session.execute(select(Paper.id).limit(1)).first() is None


def seed_if_empty(session_factory: sessionmaker[Session], *, now: datetime) -> int:
    """Ingest the bundled sample data when the store has no papers; the number added."""
    if not store_is_empty(session_factory):
        return 0
    return ingest(session_factory, sample_papers(), source=SOURCE, now=now).added


__all__ = ["sample_papers", "seed_if_empty", "store_is_empty"]
