"""How the lexical and dense sides combine: one ranking score, and a topic relevance (0..1).

For a candidate paper (found by either side) with
  dense    = its best passage's cosine with the query (all-MiniLM: ~0.1 unrelated, ~0.6 close)
  lexical  = its lexical score / the best lexical score among the candidates (0..1)
  coverage = the idf-weighted share of the query's words it contains in some form (0..1)

  rank score = dense + LEXICAL_WEIGHT · coverage · lexical

so a paper matching every rare word of a keyword or acronym query (which the lexical side
ranks well) is lifted by up to LEXICAL_WEIGHT, while for a long plain-language query a
partial word match adds little and the meaning decides. A paper without vectors yet (the
backfill has not reached it) counts the candidates' mean dense score.

A topic's relevance is a calibrated probability that the paper is on the topic, fitted by
logistic regression on the judged queries (tests/data/judged_queries.jsonl, tuning split):

  relevance = 1 / (1 + exp(-(DENSE·dense + LEXICAL·coverage·lexical + COVER·coverage + BIAS)))
"""

from __future__ import annotations

import math
from collections.abc import Mapping

LEXICAL_WEIGHT = 0.5
# Partial word matches count less than in proportion (a 30% match adds 9% of the weight).
COVERAGE_POWER = 1.0
# Topic relevance (see above); lexical-only relevance drops the dense term.
TOPIC_DENSE, TOPIC_LEXICAL, TOPIC_COVER, TOPIC_BIAS = 12.0, 2.0, 2.0, -7.0
TOPIC_LEXICAL_ONLY = (4.0, 4.0, -5.0)


def fuse(
    dense: Mapping[int, float],
    lexical: Mapping[int, float],
    coverage: Mapping[int, float],
) -> list[tuple[int, float]]:
    """Candidates (the union of both sides) best first, with their rank scores."""
    candidates = list(dict.fromkeys([*lexical, *dense]))
    if not candidates:
        return []
    top = max(lexical.values(), default=0.0) or 1.0
    fallback = sum(dense.values()) / len(dense) if dense else 0.0
    scored = [
        (
            pid,
            dense.get(pid, fallback)
            + LEXICAL_WEIGHT
            * coverage.get(pid, 0.0) ** COVERAGE_POWER
            * max(0.0, lexical.get(pid, 0.0))
            / top,
        )
        for pid in candidates
    ]
    return sorted(scored, key=lambda item: -item[1])


def topic_relevance(dense: float | None, lexical: float, coverage: float) -> float:
    """Probability-like relevance of a paper to a topic (dense None: no vectors to use)."""
    if dense is None:
        a, b, bias = TOPIC_LEXICAL_ONLY
        z = a * coverage * lexical + b * coverage + bias
    else:
        z = TOPIC_DENSE * dense + TOPIC_LEXICAL * coverage * lexical
        z += TOPIC_COVER * coverage + TOPIC_BIAS
    return 1.0 / (1.0 + math.exp(-z))


__all__ = ["LEXICAL_WEIGHT", "fuse", "topic_relevance"]
