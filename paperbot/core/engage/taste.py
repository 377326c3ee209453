"""A channel's taste: class centroids of the papers it liked and disliked, with time decay.

Each paper's net weight is the sum of its feedback, each piece halved every half-life: a like
+1, a dislike -1, a weaker positive (more like this, share, discuss, a thread reply) +weak.
Papers of positive weight pull the "liked" centroid, negative ones the "disliked" one; a
paper's taste is how much closer it is to the first than to the second (cosines of unit
vectors, numpy only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from paperbot.core.engage.feedback import Example

Vector = np.ndarray


@dataclass(frozen=True)
class TasteModel:
    liked: Vector | None  # unit centroid of the papers of positive weight
    disliked: Vector | None
    # The liked papers themselves (id, unit vector), strongest first: what "liked:" names.
    examples: tuple[tuple[int, Vector], ...]
    # How much feedback stands behind it (the sum of absolute weights).
    evidence: float

    def scores(self, matrix: Vector) -> Vector:
        """Each row's (papers x dim) closeness to what the channel liked minus its closeness to
        what it disliked."""
        out = np.zeros(matrix.shape[0], dtype=np.float32)
        if self.liked is not None:
            out += matrix @ self.liked
        if self.disliked is not None:
            out -= matrix @ self.disliked
        return out

    def closest_liked(self, vector: Vector) -> int | None:
        """The liked paper this one is closest to (None: nothing liked yet)."""
        if not self.examples:
            return None
        sims = [float(vector @ v) for _, v in self.examples]
        return self.examples[int(np.argmax(sims))][0]


def paper_weights(
    examples: Iterable[Example], *, now: datetime, half_life_days: float, weak: float
) -> dict[int, float]:
    """Each paper's net, decayed weight."""
    out: dict[int, float] = {}
    for example in examples:
        age = max(0.0, (now - example.at).total_seconds() / 86_400)
        value = weak * example.value if example.weak else example.value
        out[example.paper_id] = out.get(example.paper_id, 0.0) + value * 0.5 ** (
            age / half_life_days
        )
    return out


def _unit(vector: Vector) -> Vector | None:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 1e-9 else None


def fit(weights: Mapping[int, float], vectors: Mapping[int, Vector]) -> TasteModel | None:
    """The model of these weights over the papers that have vectors; None without any."""
    known = [(pid, w) for pid, w in weights.items() if pid in vectors and abs(w) > 1e-6]
    if not known:
        return None
    dim = np.asarray(vectors[known[0][0]]).shape[-1]
    pos, neg = np.zeros(dim, dtype=np.float32), np.zeros(dim, dtype=np.float32)
    for pid, w in known:
        vector = np.asarray(vectors[pid], dtype=np.float32)
        if w > 0:
            pos += w * vector
        else:
            neg -= w * vector
    liked = sorted((p for p in known if p[1] > 0), key=lambda p: (-p[1], p[0]))
    examples = tuple((pid, np.asarray(vectors[pid], dtype=np.float32)) for pid, _ in liked)
    return TasteModel(_unit(pos), _unit(neg), examples, sum(abs(w) for _, w in known))
