"""What gets embedded: a paper's title with windows of its abstract, and int8 vector storage.

Each passage is the title followed by three abstract sentences (windows overlap by one), so
a query about one part of a long abstract meets a passage about that part; a paper's score
is its best passage. Vectors are stored as int8 (unit vectors scaled by 127).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

WINDOW, STRIDE, MAX_PASSAGES = 3, 2, 8
SCALE = 127.0
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[0-9])")


def passages(title: str, abstract: str) -> list[str]:
    """The texts embedded for one paper (at least the title)."""
    title = " ".join((title or "").split())
    sentences = [s for s in _SENTENCE.split(" ".join((abstract or "").split())) if s]
    if not sentences:
        return [title or "untitled"]
    out: list[str] = []
    for start in range(0, len(sentences), STRIDE):
        window = " ".join(sentences[start : start + WINDOW])
        out.append(f"{title}. {window}" if title else window)
        if start + WINDOW >= len(sentences) or len(out) == MAX_PASSAGES:
            break
    return out


def text_sha(title: str, abstract: str) -> str:
    """Identifies the embedded text: a paper whose title and abstract keep it is not redone."""
    return hashlib.sha1(f"{title}\n{abstract}".encode()).hexdigest()[:16]


def quantize(vectors: np.ndarray) -> np.ndarray:
    """Unit float vectors -> int8 (about 0.4% error on a cosine)."""
    return np.clip(np.rint(vectors * SCALE), -127, 127).astype(np.int8)


def dequantize(vectors: np.ndarray) -> np.ndarray:
    return vectors.astype(np.float32) / SCALE


def centroid(vectors: np.ndarray) -> np.ndarray:
    """One unit vector for a paper: the normalised mean of its passages (int8 in and out)."""
    mean = dequantize(vectors).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return quantize(mean / norm if norm else mean)


def to_blob(vectors: np.ndarray) -> bytes:
    return np.ascontiguousarray(vectors, dtype=np.int8).tobytes()


def from_blob(blob: bytes, dim: int) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.int8).reshape(-1, dim)


@dataclass(frozen=True)
class PassageBlock:
    """Some papers' passage vectors, read once and scored against any number of query vectors
    (a search scores its candidates twice: before and after pseudo-relevance feedback)."""

    papers: np.ndarray  # paper ids
    counts: np.ndarray  # passages per paper, in the same order
    vectors: np.ndarray  # float32 rows, the papers' passages one after another

    def scores(self, query: np.ndarray) -> dict[int, float]:
        """Each paper's best passage cosine with a unit query vector."""
        if not len(self.papers):
            return {}
        sims = self.vectors @ query
        best = np.maximum.reduceat(sims, np.cumsum(self.counts) - self.counts)
        return dict(zip(self.papers.tolist(), best.tolist(), strict=True))


__all__ = [
    "PassageBlock",
    "centroid",
    "dequantize",
    "from_blob",
    "passages",
    "quantize",
    "text_sha",
    "to_blob",
]
