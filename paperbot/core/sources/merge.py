"""How one source's view of a paper folds into the stored row (pure: no database)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from paperbot.core.sources.base import PaperIn

# arXiv is authoritative for these; other sources fill them when empty or refresh their own.
DESCRIPTIVE = ("title", "abstract", "authors", "categories", "published")
FILL_ONLY = ("arxiv_id", "url", "pdf_url")
# Curated by Hugging Face and refined during the day: the newest non-empty value wins.
LATEST = ("github_repo", "project_page", "thumbnail", "ai_summary", "ai_keywords", "organization")
SIGNALS = ("upvotes", "comments", "github_stars")
MERGED = (*DESCRIPTIVE, *FILL_ONLY, *LATEST, *SIGNALS, "announced", "sources")
_COPIED = (*DESCRIPTIVE, *FILL_ONLY, *LATEST, *SIGNALS)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def merge(row: dict[str, Any], paper: PaperIn) -> bool:
    """Fold one source's view into a stored row (in place); True if anything changed."""
    before = {name: row[name] for name in MERGED}
    authoritative = paper.source == "arxiv" or "arxiv" not in row["sources"]
    for name in DESCRIPTIVE:
        value = getattr(paper, name)
        if not _empty(value) and (authoritative or _empty(row[name])):
            row[name] = value
    for name in FILL_ONLY:
        value = getattr(paper, name)
        if not _empty(value) and _empty(row[name]):
            row[name] = value
    for name in LATEST:
        value = getattr(paper, name)
        if not _empty(value):
            row[name] = value
    for name in SIGNALS:
        value = getattr(paper, name)
        if value is not None:
            row[name] = value
    if paper.announced is not None and (
        row["announced"] is None or paper.announced < row["announced"]
    ):
        row["announced"] = paper.announced
    if paper.source not in row["sources"]:
        row["sources"] = sorted([*row["sources"], paper.source])
    return any(row[name] != before[name] for name in MERGED)


def new_row(paper: PaperIn, now: datetime) -> dict[str, Any]:
    """A first stored row; announced falls back to the paper's date, then the ingest day."""
    row = {name: getattr(paper, name) for name in _COPIED}
    for name in SIGNALS:
        row[name] = row[name] or 0
    row.update(
        key=paper.key,
        abstract=paper.abstract or "",
        announced=paper.announced or paper.published or now.date(),
        sources=[paper.source],
        first_seen_at=now,
        updated_at=now,
    )
    return row


__all__ = ["MERGED", "merge", "new_row"]
