"""SearchQuery -> tantivy queries: a flat first stage (block-max WAND) and a rerank expression.

User text never meets a query parser: every query is built from analysed terms. The rerank
expression (acronyms, compounds, typo fixes, synonyms, coverage, proximity) is scored only on
the first stage's candidates, one cheap leaf query (a term or phrase in one field) at a time,
because tantivy's unions cannot skip to a few candidates quickly.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import tantivy
from tantivy import Query

from paperbot.core.search import SearchQuery
from paperbot.core.textnorm import (
    SYNONYMS,
    acronym_expansion,
    analyze_cached,
    analyze_name,
    expansion_index,
    query_stems,
    split_compound,
    stop_stems,
)

FIELD_BOOSTS = {"title": 3.0, "keywords": 2.0, "abstract": 1.0}
ALT_WEIGHT = 0.9
SYNONYM_WEIGHT = 0.3
COVERAGE = (0.5, 0.25)
TIE = 0.1
PROXIMITY = {"title": (1.5, 1), "abstract": (0.5, 2)}
_S, _M, _N = tantivy.Occur.Should, tantivy.Occur.Must, tantivy.Occur.MustNot
Scores = dict[int, float]


# --- the rerank expression: sums, maxima and scalings of leaf scores ----------------------
@dataclass(frozen=True)
class Leaf:
    field: str
    stems: tuple[str, ...]
    slop: int = 0


@dataclass(frozen=True)
class Node:
    op: str  # "sum" | "max" | "scale" | "all" | "atleast"
    parts: tuple[Expr, ...]
    k: float = 1.0


Expr = Leaf | Node


def evaluate(expr: Expr, leaves: dict[Leaf, Scores]) -> Scores:
    """Score every candidate doc for an expression, from each leaf's per-doc scores."""
    if isinstance(expr, Leaf):
        return leaves.get(expr, {})
    parts = [evaluate(p, leaves) for p in expr.parts]
    if expr.op == "scale":
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


def leaves_of(expr: Expr) -> set[Leaf]:
    if isinstance(expr, Leaf):
        return {expr}
    return set().union(*(leaves_of(p) for p in expr.parts))


def leaf_query(schema: tantivy.Schema, leaf: Leaf) -> Query:
    if len(leaf.stems) == 1:
        return Query.term_query(schema, leaf.field, leaf.stems[0])
    words: list[str | tuple[int, str]] = [*leaf.stems]
    return Query.phrase_query(schema, leaf.field, words, leaf.slop)


def _sum(parts: Sequence[Expr]) -> Expr:
    return parts[0] if len(parts) == 1 else Node("sum", tuple(parts))


def _max(parts: Sequence[Expr]) -> Expr:
    return parts[0] if len(parts) == 1 else Node("max", tuple(parts))


def _scale(part: Expr, k: float) -> Expr:
    return Node("scale", (part,), k)


def day_number(day: date) -> int:
    return day.toordinal()


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (limit + 1) once it must exceed `limit`."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


