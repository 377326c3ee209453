"""A realistic store for judging digests: the recorded Hugging Face day and the sample papers.

The recorded HF day (paperbot/data/hf_daily_papers_2026-06-12.json, 30 papers with their real
upvotes, comments, stars and AI summaries) is "today", Friday 12 June 2026, observed twice so
growth is known. The 239 sample papers (paperbot/data/sample_papers.jsonl, real titles and
abstracts, no dates) become the two weeks before: each gets an arXiv-style id and an
announcement day, most without signals (as arXiv papers are), a few with HF votes observed on
the days they came in, among them a week-old favourite with 250 upvotes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.models import Channel, Subscription
from paperbot.core.papers.ingest import ingest
from paperbot.core.papers.sources import hf
from paperbot.core.papers.sources.base import PaperIn
from paperbot.core.papers.sources.files import parse_lines
from paperbot.core.search import SearchIndex

NOW = datetime(2026, 6, 12, 15, 0, tzinfo=UTC)  # Friday, the recorded HF day
TODAY = NOW.date()

# Sample papers with Hugging Face signals: title -> (days before today, upvotes, comments).
# Upvotes grow over the days after the announcement; these are the final counts.
VOTED = {
    "Diffusion Model as Representation Learner": (5, 250, 14),
    "Aligning Text to Image in Diffusion Models is Easier Than You Think": (1, 30, 2),
    "Inversion-Based Style Transfer with Diffusion Models": (2, 45, 3),
    "FRAug: Tackling Federated Learning with Non-IID Features via Representation Augmentation": (
        6,
        3,
        0,
    ),
    "An Image is Worth One Word: Personalizing Text-to-Image Generation using Textual Inversion": (
        4,
        60,
        5,
    ),
}
# Sample papers pinned to a day (the rest are spread over the two weeks by position).
PINNED = {
    "UMERegRobust - Universal Manifold Embedding Compatible Features for Robust Point Cloud"
    " Registration": 2,
    "Efficient Personalized Text-to-image Generation by Leveraging Textual Subspace": 1,
    "A Neural Space-Time Representation for Text-to-Image Personalization": 3,
    "Break-A-Scene: Extracting Multiple Concepts from a Single Image": 0,
}


def _data(name: str) -> str:
    return resources.files("paperbot").joinpath("data", name).read_text(encoding="utf-8")


def hf_today() -> list[PaperIn]:
    return hf.parse_daily_papers(json.loads(_data("hf_daily_papers_2026-06-12.json")))


def sample_papers() -> list[PaperIn]:
    """The sample papers with ids and days: the older ones as arXiv listed them."""
    papers = parse_lines(_data("sample_papers.jsonl").splitlines(), name="sample", source="arxiv")
    out = []
    for i, paper in enumerate(papers):
        back = VOTED.get(paper.title, (PINNED.get(paper.title, 1 + i % 14), 0, 0))[0]
        day = TODAY - timedelta(days=back)
        out.append(
            replace(
                paper,
                arxiv_id=f"2606.{90000 + i:05d}",
                published=day,
                announced=day,
                source="arxiv",
            )
        )
    return out


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def build_store(session_factory: sessionmaker[Session], index: SearchIndex) -> None:
    """Ingest everything at the instants it would have arrived, then index it."""
    papers = sample_papers()
    ingest(session_factory, papers, source="arxiv", now=_at(TODAY - timedelta(days=14), 6))
    by_title = {p.title: p for p in papers}
    for title, (back, upvotes, comments) in VOTED.items():
        day = TODAY - timedelta(days=back)
        # Observed on its day, the next day and today: most votes come in the first two days.
        steps = [(day, 0.3), (day + timedelta(days=1), 0.8), (TODAY, 1.0)]
        for seen, share in steps:
            if seen > TODAY:
                continue
            voted = replace(
                by_title[title],
                upvotes=round(upvotes * share),
                comments=round(comments * share),
                source="hf",
            )
            ingest(session_factory, [voted], source="hf", now=_at(seen, 14 if seen != TODAY else 8))
    today = hf_today()
    morning = [replace(p, upvotes=(p.upvotes or 0) // 3, comments=p.comments) for p in today]
    ingest(session_factory, morning, source="hf", now=_at(TODAY, 8))
    ingest(session_factory, today, source="hf", now=NOW - timedelta(minutes=30))
    index.catch_up(session_factory)


def add_channel(
    session_factory: sessionmaker[Session],
    name: str,
    topics: Sequence[str],
    **fields: Any,
) -> int:
    with session_factory.begin() as s:
        channel = Channel(
            platform="slack",
            workspace="T1",
            channel=name,
            created_at=NOW - timedelta(days=30),
            **{"size": 5, **fields},
        )
        channel.subscriptions = [Subscription(topic=t, created_at=NOW) for t in topics]
        s.add(channel)
        s.flush()
        return channel.id
