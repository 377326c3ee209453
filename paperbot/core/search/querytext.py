"""The text the sentence model embeds for a parsed query."""

from __future__ import annotations

from paperbot.core.search.analysis import query_stems
from paperbot.core.search.grammar import SearchQuery
from paperbot.core.search.lexicon import ACRONYMS


def dense_text(query: SearchQuery) -> str:
    """What the model embeds for a query: its words and phrases as typed, each acronym
    followed by its expansion ("ViT" -> "ViT (vision transformer)"): the small model knows
    few acronyms."""
    words = []
    for word in (*query.terms, *query.phrases):
        expansions = [ACRONYMS[s] for s in query_stems(word) if s in ACRONYMS]
        words.append(f"{word} ({', '.join(expansions)})" if expansions else word)
    return " ".join(words).strip()


__all__ = ["dense_text"]
