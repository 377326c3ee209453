"""The search grammar: user text -> SearchQuery (words, phrases, exclusions, filters, page)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from paperbot.core.commands import ParseError, clean_text
from paperbot.core.limits import MAX_QUERY_CHARS, SEARCH_PAGE
from paperbot.core.search.analysis import analyze

MAX_PAGE = SEARCH_PAGE.high
AUTHOR_FIELDS = frozenset({"author", "authors", "by"})
CATEGORY_FIELDS = frozenset({"cat", "cats", "category", "categories"})
SINCE_FIELDS = frozenset({"since", "after"})
# Fields whose value may follow after a space (`author: hinton`).
NAMED_FIELDS = AUTHOR_FIELDS | CATEGORY_FIELDS
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
    pending = ""  # a field whose value did not follow its colon
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
        if pending and not raw and value and not negated:  # `author: hinton`
            name, pending = pending, ""
        elif pending:
            notes.append(_empty_field(pending))
            pending = ""
        if name in NAMED_FIELDS and not value and not negated:
            # Its value may follow a space; alone, it once searched the word "author".
            pending = name
        elif name in AUTHOR_FIELDS and value and not negated:
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
        elif name == "page" and value.isdecimal() and not negated:
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
    if pending:
        notes.append(_empty_field(pending))
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


def _empty_field(name: str) -> str:
    example = "author:lecun" if name in AUTHOR_FIELDS else "cat:cs.CL"
    return f"`{name[:20]}:` needs a value after it, e.g. {example}."


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


__all__ = ["MAX_PAGE", "QueryTooLong", "SearchQuery", "parse_query"]
