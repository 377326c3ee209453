"""The search use cases: a user's search and "more like this", as cards with a "why"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core import db
from paperbot.core.cards import to_card
from paperbot.core.messages import PaperCard
from paperbot.core.models import Paper
from paperbot.core.search.analysis import analyze, query_stems, stop_stems
from paperbot.core.search.grammar import MAX_PAGE, SearchQuery, parse_query
from paperbot.core.search.hits import SearchHits
from paperbot.core.search.refs import normalize_paper_ref


class Searcher(Protocol):
    """What the use cases need from a search engine (lexical or hybrid)."""

    def search(self, query: SearchQuery, *, limit: int, offset: int = ...) -> SearchHits: ...

    def more_like_this(
        self, paper_id: int, *, limit: int, text: dict[str, str] | None = ...
    ) -> list[tuple[int, float]]: ...


@dataclass(frozen=True)
class SearchResult:
    """One page of search results."""

    cards: tuple[PaperCard, ...]
    total: int
    page: int
    has_next: bool
    query: SearchQuery = field(default_factory=SearchQuery)

    @property
    def notes(self) -> tuple[str, ...]:
        return self.query.notes


def search_papers(
    session_factory: sessionmaker[Session],
    index: Searcher,
    text: str,
    *,
    page: int = 1,
    page_size: int = 5,
    now: datetime,
) -> SearchResult:
    """Run a user's search: parse, query the index, load the hits' rows, build cards."""
    query = parse_query(text, now=now)
    page = min(max(query.page or page, 1), MAX_PAGE)
    hits = index.search(query, limit=page_size + 1, offset=(page - 1) * page_size)
    shown = hits.hits[:page_size]
    papers = _load(session_factory, [pid for pid, _ in shown])
    cards = tuple(
        to_card(
            papers[pid],
            why=explain_match(
                query,
                papers[pid],
                semantic=hits.semantic,
                stems=None if hits.matched is None else hits.matched.get(pid, frozenset()),
            ),
            score=score,
        )
        for pid, score in shown
        if pid in papers
    )
    return SearchResult(
        cards=cards,
        total=max(hits.total, (page - 1) * page_size + len(hits.hits)),
        page=page,
        has_next=len(hits.hits) > page_size,
        query=query,
    )


def similar_papers(
    session_factory: sessionmaker[Session],
    index: Searcher,
    paper_ref: str,
    *,
    limit: int,
    now: datetime,
) -> tuple[PaperCard | None, list[PaperCard]]:
    """Papers like one paper (given by arXiv id, arXiv URL or paper key); (None, []) if unknown."""
    del now  # part of the use-case signature; similarity does not depend on the clock
    ref = normalize_paper_ref(paper_ref)
    if not ref:
        return None, []
    with db.snapshot(session_factory) as session:
        paper = session.scalars(
            select(Paper).where(or_(Paper.arxiv_id == ref, Paper.key == ref)).limit(1)
        ).first()
    if paper is None:
        return None, []
    hits = index.more_like_this(paper.id, limit=limit, text=paper_text(paper))
    papers = _load(session_factory, [pid for pid, _ in hits])
    cards = [
        to_card(papers[pid], why=f"similar to {ref}", score=score)
        for pid, score in hits
        if pid in papers
    ]
    return to_card(paper), cards


def paper_text(paper: Paper) -> dict[str, str]:
    """A paper's searchable text by index field."""
    return {
        "title": paper.title or "",
        "keywords": " ".join(paper.ai_keywords or ()),
        "abstract": " ".join(filter(None, (paper.abstract, paper.ai_summary))),
    }


def explain_match(
    query: SearchQuery,
    paper: Paper,
    *,
    semantic: bool = False,
    stems: frozenset[str] | None = None,
) -> str:
    """A short "why": which of the query's words the paper contains (stopwords aside), or
    "matches by meaning" when it has none of them and the dense side found it. `stems`: the
    query's stems the paper holds, if the ranking found them (else its text is read)."""
    stop = stop_stems()
    words = [
        w for w in (*query.terms, *query.phrases) if any(s not in stop for s in query_stems(w))
    ]
    if not words:
        return ""
    if stems is None:
        held = set(analyze(" ".join(paper_text(paper).values())))
    else:  # the rerank scores no stopword alone: count those as there
        held = set(stems) | stop
    matched = [w for w in words if (s := query_stems(w)) and all(x in held for x in s)]
    if matched:
        return "matches: " + ", ".join(w[:40] for w in matched[:5])
    return "matches by meaning" if semantic else ""


def _load(session_factory: sessionmaker[Session], ids: list[int]) -> dict[int, Paper]:
    if not ids:
        return {}
    with db.snapshot(session_factory) as session:
        rows = session.scalars(select(Paper).where(Paper.id.in_(ids))).all()
    return {p.id: p for p in rows}


__all__ = [
    "SearchResult",
    "Searcher",
    "explain_match",
    "paper_text",
    "search_papers",
    "similar_papers",
]
