"""What a paper's fields may hold once a source reported it: printable text within caps.

Every source's PaperIn passes through `tidy` (from PaperIn itself), so the store never holds a
terminal escape, a bidi override, a NUL or a lone surrogate, nor a megabyte title, whatever
the source sent. Caps are generous for real papers: the longest arXiv titles are ~300
characters, abstracts ~2,000 (arXiv allows 1,920), author lists run to a few thousand only for
collaboration papers, whose first 500 names are plenty to show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paperbot.core.printable import printable

if TYPE_CHECKING:
    from paperbot.core.papers.sources.base import PaperIn

TITLE_CHARS = 1_000
ABSTRACT_CHARS = 20_000
SUMMARY_CHARS = 5_000
NAME_CHARS = 300  # one author, the organization
AUTHORS = 500
CATEGORIES = 50
CATEGORY_CHARS = 64
KEYWORDS = 100
KEYWORD_CHARS = 100
URL_CHARS = 2_000
# The signal columns are 32-bit integers; no real count comes near.
MAX_COUNT = 2**31 - 1

_TEXT = (("title", TITLE_CHARS), ("abstract", ABSTRACT_CHARS), ("ai_summary", SUMMARY_CHARS),
         ("organization", NAME_CHARS))  # fmt: skip
_LISTS = (("authors", AUTHORS, NAME_CHARS), ("categories", CATEGORIES, CATEGORY_CHARS),
          ("ai_keywords", KEYWORDS, KEYWORD_CHARS))  # fmt: skip
_URLS = ("url", "pdf_url", "github_repo", "project_page", "thumbnail")
_COUNTS = ("upvotes", "comments", "github_stars")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters; a cut text ends with an ellipsis so readers see the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _text(value: str, limit: int) -> str:
    # isprintable() is checked here, not only inside printable(): tidy runs on every field of
    # every paper, and a call saved per field is measurable on a million-paper file.
    if not value.isprintable():
        value = printable(value)
    return value if len(value) <= limit else clip(value, limit)


def _texts(values: list[str], count: int, limit: int) -> list[str]:
    kept = []
    for value in values[:count]:
        if isinstance(value, str) and (text := _text(value, limit)):
            kept.append(text)
    return kept


def _url(value: str | None) -> str | None:
    if not value:
        return None
    text = printable(value)
    # A clipped URL would point somewhere else; a URL with spaces is not one.
    return text if text and len(text) <= URL_CHARS and " " not in text else None


def tidy(paper: PaperIn) -> None:
    """Make one paper's fields printable and within caps (in place)."""
    for name, limit in _TEXT:
        value = getattr(paper, name)
        if value:
            setattr(paper, name, _text(value, limit))
    for name, count, limit in _LISTS:
        values = getattr(paper, name)
        if values:
            setattr(paper, name, _texts(values, count, limit))
    for name in _URLS:
        value = getattr(paper, name)
        if value is not None:
            setattr(paper, name, _url(value))
    for name in _COUNTS:
        value = getattr(paper, name)
        if value is not None and not 0 <= value <= MAX_COUNT:
            setattr(paper, name, max(0, min(value, MAX_COUNT)))


__all__ = ["ABSTRACT_CHARS", "AUTHORS", "TITLE_CHARS", "URL_CHARS", "clip", "tidy"]
