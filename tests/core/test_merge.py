"""Merging sources: signals belong to who measures them, richer text wins, nothing is erased.

The recorded Hugging Face day (tests/fixtures) and a user's JSONL row for the same arXiv id,
ingested in both orders through the real ingest paths, must give the same stored paper.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fakes.sources import hf_items
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.models import Paper, SignalSnapshot
from paperbot.core.papers.ingest import ingest, ingest_file
from paperbot.core.papers.sources import hf
from paperbot.core.papers.sources.base import PaperIn

NOW = datetime(2026, 6, 13, 8, 0, tzinfo=UTC)
MSA = "2606.13392"  # 103 upvotes, 4 comments, 251 stars, a thumbnail, an AI summary
ROW = {
    "title": "my notes on MSA",
    "abstract": "Short note.",
    "arxiv_id": f"{MSA}v2",
    "authors": ["Me"],
    "categories": ["cs.CL"],
    "published": "2026-06-01",
    "url": "https://example.org/msa",
    "upvotes": 3,
}
KEPT = ("title", "abstract", "authors", "categories", "upvotes", "comments", "github_stars",
        "github_repo", "thumbnail", "ai_summary", "ai_keywords", "organization", "url",
        "announced", "published", "sources")  # fmt: skip


def write_row(tmp_path: Path, row: dict[str, Any]) -> Path:
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    return path


def ingest_hf(factory: sessionmaker[Session], now: datetime = NOW) -> None:
    ingest(factory, hf.parse_daily_papers(hf_items()), source="hf", now=now)


def stored(factory: sessionmaker[Session]) -> dict[str, Any]:
    with factory() as s:
        paper = s.scalar(select(Paper).where(Paper.key == MSA))
        assert paper is not None
        return {name: getattr(paper, name) for name in KEPT}


def snapshots(factory: sessionmaker[Session]) -> list[tuple[str, int]]:
    with factory() as s:
        rows = s.execute(
            select(SignalSnapshot.source, SignalSnapshot.upvotes)
            .join(Paper)
            .where(Paper.key == MSA)
            .order_by(SignalSnapshot.id)
        )
        return [(source, upvotes) for source, upvotes in rows]


@pytest.mark.parametrize("order", ["hf-then-file", "file-then-hf"])
def test_a_file_never_replaces_what_hugging_face_measured_or_described(
    tmp_path: Path, session_factory: sessionmaker[Session], order: str
) -> None:
    path = write_row(tmp_path, ROW)
    if order == "hf-then-file":
        ingest_hf(session_factory)
        ingest_file(session_factory, path, now=NOW)
    else:
        ingest_file(session_factory, path, now=NOW)
        ingest_hf(session_factory)
    paper = stored(session_factory)
    hf_msa = next(p for p in hf.parse_daily_papers(hf_items()) if p.key == MSA)
    assert (paper["upvotes"], paper["comments"], paper["github_stars"]) == (103, 4, 251)
    assert paper["title"] == hf_msa.title and paper["abstract"] == hf_msa.abstract
    assert paper["authors"] == hf_msa.authors
    assert paper["thumbnail"] and paper["ai_summary"] and paper["github_repo"]
    # What only the file knew fills the gaps; the paper reached a feed on the HF day.
    assert paper["categories"] == ["cs.CL"] and paper["url"] == "https://example.org/msa"
    assert paper["announced"] == date(2026, 6, 12) and paper["sources"] == ["file", "hf"]
    # Once Hugging Face has the paper, a file records no more snapshots of its own.
    expected = ["hf"] if order == "hf-then-file" else ["file", "hf"]
    assert [source for source, _ in snapshots(session_factory)] == expected


def test_both_orders_store_the_same_paper(
    tmp_path: Path, make_settings: Any, session_factory: sessionmaker[Session]
) -> None:
    path = write_row(tmp_path, ROW)
    ingest_hf(session_factory)
    ingest_file(session_factory, path, now=NOW)
    first = stored(session_factory)
    with session_factory.begin() as s:
        for model in (SignalSnapshot, Paper):
            s.query(model).delete()
    ingest_file(session_factory, path, now=NOW)
    ingest_hf(session_factory)
    assert stored(session_factory) == first


def test_reingesting_the_file_changes_nothing_and_erases_nothing(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    ingest_hf(session_factory)
    ingest_file(session_factory, write_row(tmp_path, ROW), now=NOW)
    before = stored(session_factory)
    # The user edits the line: fewer fields, new (lower) upvotes, another title.
    sparse = {"title": "renamed", "abstract": "x", "arxiv_id": MSA, "upvotes": 0}
    later = NOW + timedelta(hours=2)
    again = ingest_file(session_factory, write_row(tmp_path, sparse), now=later).result
    assert (again.updated, again.snapshots) == (0, 0) and again.last_change_seq is None
    assert stored(session_factory) == before


def test_hugging_face_keeps_refreshing_its_own_signals(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    ingest_file(session_factory, write_row(tmp_path, ROW), now=NOW)
    ingest_hf(session_factory)
    items = hf_items()
    for item in items:
        if item["paper"]["id"] == MSA:
            item["paper"]["upvotes"] = 140
    ingest(session_factory, hf.parse_daily_papers(items), source="hf", now=NOW + timedelta(hours=1))
    assert stored(session_factory)["upvotes"] == 140
    assert snapshots(session_factory) == [("file", 3), ("hf", 103), ("hf", 140)]


def test_a_files_upvotes_count_when_no_measuring_source_has_the_paper(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    row = {"title": "Only mine", "abstract": "a", "arxiv_id": "2601.00001", "upvotes": 7}
    ingest_file(session_factory, write_row(tmp_path, row), now=NOW)
    arxiv = PaperIn(title="Only mine (arXiv)", abstract="Real abstract", arxiv_id="2601.00001",
                    categories=["cs.LG"], source="arxiv")  # fmt: skip
    ingest(session_factory, [arxiv], source="arxiv", now=NOW)
    ingest_file(session_factory, write_row(tmp_path, {**row, "upvotes": 9}), now=NOW)
    with session_factory() as s:
        paper = s.scalar(select(Paper).where(Paper.key == "2601.00001"))
        assert paper is not None
        # arXiv describes the paper; the file still owns the only signal anyone measured.
        assert paper.title == "Only mine (arXiv)" and paper.abstract == "Real abstract"
        assert paper.upvotes == 9


@pytest.mark.parametrize("file_first", [True, False])
def test_arxiv_links_win_over_a_files_whatever_the_order(
    tmp_path: Path, session_factory: sessionmaker[Session], file_first: bool
) -> None:
    row = {
        "title": "Mine",
        "abstract": "a",
        "arxiv_id": "2601.00002",
        "url": "https://blog.example/p",
    }
    arxiv = PaperIn(
        title="Theirs",
        abstract="b",
        arxiv_id="2601.00002",
        source="arxiv",
        url="https://arxiv.org/abs/2601.00002",
        pdf_url="https://arxiv.org/pdf/2601.00002",
    )
    steps = [
        lambda: ingest_file(session_factory, write_row(tmp_path, row), now=NOW),
        lambda: ingest(session_factory, [arxiv], source="arxiv", now=NOW),
    ]
    for step in steps if file_first else steps[::-1]:
        step()
    with session_factory() as s:
        paper = s.scalar(select(Paper).where(Paper.key == "2601.00002"))
        assert paper is not None
        assert (paper.url, paper.pdf_url) == (arxiv.url, arxiv.pdf_url)
