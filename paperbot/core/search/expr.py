"""The rerank expression: sums, maxima and scalings of leaf scores (a term or phrase in a field)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import tantivy
from tantivy import Query

# A max() of alternatives adds this share of the others, so a paper matching several ranks first.
TIE = 0.1
Scores = dict[int, float]


@dataclass(frozen=True)
class Leaf:
    field: str
    stems: tuple[str, ...]
    slop: int = 0


@dataclass(frozen=True)
class Node:
    op: str  # "sum" | "max" | "scale" | "all" | "atleast" | "synonym" (a scale, marked)
    parts: tuple[Expr, ...]
    k: float = 1.0


Expr = Leaf | Node


def evaluate(expr: Expr, leaves: dict[Leaf, Scores], *, synonyms: bool = True) -> Scores:
    """Score every candidate doc for an expression, from each leaf's per-doc scores
    (`synonyms` False: as if the query's synonym alternatives were not there)."""
    if isinstance(expr, Leaf):
        return leaves.get(expr, {})
    if expr.op == "synonym" and not synonyms:
        return {}
    parts = [evaluate(p, leaves, synonyms=synonyms) for p in expr.parts]
    if expr.op in ("scale", "synonym"):
        return {d: s * expr.k for d, s in parts[0].items()}
    out: Scores = {}
    if expr.op == "max":
        best: Scores = {}
        for part in parts:
            for d, s in part.items():
                out[d] = out.get(d, 0.0) + s
                best[d] = max(best.get(d, 0.0), s)
        return {d: best[d] + TIE * (out[d] - best[d]) for d in out}
    counts: dict[int, int] = {}
    for part in parts:
        for d, s in part.items():
            out[d] = out.get(d, 0.0) + s
            counts[d] = counts.get(d, 0) + 1
    need = {"sum": 1, "all": len(parts), "atleast": int(expr.k)}[expr.op]
    return {d: s for d, s in out.items() if counts[d] >= need}


def has_synonym(expr: Expr) -> bool:
    return isinstance(expr, Node) and (expr.op == "synonym" or any(map(has_synonym, expr.parts)))


def leaves_of(expr: Expr) -> set[Leaf]:
    if isinstance(expr, Leaf):
        return {expr}
    return set().union(*(leaves_of(p) for p in expr.parts))


def leaf_query(schema: tantivy.Schema, leaf: Leaf) -> Query:
    if len(leaf.stems) == 1:
        return Query.term_query(schema, leaf.field, leaf.stems[0])
    words: list[str | tuple[int, str]] = [*leaf.stems]
    return Query.phrase_query(schema, leaf.field, words, leaf.slop)


def sum_of(parts: Sequence[Expr]) -> Expr:
    return parts[0] if len(parts) == 1 else Node("sum", tuple(parts))


def max_of(parts: Sequence[Expr]) -> Expr:
    return parts[0] if len(parts) == 1 else Node("max", tuple(parts))


def scale(part: Expr, k: float) -> Expr:
    return Node("scale", (part,), k)


def synonym(part: Expr) -> Expr:
    """A word's synonym alternative, marked so coverage can tell it from the word itself."""
    return Node("synonym", (part,))


__all__ = [
    "Expr",
    "Leaf",
    "Node",
    "Scores",
    "evaluate",
    "has_synonym",
    "leaf_query",
    "leaves_of",
    "max_of",
    "scale",
    "sum_of",
    "synonym",
]
