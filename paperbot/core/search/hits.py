"""What a search engine answers: paper ids with scores in rank order, and a match count."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SearchHits:
    """Paper ids with scores in rank order, and how many papers match (maybe estimated)."""

    hits: tuple[tuple[int, float], ...]
    total: int
    semantic: bool = False  # the dense side took part in the ranking
    # The query's indexed stems each ranked paper holds, as the rerank found them (None:
    # not known, and the "why" reads the paper's text instead).
    matched: Mapping[int, frozenset[str]] | None = None


__all__ = ["SearchHits"]
