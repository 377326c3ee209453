"""Choosing a digest's papers from ranked candidates: each topic's share, then by score, no
near-duplicates.

Share: `topic_share` of the slots (half by default) is split evenly among the channel's topics,
at least one slot per topic when the size allows; each topic's share goes to its best papers, a
paper counting once for every topic it matches; the remaining slots go to the best papers left.
When there are more topics than slots, the topics whose best papers score highest get them.

Near-duplicates: two papers are the same when their normalised titles are equal (case, accents,
punctuation, spacing and version suffixes such as "v2" or "(version 2)" ignored), or, when a
similarity provider is given (cosine of the papers' embeddings), when they are at least
NEAR_DUPLICATE_COSINE alike. The lower-ranked one is left out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from paperbot.core.papers.sources.base import normalize_title

# Two versions of one paper, or one paper listed by two sources, embed almost identically: on
# the bundled model the sample's one paper listed twice scores 0.954, the closest two distinct
# sample papers 0.88.
NEAR_DUPLICATE_COSINE = 0.92
_VERSION = re.compile(r"(?:\s+(?:v|version|ver)\s*\d+(?:\.\d+)?)+$")

# ids -> cosine of the two papers' embeddings, None when either has none.
Similarity = Callable[[int, int], float | None]


def vector_similarity(vectors: Mapping[int, Any]) -> Similarity:
    """Cosine of two papers from their unit vectors (None when either has none)."""

    def cosine(a: int, b: int) -> float | None:
        va, vb = vectors.get(a), vectors.get(b)
        return None if va is None or vb is None else float(va @ vb)

    return cosine


class VectorMemo:
    """One digest's paper vectors, each paper fetched once: the taste re-rank and the
    near-duplicate check ask for mostly the same candidates."""

    def __init__(self, fetch: Callable[[Sequence[int]], Mapping[int, Any]]) -> None:
        self._fetch = fetch
        self._asked: set[int] = set()
        self._known: dict[int, Any] = {}

    def __call__(self, paper_ids: Sequence[int]) -> dict[int, Any]:
        missing = [pid for pid in dict.fromkeys(paper_ids) if pid not in self._asked]
        if missing:
            self._known.update(self._fetch(missing))
            self._asked.update(missing)
        return {pid: self._known[pid] for pid in paper_ids if pid in self._known}


@dataclass(frozen=True)
class Candidate:
    """One paper that may go in a digest, with what it matched."""

    paper_id: int
    score: float
    topics: tuple[str, ...] = ()


def title_key(title: str) -> str:
    """The title as duplicates compare it: normalised, without a trailing version."""
    return _VERSION.sub("", normalize_title(title)).strip()


class DuplicateCheck:
    """Is a paper a near-duplicate of one already chosen?"""

    def __init__(
        self,
        title_of: Callable[[int], str],
        *,
        similarity: Similarity | None = None,
        min_cosine: float = NEAR_DUPLICATE_COSINE,
    ) -> None:
        self._title_of = title_of
        self._similarity = similarity
        self._min_cosine = min_cosine
        self._keys: dict[str, int] = {}
        self._kept: list[int] = []

    def is_duplicate(self, paper_id: int) -> bool:
        key = title_key(self._title_of(paper_id))
        if key and key in self._keys:
            return True
        if self._similarity is not None:
            for other in self._kept:
                cosine = self._similarity(paper_id, other)
                if cosine is not None and cosine >= self._min_cosine:
                    return True
        return False

    def keep(self, paper_id: int) -> None:
        key = title_key(self._title_of(paper_id))
        if key:
            self._keys.setdefault(key, paper_id)
        self._kept.append(paper_id)


def quota(size: int, topics: int, share: float) -> int:
    """Slots each topic is promised: an even split of `share` of the size, at least one."""
    if topics <= 0 or size <= 0:
        return 0
    return max(1, math.floor(size * share / topics))


def choose(
    ranked: Sequence[Candidate],
    topics: Sequence[str],
    size: int,
    *,
    duplicates: DuplicateCheck,
    share: float = 0.5,
) -> list[Candidate]:
    """Up to `size` candidates (ranked best first): topic shares first, then by score.

    Returned best first (by score), so a reader sees the strongest papers on top whichever
    share brought them in.
    """
    chosen: list[Candidate] = []
    taken: set[int] = set()
    skipped: set[int] = set()

    def take(candidate: Candidate) -> None:
        chosen.append(candidate)
        taken.add(candidate.paper_id)
        duplicates.keep(candidate.paper_id)

    def usable(candidate: Candidate) -> bool:
        if candidate.paper_id in taken or candidate.paper_id in skipped:
            return False
        if duplicates.is_duplicate(candidate.paper_id):
            skipped.add(candidate.paper_id)
            return False
        return True

    wanted = list(dict.fromkeys(topics))
    per_topic = quota(size, len(wanted), share)
    counts = dict.fromkeys(wanted, 0)
    # Round by round every topic gets one more paper, until each has its share: within a round
    # the best paper of a topic still short of it goes first.
    for level in range(1, per_topic + 1):
        while len(chosen) < size:
            short = {t for t, n in counts.items() if n < level}
            pick = next(
                (c for c in ranked if short.intersection(c.topics) and usable(c)),
                None,
            )
            if pick is None:
                break
            take(pick)
            for topic in pick.topics:
                if topic in counts:
                    counts[topic] += 1
    for candidate in ranked:
        if len(chosen) >= size:
            break
        if usable(candidate):
            take(candidate)
    order = {c.paper_id: i for i, c in enumerate(ranked)}
    chosen.sort(key=lambda c: order[c.paper_id])
    return chosen


__all__ = [
    "NEAR_DUPLICATE_COSINE",
    "Candidate",
    "DuplicateCheck",
    "Similarity",
    "VectorMemo",
    "choose",
    "quota",
    "title_key",
]
