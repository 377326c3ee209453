"""Scoring one topic against a window's papers: lexical coverage, dense meaning, relevance."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from paperbot.core.search.analysis import analyze
from paperbot.core.search.fusion import topic_relevance
from paperbot.core.search.grammar import SearchQuery
from paperbot.core.search.lexical import Lexical
from paperbot.core.search.querytext import dense_text
from paperbot.core.search.topics import TopicHit
from paperbot.core.search.vectors import VectorIndex

# Papers of the window looked at by meaning (a 2-week window of a busy store has ~30,000);
# the best DENSE_POOL of them by centroid are scored passage by passage.
WINDOW_CAP, DENSE_POOL = 50_000, 1000
# A paper whose meaning alone gives less than this cannot clear any sensible threshold.
FLOOR = 0.05


class TopicScorer:
    """Relevance of papers to topics over one view of the lexical index and the vectors."""

    def __init__(
        self,
        lexical: Lexical,
        vectors: VectorIndex | None,
        query_vector: Callable[[str], np.ndarray | None],
    ) -> None:
        self.lexical = lexical
        self.vectors = vectors
        self.query_vector = query_vector

    def topic_hits(self, query: SearchQuery, *, limit: int) -> list[TopicHit]:
        """The window's papers with their relevance to the topic, best first (at most limit)."""
        ranked = self.lexical.ranked(query, limit=limit)
        if not query.has_text or ranked.built is None:
            return [TopicHit(pid, 1.0, 1.0) for pid, _ in ranked.hits[:limit]]
        lexical, coverage = dict(ranked.hits), dict(ranked.coverage)
        words = len(ranked.built.units)
        if query.phrases and not words:
            # A topic of quoted phrases only: every hit holds all of them, so it covers the
            # topic's words wholly (the ranked coverage counts loose words only).
            words = sum(len(analyze(p)) for p in query.phrases)
            coverage = dict.fromkeys(lexical, 1.0)
        text = dense_text(query)
        vector = self.query_vector(text) if self.vectors is not None else None
        dense: dict[int, float] = {}
        # Quoted phrases are required: papers the dense side proposes may not hold them.
        if vector is not None and self.vectors is not None and not query.phrases:
            window, _ = self.lexical.run(ranked.built.constraint, limit=WINDOW_CAP)
            rough = self.vectors.centroid_scores(vector, [pid for pid, _ in window])
            pool = sorted(rough, key=lambda pid: -rough[pid])[:DENSE_POOL]
            dense = self.vectors.scores(vector, set(pool) | set(lexical))
            promising = [
                pid
                for pid, score in dense.items()
                if pid not in lexical and topic_relevance(score, 0.0, 0.0, words) >= FLOOR
            ]
            scores, covered = self.lexical.rescore(ranked.built, promising)
            lexical.update({pid: scores.get(pid, 0.0) for pid in promising})
            coverage.update(covered)
        top = max(lexical.values(), default=0.0) or 1.0
        hits = [
            TopicHit(
                pid,
                topic_relevance(
                    dense.get(pid), max(0.0, score) / top, coverage.get(pid, 0.0), words
                ),
                coverage.get(pid, 0.0),
            )
            for pid, score in lexical.items()
        ]
        hits.sort(key=lambda h: -h.relevance)
        return hits[:limit]


__all__ = ["TopicScorer"]
