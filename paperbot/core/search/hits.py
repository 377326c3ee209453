"""What a search engine answers: paper ids with scores in rank order, and a match count."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SearchHits:
    """Paper ids with scores in rank order, and how many papers match (maybe estimated)."""

    hits: tuple[tuple[int, float], ...]
    total: int
    semantic: bool = False  # the dense side took part in the ranking


__all__ = ["SearchHits"]