class QueryBuilder:
    """Builds both stages for one query against one searcher (for doc freqs and typo fixes)."""

    def __init__(self, schema: tantivy.Schema, searcher: tantivy.Searcher) -> None:
        self.schema = schema
        self.searcher = searcher
        # Every term the rerank uses, with its weight: the flat first-stage query.
        self.terms: dict[str, float] = {}
        self.phrases: list[Expr] = []
        self._fixes: dict[str, str | None] = {}

    def term(self, stem: str, weight: float = 1.0) -> Expr:
        self.terms[stem] = max(weight, self.terms.get(stem, 0.0))
        return _sum([_scale(Leaf(f, (stem,)), b * weight) for f, b in FIELD_BOOSTS.items()])

    def phrase(self, stems: Sequence[str], weight: float = 1.0, slop: int = 0) -> Expr:
        if len(stems) == 1:
            return self.term(stems[0], weight)
        for stem in stems:
            self.terms[stem] = max(weight / 2, self.terms.get(stem, 0.0))
        return _sum(
            [_scale(Leaf(f, tuple(stems), slop), b * weight) for f, b in FIELD_BOOSTS.items()]
        )

    def known(self, stem: str) -> bool:
        return any(self.searcher.doc_freq(f, stem) for f in FIELD_BOOSTS)

    def correct(self, stem: str) -> str | None:
        """The most frequent indexed term within edit distance 1-2 of a misspelt one."""
        if stem not in self._fixes:
            self._fixes[stem] = self._correct(stem)
        return self._fixes[stem]

    def _correct(self, stem: str) -> str | None:
        limit = 1 if len(stem) <= 5 else 2
        best: tuple[int, int, str] | None = None
        for prefix in dict.fromkeys((stem[:2], stem[:1])):
            found: dict[str, int] = {}
            for field in ("title", "abstract"):
                for term, freq in self.searcher.terms_with_prefix(field, prefix, limit=20000):
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

    def unit(self, stem: str) -> Expr:
        """One query word: the term, or its acronym expansion/compound split/synonyms/fix."""
        alts = [self.term(stem)]
        expansion = acronym_expansion(stem)
        if expansion:
            alts.append(self.phrase(expansion, ALT_WEIGHT, slop=1))
        compound = split_compound(stem)
        if compound:
            alts.append(self.phrase(compound, ALT_WEIGHT))
        alts.extend(self.term(s, SYNONYM_WEIGHT) for s in SYNONYMS.get(stem, ()) if s != stem)
        if len(stem) > 3 and not stem.isdigit() and not self.known(stem):
            fixed = self.correct(stem)
            if fixed:
                alts.append(self.term(fixed, ALT_WEIGHT))
                alts.extend(self.term(s, SYNONYM_WEIGHT) for s in SYNONYMS.get(fixed, ()))
        return _max(alts)

    def group(self, stems: Sequence[str], joined: str | None = None) -> Expr:
        """Stems of one hyphenated word: as a phrase, loosely, or written joined."""
        parts = _sum([self.unit(s) for s in stems])
        if len(stems) == 1:
            return parts
        alts = [self.phrase(stems, 1.0, slop=1), _scale(parts, 0.4)]
        if joined:
            alts.append(self.term(joined, len(stems) * 0.8))
        return _max(alts)

    def words(self, query: SearchQuery) -> tuple[list[Expr], list[str]]:
        """One expression per word (or acronym expansion), and the content stems in order."""
        groups: list[tuple[tuple[str, ...], str | None]] = []
        for word in query.terms:
            stems = tuple(query_stems(word))
            if len(stems) > 1:
                one = analyze_cached("".join(c for c in word if c.isalnum()))
                groups.append((stems, one[0] if len(one) == 1 else None))
            elif stems:
                groups.append((stems, None))
        flat = [s for stems, _ in groups for s in stems]
        stop = stop_stems()
        content = [s for s in flat if s not in stop] or flat
        out: list[Expr] = []
        covered: set[int] = set()
        for expansion, acronym in expansion_index().items():
            n = len(expansion)
            for i in range(len(flat) - n + 1):
                if tuple(flat[i : i + n]) == expansion and not covered & set(range(i, i + n)):
                    covered.update(range(i, i + n))
                    words = [s for s in expansion if s not in stop]
                    spelled = _sum([self.unit(w) for w in words])
                    out.append(_max([spelled, self.term(acronym, len(words))]))
        pos = 0
        for stems, joined in groups:
            idx = range(pos, pos + len(stems))
            pos += len(stems)
            keep = [s for i, s in zip(idx, stems, strict=True) if i not in covered]
            keep = [s for s in keep if s in content]
            if keep:
                out.append(self.group(keep, joined if len(keep) == len(stems) else None))
        return out, content

    def rerank(self, query: SearchQuery) -> Expr | None:
        """Words + coverage bonus + user phrases + proximity of neighbouring words."""
        words, content = self.words(query)
        parts: list[Expr] = list(words)
        if len(words) >= 2:
            parts.append(_scale(Node("all", tuple(words)), COVERAGE[0]))
        if len(words) >= 3:
            parts.append(_scale(Node("atleast", tuple(words), len(words) - 1), COVERAGE[1]))
        self.phrases = [self.phrase(stems) for p in query.phrases if (stems := analyze_cached(p))]
        parts.extend(self.phrases)
        for a, b in list(itertools.pairwise(content))[:4]:
            if a != b:
                parts.extend(
                    _scale(Leaf(f, (a, b), slop), boost) for f, (boost, slop) in PROXIMITY.items()
                )
        return _sum(parts) if parts else None

    def any_field(self, stems: Sequence[str]) -> Query:
        """Stems (as a phrase if several) in any text field, unscored: for filters."""
        queries = [leaf_query(self.schema, Leaf(f, tuple(stems))) for f in FIELD_BOOSTS]
        return Query.boolean_query([(_S, q) for q in queries])

    def filters(self, query: SearchQuery) -> list[Query]:
        out: list[Query] = []
        for author in query.authors:
            names = analyze_name(author)
            if names:
                out.append(leaf_query(self.schema, Leaf("authors", tuple(names), 1)))
        if query.categories:
            out.append(Query.term_set_query(self.schema, "cats", list(query.categories)))
        if query.since is not None:
            out.append(
                Query.range_query(
                    self.schema,
                    "day",
                    tantivy.FieldType.Integer,
                    lower_bound=day_number(query.since),
                    use_inverted_index=True,
                )
            )
        return [Query.const_score_query(q, 0.0) for q in out]

    def first_stage(self, query: SearchQuery, *, phrases: bool = True) -> Query:
        """Filters, user phrases and exclusions, plus a flat OR of every boosted term."""
        clauses: list[tuple[tantivy.Occur, Query]] = [(_M, f) for f in self.filters(query)]
        for phrase in query.phrases if phrases else ():
            stems = analyze_cached(phrase)
            if stems:
                clauses.append((_M, self.any_field(stems)))
        clauses.extend(
            (_S, Query.boost_query(Query.term_query(self.schema, f, stem), boost * weight))
            for stem, weight in self.terms.items()
            for f, boost in FIELD_BOOSTS.items()
        )
        for text in (*query.excluded_terms, *query.excluded_phrases):
            stems = analyze_cached(text)
            if stems:
                clauses.append((_N, self.any_field(stems)))
        occurs = {occur for occur, _ in clauses}
        if not occurs & {_M, _S}:
            clauses.append((_M, Query.all_query()))
        # Beside a MUST filter, SHOULD terms would be optional; keep pure ORs plain for WAND.
        minimum = 1 if {_M, _S} <= occurs else None
        return Query.boolean_query(clauses, minimum)


@dataclass(frozen=True)
class Built:
    """Both stages of one query."""

    first: Query
    rerank: Expr | None
    terms: list[str]
    # With quoted phrases: the first stage without them (fast), and "has every phrase".
    loose: Query | None = None
    phrases: tuple[tuple[Query, ...], ...] | None = None


def build(schema: tantivy.Schema, searcher: tantivy.Searcher, query: SearchQuery) -> Built:
    builder = QueryBuilder(schema, searcher)
    expr = builder.rerank(query)  # first: it records the terms the first stage ORs
    first = builder.first_stage(query)
    if not builder.phrases:
        return Built(first, expr, list(builder.terms))
    loose = builder.first_stage(query, phrases=False)
    # One query per phrase and field: a union of phrase queries would lead an intersection
    # with a few candidates and walk every paper.
    every = tuple(
        tuple(leaf_query(schema, Leaf(f, tuple(stems))) for f in FIELD_BOOSTS)
        for p in query.phrases
        if (stems := analyze_cached(p))
    )
    return Built(first, expr, list(builder.terms), loose, every)


__all__ = [
    "FIELD_BOOSTS",
    "Built",
    "Leaf",
    "build",
    "day_number",
    "evaluate",
    "leaf_query",
    "leaves_of",
]
