"""Synthetic embeddings for benchmarks: clustered around the sample papers' real vectors.

Random unit vectors are the worst case for a nearest-neighbour graph and nothing like real
papers, so each synthetic paper takes a real sample paper's passages plus noise (about the
spread of papers on one topic). Written straight into paper_embeddings under the bundled
model's key, so the real model's query vectors search them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import SearchSettings
from paperbot.core.models import Paper, PaperEmbedding
from paperbot.core.search.model import SentenceModel, model_files
from paperbot.core.search.passages import dequantize, quantize, to_blob
from paperbot.core.search.precomputed import sample_vectors

NOISE = 1.0
BATCH = 20_000


def bundled_key() -> str:
    return SentenceModel(model_files(SearchSettings())).key


def fill(session_factory: sessionmaker[Session], *, seed: int = 11) -> int:
    """Give every paper without vectors synthetic ones; the number written."""
    key = bundled_key()
    centers = [dequantize(v) for v in sample_vectors(key).values()]
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    written = 0
    with session_factory() as session:
        have = session.scalar(
            select(func.count()).select_from(PaperEmbedding).where(PaperEmbedding.model == key)
        )
        if have:
            return 0
        ids = session.scalars(select(Paper.id).order_by(Paper.id)).all()
    for start in range(0, len(ids), BATCH):
        rows = []
        for pid in ids[start : start + BATCH]:
            base = centers[int(rng.integers(len(centers)))]
            noisy = base + rng.normal(scale=NOISE / np.sqrt(base.shape[1]), size=base.shape)
            noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
            rows.append(
                {
                    "paper_id": pid,
                    "model": key,
                    "text_sha": "synthetic",
                    "dim": base.shape[1],
                    "vectors": to_blob(quantize(noisy.astype(np.float32))),
                    "created_at": now,
                }
            )
        with session_factory.begin() as session:
            session.execute(insert(PaperEmbedding), rows)
        written += len(rows)
    return written


__all__ = ["bundled_key", "fill"]
