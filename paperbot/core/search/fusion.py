"""How the lexical and dense sides combine: one ranking score, and a topic relevance (0..1).

For a candidate paper (found by either side) with
  dense    = its best passage's cosine with the query (all-MiniLM: ~0.1 unrelated, ~0.6 close)
  best     = the best dense score among the candidates
  lexical  = its lexical score / the best lexical score among the candidates (0..1)
  coverage = the idf-weighted share of the query's words it contains in some form (0..1;
             a word held only as a synonym counts lexical.SYNONYM_CREDIT, a half)

  rank score = dense + LEXICAL_WEIGHT · best · coverage · lexical

so a paper matching every rare word of a keyword or acronym query (which the lexical side
ranks well) is lifted by up to LEXICAL_WEIGHT · best (about 0.4), while for a long
plain-language query a partial word match adds little and the meaning decides. Scaling the
word matches by the best cosine puts both sides relative to their best candidate (CombSUM of
max-normalised scores): a query the model reads poorly (best cosine ~0.6) leans less on
stray word matches than a constant weight would. On the judged queries (against a constant
0.5): tuning split 0.910 -> 0.914 (paraphrases 0.824 -> 0.845), held-out 0.907 -> 0.916
(paraphrases 0.863 -> 0.868); short keyword and typo queries lose a little (typo 0.978 ->
0.975 / 0.957 -> 0.952). Weights 0.55-0.65 all do about as well.
A paper holding none of the query's words is shown only from a cosine of DENSE_FLOOR (0.25):
below it, it is unrelated. A paper without vectors yet (the backfill has not reached it)
counts the candidates' mean dense score.

A topic's relevance is a calibrated probability that the paper is on the topic, fitted by
logistic regression on the judged queries' tuning split (tests/data/judged_queries.jsonl:
every (query, sample paper) pair, relevant or not; fitted before synonym-only matches counted
half), separately for short topics (up to three words: keywords, acronyms) and long ones
(plain language), since meaning tells more for the second:

  relevance = 1 / (1 + exp(-(a·dense + b·coverage·lexical + c·coverage + d)))

  short topics: a, b, c, d = 5.5, 7.5, 1.1, -7.0   (lexical only: -, 8.1, 1.8, -5.8)
  long topics:  a, b, c, d = 14.2, 6.5, 0, -9.5    (lexical only: -, 8.7, 3.3, -5.9)

so a four-word topic is matched by meaning alone from a cosine of about 0.65, and a short one
needs most of its words. On the tuning split, a 0.45 threshold keeps 84% / 71% of the papers
it selects relevant (precision) for short / long topics, and finds 65% / 39% of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

LEXICAL_WEIGHT = 0.6
# A cosine below this says a paper is unrelated (see hybrid.py).
DENSE_FLOOR = 0.25
# Partial word matches count in proportion: a power of 2 (a 30% match adding 9% of the
# weight) raised the tuning split but cost held-out typo queries (0.957 -> 0.930).
COVERAGE_POWER = 1.0
# Topic relevance (see above): (dense, coverage·lexical, coverage, bias) per topic length.
TOPIC_SHORT, TOPIC_LONG, LONG_TOPIC_WORDS = (5.5, 7.5, 1.1, -7.0), (14.2, 6.5, 0.0, -9.5), 4
TOPIC_LEXICAL_ONLY = {False: (8.1, 1.8, -5.8), True: (8.7, 3.3, -5.9)}


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
    # A full word match is worth a share of the best candidate's cosine (both sides relative
    # to their best), so a query the model reads poorly is not ruled by stray word matches.
    weight = LEXICAL_WEIGHT * max(max(dense.values(), default=1.0), DENSE_FLOOR)
    fallback = sum(dense.values()) / len(dense) if dense else 0.0
    scored = [
        (
            pid,
            dense.get(pid, fallback)
            + weight
            * coverage.get(pid, 0.0) ** COVERAGE_POWER
            * max(0.0, lexical.get(pid, 0.0))
            / top,
        )
        for pid in candidates
    ]
    return sorted(scored, key=lambda item: -item[1])


def topic_relevance(dense: float | None, lexical: float, coverage: float, words: int) -> float:
    """Probability-like relevance of a paper to a topic of `words` query words (dense None:
    the paper has no vectors, or there is no model)."""
    long = words >= LONG_TOPIC_WORDS
    if dense is None:
        b, c, d = TOPIC_LEXICAL_ONLY[long]
        z = b * coverage * lexical + c * coverage + d
    else:
        a, b, c, d = TOPIC_LONG if long else TOPIC_SHORT
        z = a * dense + b * coverage * lexical + c * coverage + d
    return 1.0 / (1.0 + math.exp(-z))


__all__ = ["LEXICAL_WEIGHT", "fuse", "topic_relevance"]
