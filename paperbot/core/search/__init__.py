"""Search: query grammar, text analysis, the lexical index and its query engine, use cases.

Layers, each importing only those above it: lexicon -> analysis -> grammar -> expr/typos ->
querybuild -> lexical -> store/topics -> usecases. This package's names are its public surface.
"""

from __future__ import annotations

from paperbot.core.search.grammar import MAX_PAGE, QueryTooLong, SearchQuery, parse_query
from paperbot.core.search.hits import SearchHits
from paperbot.core.search.refs import normalize_paper_ref
from paperbot.core.search.store import SearchIndex
from paperbot.core.search.topics import TopicMatch
from paperbot.core.search.usecases import (
    Searcher,
    SearchResult,
    explain_match,
    paper_text,
    search_papers,
    similar_papers,
)

__all__ = [
    "MAX_PAGE",
    "QueryTooLong",
    "SearchHits",
    "SearchIndex",
    "SearchQuery",
    "SearchResult",
    "Searcher",
    "TopicMatch",
    "explain_match",
    "normalize_paper_ref",
    "paper_text",
    "parse_query",
    "search_papers",
    "similar_papers",
]
