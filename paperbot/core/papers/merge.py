"""How one source's view of a paper folds into the stored row (pure: no database).

Each group of fields has the sources that know it best, ranked. A source overwrites a stored
value only when no higher-ranked source has reported the paper; otherwise it only fills what
is empty. So a JSONL file never lowers Hugging Face's upvotes or renames an arXiv paper, and
re-ingesting it never erases what another source brought. Unlisted sources (file, sample)
rank lowest; the result does not depend on the order in which sources arrive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from paperbot.core.papers.sources.base import PaperIn

DESCRIPTIVE = ("title", "abstract", "authors", "categories", "published", "url", "pdf_url")
CURATED = ("github_repo", "project_page", "thumbnail", "ai_summary", "ai_keywords", "organization")
SIGNALS = ("upvotes", "comments", "github_stars")
FILL_ONLY = ("arxiv_id",)
MERGED = (*DESCRIPTIVE, *FILL_ONLY, *CURATED, *SIGNALS, "announced", "sources")
_COPIED = (*DESCRIPTIVE, *FILL_ONLY, *CURATED, *SIGNALS)

# arXiv is the paper's own record; Hugging Face curates links, summaries and thumbnails and is
# the only source that measures signals; both announce papers on a day (the earliest wins).
DESCRIBES = {"arxiv": 3, "hf": 2}
CURATES = {"hf": 3, "arxiv": 2}
MEASURES = {"hf": 2}
ANNOUNCES = {"hf": 2, "arxiv": 2}
_GROUPS: tuple[tuple[tuple[str, ...], Mapping[str, int]], ...] = (
    (DESCRIPTIVE, DESCRIBES),
    (CURATED, CURATES),
    (SIGNALS, MEASURES),
)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def rank(ranks: Mapping[str, int], source: str) -> int:
    return ranks.get(source, 1)


def leads(ranks: Mapping[str, int], source: str, sources: Iterable[str]) -> bool:
    """True when no source in `sources` outranks `source` for this group of fields."""
    own = rank(ranks, source)
    return all(rank(ranks, other) <= own for other in sources)


def owns_signals(source: str, sources: Iterable[str]) -> bool:
    """Whether a source's signals (and snapshots) count for a paper these sources reported."""
    return leads(MEASURES, source, sources)


def merge(row: dict[str, Any], paper: PaperIn) -> bool:
    """Fold one source's view into a stored row (in place); True if anything changed."""
    before = {name: row[name] for name in MERGED}
    known = row["sources"]
    for names, ranks in _GROUPS:
        overwrite = leads(ranks, paper.source, known)
        for name in names:
            value = getattr(paper, name)
            if value is None or (_empty(value) and name not in SIGNALS):
                continue
            if overwrite or _empty(row[name]):
                row[name] = value
    for name in FILL_ONLY:
        value = getattr(paper, name)
        if not _empty(value) and _empty(row[name]):
            row[name] = value
    _merge_announced(row, paper, known)
    if paper.source not in known:
        row["sources"] = sorted([*known, paper.source])
    return any(row[name] != before[name] for name in MERGED)


def _merge_announced(row: dict[str, Any], paper: PaperIn, known: list[str]) -> None:
    # A file's day is only a fallback (its `published`, or the ingest day): a feed's real
    # announcement replaces it; between feeds the earliest day wins.
    if paper.announced is None:
        return
    own = rank(ANNOUNCES, paper.source)
    best = max((rank(ANNOUNCES, s) for s in known), default=0)
    earlier = row["announced"] is None or paper.announced < row["announced"]
    if own > best or (own == best and earlier) or row["announced"] is None:
        row["announced"] = paper.announced


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


__all__ = ["MERGED", "merge", "new_row", "owns_signals"]
