"""The lexical index's schema, and one SQL paper row -> one tantivy document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import tantivy
from tantivy import Document, SchemaBuilder

from paperbot.core.models import Paper
from paperbot.core.search.analysis import NAME_TOKENIZER, TEXT_TOKENIZER, fold
from paperbot.core.search.pairs import PAIR_FIELD, text_pairs

# Bump when the schema or the analysis changes: an index with another stamp is rebuilt.
SCHEMA_VERSION = 4
# Filter-only searches list papers by this key: the day, then the newest paper (the higher
# id) first. Ordering by the day alone left one day's papers in the index's own order, which
# a rebuild's writer threads shuffle: two replicas paged the same search differently.
ID_BITS = 32


def build_schema() -> tantivy.Schema:
    sb = SchemaBuilder()
    sb.add_integer_field("id", stored=True, indexed=True, fast=True)
    sb.add_text_field("title", stored=True, tokenizer_name=TEXT_TOKENIZER)
    sb.add_text_field("keywords", tokenizer_name=TEXT_TOKENIZER)
    sb.add_text_field("abstract", tokenizer_name=TEXT_TOKENIZER)
    sb.add_text_field("authors", tokenizer_name=NAME_TOKENIZER)
    sb.add_text_field("cats", tokenizer_name="raw", index_option="basic")
    sb.add_integer_field("day", indexed=True, fast=True)
    sb.add_integer_field("newest", fast=True)
    # Adjacent common words, one term per pair: fast phrases of common words (pairs.py).
    sb.add_text_field(PAIR_FIELD, tokenizer_name="raw", index_option="basic")
    return sb.build()


COLUMNS = (
    Paper.id,
    Paper.change_seq,
    Paper.title,
    Paper.abstract,
    Paper.ai_summary,
    Paper.ai_keywords,
    Paper.authors,
    Paper.categories,
    Paper.announced,
    Paper.published,
    Paper.first_seen_at,
)


def day_number(day: date) -> int:
    return day.toordinal()


def paper_day(announced: date | None, published: date | None, first_seen: datetime | None) -> int:
    """The day a paper counts from for since: filters (announced, else published, else seen)."""
    day = announced or published or (first_seen.date() if first_seen else None)
    return day_number(day) if day else 0


def _categories(cats: Sequence[str]) -> list[str]:
    out: list[str] = []
    for cat in cats or ():
        cat = cat.strip().lower()
        if cat:
            out.append(cat)
            # "cat:cs" finds every cs.* paper.
            out.append(cat.split(".", 1)[0])
    return list(dict.fromkeys(out))


def document(row: Mapping[Any, Any]) -> Document:
    title = fold(row["title"] or "")
    keywords = fold(" ".join(row["ai_keywords"] or ()))
    abstract = fold(" ".join(filter(None, (row["abstract"], row["ai_summary"]))))
    day = paper_day(row["announced"], row["published"], row.get("first_seen_at"))
    return Document(
        id=row["id"],
        title=title,
        keywords=keywords,
        abstract=abstract,
        authors=[a for a in (row["authors"] or ()) if a] or [""],
        cats=_categories(row["categories"] or ()) or [""],
        day=day,
        newest=(day << ID_BITS) | row["id"],
        **{PAIR_FIELD: text_pairs((title, keywords, abstract)) or [""]},
    )


__all__ = ["COLUMNS", "SCHEMA_VERSION", "build_schema", "day_number", "document", "paper_day"]
