"""Taste in digests: a channel's feedback re-ranks its digest candidates, papers it disliked
are left out, and lifted papers say which liked paper they are closest to.

The taste of each candidate is standardised over the candidates (so the centroids' common
closeness to every paper of a field cancels out), and moves its score by up to a few tenths of
the best candidate's score, more the more feedback there is. A channel without feedback is
not touched at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from paperbot.config import EngageSettings
from paperbot.core.digests.selection import Candidate
from paperbot.core.engage import feedback
from paperbot.core.engage.taste import TasteModel, fit, paper_weights
from paperbot.core.models import Paper

# Candidates re-scored (the best by their own score); the rest keep theirs.
RERANK_LIMIT = 400
# A standardised taste of 1 moves a paper by this share of the best score, at full evidence.
SPAN = 0.35
# Evidence (absolute feedback weight) at which taste has half its full effect.
HALF_EVIDENCE = 2.0
# Taste (standardised) above which a paper counts as lifted by it: its why line says so.
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
    examples = feedback.examples(session, channel_id)
    if not examples:
        return None
    gone = feedback.disliked(session, channel_id)
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
    z = np.clip((raw - float(raw.mean())) / spread, -3.0, 3.0)
    top = max((c.score for c in head), default=0.0)
    scale = (top if top > 0 else 1.0) * SPAN * settings.taste_weight
    scale *= model.evidence / (model.evidence + HALF_EVIDENCE)
    moved = {c.paper_id: c.score + scale * float(z[i]) for i, c in enumerate(with_vectors)}
    lifted = [c.paper_id for i, c in enumerate(with_vectors) if z[i] >= LIFTED]
    order = {c.paper_id: i for i, c in enumerate(kept)}
    out = [dataclasses.replace(c, score=moved.get(c.paper_id, c.score)) for c in kept]
    out.sort(key=lambda c: (-c.score, order[c.paper_id]))
    return Lift(out, _closest(session, model, vectors, lifted))


def _closest(
    session: Session, model: TasteModel, vectors: Mapping[int, Any], lifted: Sequence[int]
) -> dict[int, str]:
    near = {pid: model.closest_liked(np.asarray(vectors[pid], dtype=np.float32)) for pid in lifted}
    wanted = {p for p in near.values() if p is not None}
    if not wanted:
        return {}
    titles = dict(session.execute(select(Paper.id, Paper.title).where(Paper.id.in_(wanted))).all())
    return {pid: titles[p] for pid, p in near.items() if p is not None and p in titles and p != pid}
