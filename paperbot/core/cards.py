"""Turn stored papers into the PaperCards every platform renders."""

from __future__ import annotations

import re

from paperbot.core.messages import PaperCard
from paperbot.core.models import Paper

SUMMARY_CHARS = 300
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def summarize(text: str, limit: int = SUMMARY_CHARS) -> str:
    """The first sentences of a text, cut at a word boundary within `limit` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    ends = [m.start() for m in _SENTENCE_END.finditer(cut)]
    if ends and ends[-1] > limit // 2:
        return cut[: ends[-1]].rstrip()
    return cut.rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


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
        summary=summarize(paper.ai_summary or paper.abstract or ""),
        arxiv_id=paper.arxiv_id,
        pdf_url=pdf,
        code_url=code_url(paper),
        project_url=paper.project_page,
        thumbnail=paper.thumbnail,
        upvotes=paper.upvotes or 0,
        comments=paper.comments or 0,
        github_stars=paper.github_stars or 0,
        published=paper.published or paper.announced,
        categories=tuple(paper.categories or ()),
        why=why,
        score=score,
    )
