"""The search grammar (user text -> SearchQuery) and the search / more-like-this use cases."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.cards import to_card
from paperbot.core.commands import MAX_QUERY_CHARS, ParseError, clean_text
from paperbot.core.messages import PaperCard
from paperbot.core.models import Paper
from paperbot.core.textnorm import analyze, query_stems

if TYPE_CHECKING:
    from paperbot.core.index import SearchIndex

MAX_PAGE = 50
AUTHOR_FIELDS = frozenset({"author", "authors", "by"})
CATEGORY_FIELDS = frozenset({"cat", "cats", "category", "categories"})
SINCE_FIELDS = frozenset({"since", "after"})
# A quoted run (optionally negated or after a field name), else one whitespace-free chunk.
_TOKEN = re.compile(r'(-?)(?:([A-Za-z]+):)?"([^"]*)"|(\S+)')
_SINCE_REL = re.compile(
    r"^(\d{1,6})\s*(d|day|days|w|wk|week|weeks|m|mo|month|months|y|yr|year|years)$"
)
_SINCE_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"'})
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


class QueryTooLong(ParseError):
    """A query over MAX_QUERY_CHARS: not run, the user is told why."""


@dataclass(frozen=True)
class SearchQuery:
    """A parsed query. Words and phrases are as typed; the index analyses them."""

    terms: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    excluded_terms: tuple[str, ...] = ()
    excluded_phrases: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    since: date | None = None
    page: int | None = None
    # Friendly remarks about parts we could not use (e.g. a bad since: value).
    notes: tuple[str, ...] = ()

    @property
    def has_text(self) -> bool:
        """True when there is something to rank by (words or phrases)."""
        return bool(self.terms or self.phrases)

    @property
    def is_empty(self) -> bool:
        """Nothing to search for and nothing to filter by."""
        return not (
            self.has_text
            or self.excluded_terms
            or self.excluded_phrases
            or self.authors
            or self.categories
            or self.since
        )


def parse_query(text: str, *, now: datetime) -> SearchQuery:
    """Parse user text; never raises except QueryTooLong (over MAX_QUERY_CHARS characters)."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryTooLong(
            f"That query is {len(text)} characters long; please keep it under {MAX_QUERY_CHARS}."
        )
    text = clean_text(text.translate(_QUOTES))
    terms: list[str] = []
    phrases: list[str] = []
    ex_terms: list[str] = []
    ex_phrases: list[str] = []
    authors: list[str] = []
    cats: list[str] = []
    notes: list[str] = []
    since: date | None = None
    page: int | None = None
    for match in _TOKEN.finditer(text):
        neg, fname, quoted, chunk = match.groups()
        if chunk is None:
            raw, value, negated, was_quoted = fname or "", quoted.strip(), bool(neg), True
        else:
            negated = chunk.startswith("-") and len(chunk) > 1
            body = chunk[1:] if negated else chunk
            raw, sep, value = body.partition(":")
            if not sep or not raw.isalpha():
                raw, value = "", body
            value = value.replace('"', "").strip()
            was_quoted = False
        name = raw.lower()
        if name in AUTHOR_FIELDS and value and not negated:
            authors.append(value)
        elif name in CATEGORY_FIELDS and value and not negated:
            cats.extend(c.lower() for c in value.split(",") if c.strip())
        elif name in SINCE_FIELDS and not negated:
            parsed = _parse_since(value, now)
            if parsed is None:
                notes.append(
                    f"I ignored `since:{value[:20]}`: use e.g. since:7d, since:2w or"
                    " since:2026-11-01."
                )
            else:
                since = parsed
        elif name == "page" and value.isdigit() and not negated:
            page = min(max(int(value[:4]), 1), MAX_PAGE)
        else:
            words = f"{raw} {value}".strip() if raw else value
            if not analyze(words):
                continue
            if was_quoted and len(analyze(words)) > 1:
                (ex_phrases if negated else phrases).append(words)
            elif negated:
                ex_terms.append(words)
            else:
                terms.append(words)
    return SearchQuery(
        terms=tuple(terms),
        phrases=tuple(phrases),
        excluded_terms=tuple(ex_terms),
        excluded_phrases=tuple(ex_phrases),
        authors=tuple(authors),
        categories=tuple(dict.fromkeys(cats)),
        since=since,
        page=page,
        notes=tuple(notes),
    )


def _parse_since(value: str, now: datetime) -> date | None:
    value = value.strip().lower()
    today = now.date()
    if value == "today":
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    rel = _SINCE_REL.match(value)
    if rel:
        days = int(rel.group(1)) * _UNIT_DAYS[rel.group(2)[0]]
        try:
            return today - timedelta(days=days)
        except OverflowError:
            return date.min
    absolute = _SINCE_DATE.match(value)
    if absolute:
        try:
            return date(*(int(g) for g in absolute.groups()))
        except ValueError:
            return None
    return None


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
    index: SearchIndex,
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
        to_card(papers[pid], why=explain_match(query, papers[pid]), score=score)
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
    index: SearchIndex,
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
    with session_factory() as session:
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


_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf|html)/([^\s?#]+?)(?:\.pdf)?/?(?:[?#].*)?$", re.I)
_ARXIV_VERSION = re.compile(r"^(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})v\d+$", re.I)
_HF_URL = re.compile(r"huggingface\.co/papers/([^\s?#/]+)", re.I)


def normalize_paper_ref(ref: str) -> str:
    """An arXiv URL, "arXiv:2401.01234v2" or "2401.01234v2" -> "2401.01234"; keys unchanged."""
    ref = clean_text(ref).strip("<>").strip()
    for pattern in (_ARXIV_URL, _HF_URL):
        match = pattern.search(ref)
        if match:
            ref = match.group(1)
            break
    if ref.lower().startswith("arxiv:"):
        ref = ref[6:]
    version = _ARXIV_VERSION.match(ref)
    return version.group(1) if version else ref


def paper_text(paper: Paper) -> dict[str, str]:
    """A paper's searchable text by index field."""
    return {
        "title": paper.title or "",
        "keywords": " ".join(paper.ai_keywords or ()),
        "abstract": " ".join(filter(None, (paper.abstract, paper.ai_summary))),
    }


def explain_match(query: SearchQuery, paper: Paper) -> str:
    """A short "why": which of the query's words the paper contains."""
    words = list(query.terms) + list(query.phrases)
    if not words:
        return ""
    text = paper_text(paper)
    stems = set(analyze(" ".join(text.values())))
    matched = [w for w in words if (s := query_stems(w)) and all(x in stems for x in s)]
    return "matches: " + ", ".join(w[:40] for w in matched[:5]) if matched else ""


def _load(session_factory: sessionmaker[Session], ids: list[int]) -> dict[int, Paper]:
    if not ids:
        return {}
    with session_factory() as session:
        rows = session.scalars(select(Paper).where(Paper.id.in_(ids))).all()
    return {p.id: p for p in rows}


__all__ = [
    "QueryTooLong",
    "SearchQuery",
    "SearchResult",
    "normalize_paper_ref",
    "parse_query",
    "search_papers",
    "similar_papers",
]
