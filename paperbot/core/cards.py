"""Turn stored papers into the PaperCards every platform renders."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from paperbot.core.messages import PaperCard
from paperbot.core.models import Paper
from paperbot.core.papers.summaries import summarize, summarize_abstract

# Sources that say when a paper was announced; a paper known only from others (a JSONL file
# without dates) has the day paperbot first stored it as its `announced` day.
DATING_SOURCES = frozenset({"hf", "arxiv"})


def has_source_date(published: date | None, sources: Iterable[str] | None) -> bool:
    """Whether a paper's day comes from a source, not from when paperbot stored it."""
    return published is not None or bool(DATING_SOURCES.intersection(sources or ()))


_ARXIV_MONTH = re.compile(r"(?:^|/)(\d{2})(\d{2})(?:\.|\d{3})")


def arxiv_month(arxiv_id: str | None) -> date | None:
    """The month an arXiv paper was first submitted, from its id (2606.12345, cs/0112017)."""
    match = _ARXIV_MONTH.search(arxiv_id or "")
    if not match:
        return None
    yy, mm = int(match.group(1)), int(match.group(2))
    if not 1 <= mm <= 12:
        return None
    return date(2000 + yy if yy < 91 else 1900 + yy, mm, 1)


def card_summary(paper: Paper) -> str:
    """The Hugging Face AI summary when there is one, else an extractive one of the abstract."""
    if paper.ai_summary and paper.ai_summary.strip():
        return summarize(paper.ai_summary)
    return summarize_abstract(paper.abstract or "", title=paper.title or "")


def code_url(paper: Paper) -> str | None:
    repo = paper.github_repo
    if not repo:
        return None
    return repo if repo.startswith("http") else f"https://github.com/{repo}"


def to_card(paper: Paper, *, why: str = "", score: float = 0.0) -> PaperCard:
    url = paper.url or (f"https://arxiv.org/abs/{paper.arxiv_id}" if paper.arxiv_id else "")
    pdf = paper.pdf_url or (f"https://arxiv.org/pdf/{paper.arxiv_id}" if paper.arxiv_id else None)
    return PaperCard(
        key=paper.key,
        title=" ".join(paper.title.split()),
        url=url,
        authors=tuple(paper.authors or ()),
        summary=card_summary(paper),
        arxiv_id=paper.arxiv_id,
        pdf_url=pdf,
        code_url=code_url(paper),
        project_url=paper.project_page,
        thumbnail=paper.thumbnail,
        upvotes=paper.upvotes or 0,
        comments=paper.comments or 0,
        github_stars=paper.github_stars or 0,
        published=paper.published
        or (paper.announced if has_source_date(None, paper.sources) else None),
        categories=tuple(paper.categories or ()),
        why=why,
        score=score,
    )
