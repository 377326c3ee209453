"""Typo fixes: the most frequent indexed term within a small edit distance of an unknown word."""

from __future__ import annotations

from collections.abc import Sequence

import tantivy


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


def closest_term(searcher: tantivy.Searcher, stem: str, fields: Sequence[str]) -> str | None:
    """The most frequent indexed term within edit distance 1-2 of a misspelt one."""
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
    return None


__all__ = ["closest_term", "edit_distance"]
