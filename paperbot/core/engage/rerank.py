"""Taste in digests: a channel's feedback re-ranks its digest candidates, papers it gave
feedback on (it saw them: liked, disliked, shared...) are left out, and lifted papers say which
liked paper they are closest to.

Ranks, not raw scores, are blended (trending scores are heavy-tailed, taste is a cosine): each
of the best candidates gets its percentile by its own score and by the channel's taste, and the
two are mixed with a weight that grows with the feedback behind the taste (up to MIX at
full evidence, times engage.taste_weight). A channel without feedback is not touched at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from paperbot.config import EngageSettings
from paperbot.core.digests.selection import Candidate
from paperbot.core.engage import feedback
from paperbot.core.engage.taste import TasteModel, fit, paper_weights
from paperbot.core.models import Paper

# Candidates re-ranked (the best by their own score); the rest follow them, as they were.
RERANK_LIMIT = 400
# The taste's share of the blend at full evidence (engage.taste_weight 1).
MIX = 0.8
# Evidence (absolute feedback weight) at which taste has half its full share.
HALF_EVIDENCE = 2.0
# Taste (standardised over the candidates) from which a paper counts as lifted by it.
LIFTED = 0.5

VectorsOf = Callable[[Sequence[int]], Mapping[int, Any]]


@dataclass(frozen=True)
class Lift:
    ranked: list[Candidate]
    # Lifted paper -> the title of the liked paper it is closest to.
    liked: dict[int, str]


def lift(
    session: Session,
    channel_id: int,
    ranked: Sequence[Candidate],
    vectors_of: VectorsOf | None,
    *,
    now: datetime,
    settings: EngageSettings,
) -> Lift | None:
    """The candidates re-ranked by the channel's taste; None when it gave no feedback."""
    # Ten half-lives on, a piece of feedback weighs under a thousandth: left out.
    since = now - timedelta(days=10 * settings.half_life_days)
    examples = feedback.examples(session, channel_id, since)
    if not examples:
        return None
    # The channel saw every paper it gave feedback on (a disliked one never comes back).
    gone = {example.paper_id for example in examples}
    kept = [c for c in ranked if c.paper_id not in gone]
    weights = paper_weights(
        examples, now=now, half_life_days=settings.half_life_days, weak=settings.weak_weight
    )
    head = kept[:RERANK_LIMIT]
    if vectors_of is None or not head or settings.taste_weight <= 0:
        return Lift(kept, {})
    vectors = vectors_of([*weights, *(c.paper_id for c in head)])
    model = fit(weights, vectors)
    with_vectors = [c for c in head if c.paper_id in vectors]
    if model is None or len(with_vectors) < 2:
        return Lift(kept, {})
    matrix = np.stack([np.asarray(vectors[c.paper_id], dtype=np.float32) for c in with_vectors])
    raw = model.scores(matrix)
    spread = float(raw.std())
    if spread < 1e-6:
        return Lift(kept, {})
    z = {c.paper_id: float(raw[i] - raw.mean()) / spread for i, c in enumerate(with_vectors)}
    share = min(1.0, MIX * settings.taste_weight)
    share *= model.evidence / (model.evidence + HALF_EVIDENCE)
    by_score = percentiles([c.score for c in head])
    # Papers without a vector sit in the middle of the taste order.
    by_taste = percentiles([z.get(c.paper_id, 0.0) for c in head])
    top = max(c.score for c in head)
    unit = top if top > 0 else 1.0
    blended = [
        dataclasses.replace(c, score=unit * ((1 - share) * by_score[i] + share * by_taste[i]))
        for i, c in enumerate(head)
    ]
    order = {c.paper_id: i for i, c in enumerate(head)}
    blended.sort(key=lambda c: (-c.score, order[c.paper_id]))
    lifted = [pid for pid, value in z.items() if value >= LIFTED]
    return Lift(blended + kept[len(head) :], _closest(session, model, vectors, lifted))


def percentiles(values: Sequence[float]) -> list[float]:
    """Each value's rank as a share of 0..1 (1: the largest), ties sharing their mean rank."""
    n = len(values)
    if n <= 1:
        return [1.0] * n
    array = np.asarray(values, dtype=np.float64)
    _, inverse = np.unique(array, return_inverse=True)
    order = np.argsort(array, kind="stable")
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.arange(n, dtype=np.float64)
    mean_rank = np.bincount(inverse, weights=ranks) / np.bincount(inverse)
    return [float(r) for r in mean_rank[inverse] / (n - 1)]


def _closest(
    session: Session, model: TasteModel, vectors: Mapping[int, Any], lifted: Sequence[int]
) -> dict[int, str]:
    near = {pid: model.closest_liked(np.asarray(vectors[pid], dtype=np.float32)) for pid in lifted}
    wanted = {p for p in near.values() if p is not None}
    if not wanted:
        return {}
    titles = dict(session.execute(select(Paper.id, Paper.title).where(Paper.id.in_(wanted))).all())
    return {pid: titles[p] for pid, p in near.items() if p is not None and p in titles and p != pid}
