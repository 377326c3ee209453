"""Typo fixes: the most frequent indexed term within a small edit distance of an unknown word,
else the indexed stem it starts with when only its ending is misspelt."""

from __future__ import annotations

from collections.abc import Sequence

import tantivy

from paperbot.core.search.analysis import analyze

# A misspelt ending the stemmer could not strip ("representaton", "interpretabilty"): the
# indexed stem the word starts with, if one edit to the rest makes an ending it strips.
MIN_STEM, MAX_ENDING = 4, 7
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def edit_distance(a: str, b: str, limit: int) -> int:
    """Edits between two words, a swap of neighbouring letters counting as one ("imgae" ->
    "imag", "seir" -> "seri": the commonest typo; Levenshtein counts two, past the limit of
    short words). Gives up (limit + 1) once it must exceed `limit`."""
    before: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cost = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            cur.append(cost)
        # A swap reaches back two rows: only two rows past the limit rule it out.
        if min(cur) > limit and min(prev) > limit:
            return limit + 1
        before, prev = prev, cur
    return prev[-1]


def one_edit(word: str) -> set[str]:
    """Every string one edit (insert, delete, change, swap) from a word."""
    cuts = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + c + b for a, b in cuts for c in _LETTERS}
    out |= {a + b[1:] for a, b in cuts if b}
    out |= {a + c + b[1:] for a, b in cuts if b for c in _LETTERS}
    out |= {a + b[1] + b[0] + b[2:] for a, b in cuts if len(b) > 1}
    return out


def ending_fix(searcher: tantivy.Searcher, stem: str, fields: Sequence[str]) -> str | None:
    """The longest indexed stem a misspelt word starts with, if a misspelt ending of it is
    one edit from one the stemmer strips (so the word meant is that stem plus the ending)."""
    for cut in range(len(stem) - 1, max(MIN_STEM, len(stem) - MAX_ENDING) - 1, -1):
        head = stem[:cut]
        if not any(searcher.doc_freq(f, head) for f in fields):
            continue
        if any(analyze(head + ending) == [head] for ending in one_edit(stem[cut:])):
            return head
    return None


def closest_term(searcher: tantivy.Searcher, stem: str, fields: Sequence[str]) -> str | None:
    """The most frequent indexed term within edit distance 1-2 of a misspelt one, else the
    stem it starts with if only its ending is misspelt."""
    limit = 1 if len(stem) <= 5 else 2
    best: tuple[int, int, str] | None = None
    for prefix in dict.fromkeys((stem[:2], stem[:1])):
        found: dict[str, int] = {}
        for field in fields:
            for term, freq in searcher.terms_with_prefix(field, prefix, limit=20000):
                found[term] = found.get(term, 0) + freq
        for term, freq in found.items():
            if abs(len(term) - len(stem)) > limit:
                continue
            dist = edit_distance(stem, term, limit)
            if dist <= limit and (best is None or (dist, -freq) < best[:2]):
                best = (dist, -freq, term)
        if best:
            return best[2]
    return ending_fix(searcher, stem, fields)


__all__ = ["closest_term", "edit_distance", "ending_fix"]
