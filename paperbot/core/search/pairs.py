"""Adjacent pairs of common words (Lucene's CommonGrams), indexed beside the text.

A quoted phrase of two common words ("this image") otherwise costs a position check in
every paper holding both words, most of the index at 1M papers. The pair "this_imag" is one
term whose papers are exactly those where the two words stand side by side (in some field):
the phrase query's answer, from one short posting list.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from paperbot.core.search.analysis import analyze
from paperbot.core.search.lexicon import COMMON_STEMS

PAIR_FIELD = "pairs"
# The index's simple tokenizer: runs of letters and digits (tantivy's is_alphanumeric).
_TOKEN = re.compile(r"[^\W_]+")
# A text's words split at whitespace (which splits the index's tokens too), each known once:
# the stems of its tokens, "" for those not common ("state-of-the-art" has four, "—" none,
# and its neighbours then stand side by side). Bounded: a replica indexing a big store meets
# millions of distinct words; clearing only costs time.
_MEMO_LIMIT = 200_000
_memo: dict[str, tuple[str, ...]] = {}
_UNSEEN = ("\x00",)  # no stem holds a NUL


def _common(token: str) -> str:
    stems = analyze(token)
    # The index drops tokens of 40 bytes or more (remove_long), which then pair with nothing.
    common = len(stems) == 1 and stems[0] in COMMON_STEMS and len(token.encode()) < 40
    return stems[0] if common else ""


def _learn(word: str) -> tuple[str, ...]:
    if len(_memo) >= _MEMO_LIMIT:
        _memo.clear()
    known = _memo[word] = tuple(_common(token) for token in _TOKEN.findall(word))
    return known


def text_pairs(texts: Sequence[str]) -> list[str]:
    """The common-word pairs of texts already folded as the index folds them (each text
    apart: no pair spans two fields)."""
    out: set[str] = set()
    get = _memo.get
    for text in texts:
        # Comprehensions, not loops: this runs for every paper indexed. A word not seen yet
        # leaves _UNSEEN in the stems, and the text is then read word by word.
        stems = [s for word in text.split() for s in get(word, _UNSEEN)]
        if _UNSEEN[0] in stems:
            stems = [s for word in text.split() for s in (get(word) or _learn(word))]
        out.update([f"{a}_{b}" for a, b in itertools.pairwise(stems) if a and b])
    return list(out)


def pair_term(stems: Sequence[str]) -> str | None:
    """The indexed pair of a phrase of two common words (its stems), else None."""
    if len(stems) == 2 and stems[0] in COMMON_STEMS and stems[1] in COMMON_STEMS:
        return f"{stems[0]}_{stems[1]}"
    return None


__all__ = ["PAIR_FIELD", "pair_term", "text_pairs"]
