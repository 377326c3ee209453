"""SearchQuery -> tantivy queries: a flat first stage (block-max WAND) and a rerank expression.

User text never meets a query parser: every query is built from analysed terms. The rerank
expression (acronyms, compounds, typo fixes, synonyms, coverage, proximity) is scored only on
the first stage's candidates, one cheap leaf query (a term or phrase in one field) at a time,
because tantivy's unions cannot skip to a few candidates quickly.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import tantivy
from tantivy import Query

from paperbot.core.search.analysis import (
    acronym_expansion,
    analyze_cached,
    analyze_name,
    expansion_index,
    query_stems,
    split_compound,
    stop_stems,
)
from paperbot.core.search.expr import Expr, Leaf, Node, leaf_query, max_of, scale, sum_of, synonym
from paperbot.core.search.grammar import SearchQuery
from paperbot.core.search.lexicon import SYNONYMS
from paperbot.core.search.pairs import PAIR_FIELD, pair_term
from paperbot.core.search.schema import day_number
from paperbot.core.search.typos import closest_term

FIELD_BOOSTS = {"title": 3.0, "keywords": 2.0, "abstract": 1.0}
ALT_WEIGHT = 0.9
SYNONYM_WEIGHT = 0.3
COVERAGE = (0.5, 0.25)
PROXIMITY = {"title": (1.5, 1), "abstract": (0.5, 2)}
# Abstract proximity is skipped for pairs whose rarer word is in more papers than this.
PROXIMITY_MIN_DOCS, PROXIMITY_MAX_SHARE = 50_000, 0.1
# A phrase's word in more papers than this share (and PROXIMITY_MIN_DOCS) is left out of the
# first stage (see QueryBuilder.telling).
PHRASE_WORD_MAX_SHARE = 0.05
# An acronym in this many papers fills the candidates alone: its spelled-out words (common
# ones: "graph neural network") then score in the rerank only, not in the first stage,
# where they cost 5-7 ms at 1M papers for candidates the acronym already brings.
ACRONYM_ALONE = 1_000
# A filter keeping at least this share of the papers (a common author name, a big category)
# is checked on the loose first stage's candidates: as a MUST clause it would make tantivy
# score every paper it keeps (7 ms at 1M for a 30% category). A narrower one stays in the
# first stage, where it leads the intersection and is cheap.
BROAD_FILTER = 0.05
_S, _M, _N = tantivy.Occur.Should, tantivy.Occur.Must, tantivy.Occur.MustNot


class QueryBuilder:
    """Builds both stages for one query against one searcher (for doc freqs and typo fixes)."""

    def __init__(self, schema: tantivy.Schema, searcher: tantivy.Searcher) -> None:
        self.schema = schema
        self.searcher = searcher
        # Every term the rerank uses, with its weight: the flat first-stage query.
        self.terms: dict[str, float] = {}
        self.phrases: list[Expr] = []
        # One entry per query word: its expression and its weight (idf) for coverage.
        self.units: list[tuple[Expr, float]] = []
        self._fixes: dict[str, str | None] = {}

    def term(self, stem: str, weight: float = 1.0) -> Expr:
        self.terms[stem] = max(weight, self.terms.get(stem, 0.0))
        return sum_of([scale(Leaf(f, (stem,)), b * weight) for f, b in FIELD_BOOSTS.items()])

    def phrase(
        self, stems: Sequence[str], weight: float = 1.0, slop: int = 0, *, first: bool = True
    ) -> Expr:
        """A phrase in every field; `first`: its words also join the first stage."""
        if len(stems) == 1:
            return self.term(stems[0], weight)
        for stem in self.telling(stems) if first else ():
            self.terms[stem] = max(weight / 2, self.terms.get(stem, 0.0))
        return sum_of(
            [scale(Leaf(f, tuple(stems), slop), b * weight) for f, b in FIELD_BOOSTS.items()]
        )

    def telling(self, stems: Sequence[str]) -> list[str]:
        """A phrase's words worth a first-stage clause: a paper holding the phrase holds its
        rarer words too, while a word in most papers ("learning" of RLHF's "reinforcement
        learning from human feedback") makes tantivy score most of the index for it (26 ms
        against 1.4 ms at 1M papers). The rarest word always stays."""
        limit = self.crowded(PHRASE_WORD_MAX_SHARE)
        freqs = {s: self.searcher.doc_freq("abstract", s) for s in stems}
        return [s for s in stems if freqs[s] <= limit] or [min(stems, key=freqs.__getitem__)]

    def crowded(self, share: float) -> float:
        """How many papers make a word too common to walk: `share` of the index, and at
        least PROXIMITY_MIN_DOCS (a small index walks every word cheaply)."""
        return max(PROXIMITY_MIN_DOCS, share * self.searcher.num_docs)

    def known(self, stem: str) -> bool:
        return any(self.searcher.doc_freq(f, stem) for f in FIELD_BOOSTS)

    def everywhere(self, field: str, stems: Sequence[str]) -> bool:
        """Words so common in a long field that checking their positions on the candidates
        costs more than it tells (tantivy walks every paper holding both): "our this"."""
        if field == "title":
            return False
        rarest = min(self.searcher.doc_freq(field, s) for s in stems)
        return rarest > self.crowded(PROXIMITY_MAX_SHARE)

    def fixable(self, stem: str) -> bool:
        """An unknown word long enough to be a typo of a known one."""
        return len(stem) > 3 and not stem.isdigit() and not self.known(stem)

    def idf(self, stems: Sequence[str]) -> float:
        """How telling a query word is: idf of its rarest stem (a typo counts as its fix)."""
        freqs = []
        for stem in stems:
            if self.fixable(stem):
                stem = self.correct(stem) or stem
            freqs.append(max(self.searcher.doc_freq(f, stem) for f in ("title", "abstract")))
        return math.log(1 + (self.searcher.num_docs or 1) / max(1, min(freqs, default=0)))

    def split_joined(self, stem: str) -> tuple[str, str] | None:
        """ "pointcloud" -> ("point", "cloud"): an unknown word made of two indexed ones."""
        best: tuple[int, tuple[str, str]] | None = None
        for cut in range(3, len(stem) - 2):
            left, right = analyze_cached(stem[:cut]), analyze_cached(stem[cut:])
            if len(left) == len(right) == 1 and self.known(left[0]) and self.known(right[0]):
                freq = min(self.searcher.doc_freq("abstract", s) for s in (*left, *right))
                if best is None or freq > best[0]:
                    best = (freq, (left[0], right[0]))
        return best[1] if best else None

    def correct(self, stem: str) -> str | None:
        """The most frequent indexed term within edit distance 1-2 of a misspelt one."""
        if stem not in self._fixes:
            self._fixes[stem] = closest_term(self.searcher, stem, ("title", "abstract"))
        return self._fixes[stem]

    def unit(self, stem: str) -> Expr:
        """One query word: the term, or its acronym expansion/compound split/synonyms/fix."""
        alts = [self.term(stem)]
        expansion = acronym_expansion(stem)
        if expansion:
            alone = self.searcher.doc_freq("abstract", stem) >= ACRONYM_ALONE
            alts.append(self.phrase(expansion, ALT_WEIGHT, slop=1, first=not alone))
        compound = split_compound(stem)
        if compound:
            alts.append(self.phrase(compound, ALT_WEIGHT))
        alts.extend(
            synonym(self.term(s, SYNONYM_WEIGHT)) for s in SYNONYMS.get(stem, ()) if s != stem
        )
        if self.fixable(stem):
            fixed = self.correct(stem)
            if fixed:
                alts.append(self.term(fixed, ALT_WEIGHT))
                alts.extend(synonym(self.term(s, SYNONYM_WEIGHT)) for s in SYNONYMS.get(fixed, ()))
            joined = None if compound else self.split_joined(stem)
            if joined:
                alts.append(self.phrase(joined, ALT_WEIGHT, slop=1))
        return max_of(alts)

    def group(self, stems: Sequence[str], joined: str | None = None) -> Expr:
        """Stems of one hyphenated word: as a phrase, loosely, or written joined."""
        parts = sum_of([self.unit(s) for s in stems])
        if len(stems) == 1:
            return parts
        alts = [self.phrase(stems, 1.0, slop=1), scale(parts, 0.4)]
        if joined:
            alts.append(self.term(joined, len(stems) * 0.8))
        return max_of(alts)

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
                    spelled = sum_of([self.unit(w) for w in words])
                    out.append(max_of([spelled, self.term(acronym, len(words))]))
                    self.units.append((out[-1], self.idf([acronym])))
        pos = 0
        for stems, joined in groups:
            idx = range(pos, pos + len(stems))
            pos += len(stems)
            keep = [s for i, s in zip(idx, stems, strict=True) if i not in covered]
            keep = [s for s in keep if s in content]
            if keep:
                out.append(self.group(keep, joined if len(keep) == len(stems) else None))
                self.units.append((out[-1], self.idf(keep)))
        return out, content

    def rerank(self, query: SearchQuery) -> Expr | None:
        """Words + coverage bonus + user phrases + proximity of neighbouring words."""
        words, content = self.words(query)
        parts: list[Expr] = list(words)
        if len(words) >= 2:
            parts.append(scale(Node("all", tuple(words)), COVERAGE[0]))
        if len(words) >= 3:
            parts.append(scale(Node("atleast", tuple(words), len(words) - 1), COVERAGE[1]))
        self.phrases = [self.phrase(stems) for p in query.phrases if (stems := analyze_cached(p))]
        parts.extend(self.phrases)
        for a, b in list(itertools.pairwise(content))[:4]:
            if a != b:
                parts.extend(
                    scale(Leaf(f, (a, b), slop), boost)
                    for f, (boost, slop) in PROXIMITY.items()
                    if not self.everywhere(f, (a, b))
                )
        return sum_of(parts) if parts else None

    def any_field(self, stems: Sequence[str]) -> Query:
        """Stems (as a phrase if several) in any text field, unscored: for filters."""
        pair = self.pair(stems)
        if pair is not None:
            return pair
        queries = [leaf_query(self.schema, Leaf(f, tuple(stems))) for f in FIELD_BOOSTS]
        return Query.boolean_query([(_S, q) for q in queries])

    def pair(self, stems: Sequence[str]) -> Query | None:
        """Two common words side by side in any field: their indexed pair, one term (a
        phrase query would check positions in every paper holding both words)."""
        term = pair_term(stems)
        return None if term is None else Query.term_query(self.schema, PAIR_FIELD, term)

    def phrase_cost(self, stems: Sequence[str]) -> int:
        """About how many papers a phrase's check reads: those holding its rarest word, or
        its pair for two common words."""
        term = pair_term(stems)
        if term is not None:
            return int(self.searcher.doc_freq(PAIR_FIELD, term))
        return min((self.searcher.doc_freq("abstract", s) for s in stems), default=0)

    def filters(self, query: SearchQuery, *, broad: bool | None = None) -> list[Query]:
        """The query's filters, unscored; `broad` True/False: only those that keep at
        least / less than BROAD_FILTER of the papers (a date range counts as narrow)."""
        return [
            Query.const_score_query(q, 0.0)
            for q, share in self._filters(query)
            if broad is None or (share >= BROAD_FILTER) == broad
        ]

    def broad_share(self, query: SearchQuery) -> float:
        """About the share of papers passing the broad filters and holding no excluded word."""
        n, df = self.searcher.num_docs or 1, self.searcher.doc_freq
        words = [w[0] for t in query.excluded_terms if len(w := analyze_cached(t)) == 1]
        kept = [1.0 - max(df(f, w) for f in FIELD_BOOSTS) / n for w in words]
        return math.prod([s for _, s in self._filters(query) if s >= BROAD_FILTER] + kept)

    def _filters(self, query: SearchQuery) -> list[tuple[Query, float]]:
        """Each filter with the share of papers it keeps (0 when not known cheaply)."""
        out: list[tuple[Query, float]] = []
        n = self.searcher.num_docs or 1
        for author in query.authors:
            names = analyze_name(author)
            if names:
                share = min(self.searcher.doc_freq("authors", s) for s in names) / n
                out.append((leaf_query(self.schema, Leaf("authors", tuple(names), 1)), share))
        if query.categories:
            share = sum(self.searcher.doc_freq("cats", c) for c in query.categories) / n
            out.append((Query.term_set_query(self.schema, "cats", list(query.categories)), share))
        if query.since is not None:
            since = Query.range_query(
                self.schema,
                "day",
                tantivy.FieldType.Integer,
                lower_bound=day_number(query.since),
                use_inverted_index=True,
            )
            out.append((since, 0.0))
        return out

    def excluded(self, query: SearchQuery) -> list[Query]:
        """One unscored "holds it" per excluded word or phrase."""
        return [
            self.any_field(stems)
            for text in (*query.excluded_terms, *query.excluded_phrases)
            if (stems := analyze_cached(text))
        ]

    def checks(self, query: SearchQuery) -> Query | None:
        """Unscored "passes the broad filters and holds no excluded word or phrase": what
        the loose first stage leaves to be checked on its candidates (None: nothing)."""
        clauses = [(_M, f) for f in self.filters(query, broad=True)]
        clauses += [(_N, q) for q in self.excluded(query)]
        if not clauses:
            return None
        if not any(occur == _M for occur, _ in clauses):
            clauses.append((_M, Query.all_query()))
        return Query.boolean_query(clauses)

    def constraint(self, query: SearchQuery) -> Query:
        """What every result must satisfy (filters, phrases, exclusions), unscored: applied
        to papers found by other means (the dense side)."""
        clauses: list[tuple[tantivy.Occur, Query]] = [(_M, f) for f in self.filters(query)]
        for phrase in query.phrases:
            stems = analyze_cached(phrase)
            if stems:
                clauses.append((_M, self.any_field(stems)))
        clauses += [(_N, q) for q in self.excluded(query)]
        if not any(occur == _M for occur, _ in clauses):
            clauses.append((_M, Query.all_query()))
        return Query.const_score_query(Query.boolean_query(clauses), 0.0)

    def first_stage(self, query: SearchQuery, *, loose: bool = False) -> Query:
        """Filters, user phrases and exclusions, plus a flat OR of every boosted term.
        `loose`: without the phrases, exclusions and broad filters (checked on its
        candidates instead)."""
        filters = self.filters(query, broad=False if loose else None)
        clauses: list[tuple[tantivy.Occur, Query]] = [(_M, f) for f in filters]
        for phrase in () if loose else query.phrases:
            stems = analyze_cached(phrase)
            if stems:
                clauses.append((_M, self.any_field(stems)))
        clauses.extend(
            (_S, Query.boost_query(Query.term_query(self.schema, f, stem), boost * weight))
            for stem, weight in self.terms.items()
            for f, boost in FIELD_BOOSTS.items()
        )
        clauses += [] if loose else [(_N, q) for q in self.excluded(query)]
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
    # Every result satisfies this; query words with their weights (for coverage).
    constraint: Query
    units: tuple[tuple[Expr, float], ...] = ()
    # With quoted phrases, exclusions or broad filters: the first stage without them (fast:
    # a plain OR of terms keeps block-max WAND), "has every phrase" and the other checks.
    loose: Query | None = None
    phrases: tuple[tuple[Query, ...], ...] = ()
    checks: Query | None = None
    share: float = 1.0  # about how many of the loose query's papers pass the broad filters
    phrase_cost: int = 0  # papers the cheapest phrase's check reads (QueryBuilder.phrase_cost)


def build(schema: tantivy.Schema, searcher: tantivy.Searcher, query: SearchQuery) -> Built:
    builder = QueryBuilder(schema, searcher)
    expr = builder.rerank(query)  # first: it records the terms the first stage ORs
    first = builder.first_stage(query)
    constraint = builder.constraint(query)
    units = tuple(builder.units)
    checks = builder.checks(query)
    if not builder.phrases and checks is None:
        return Built(first, expr, list(builder.terms), constraint, units)
    loose = builder.first_stage(query, loose=True)
    # One query per phrase and field: a union of phrase queries would lead an intersection
    # with a few candidates and walk every paper. A field missing one of the words cannot
    # hold the phrase and is not asked.
    every = tuple(
        (pair,)
        if (pair := builder.pair(stems)) is not None
        else tuple(
            leaf_query(schema, Leaf(f, tuple(stems)))
            for f in FIELD_BOOSTS
            if all(searcher.doc_freq(f, s) for s in stems)
        )
        for p in query.phrases
        if (stems := analyze_cached(p))
    )
    share = builder.broad_share(query)
    cost = min(
        (builder.phrase_cost(stems) for p in query.phrases if (stems := analyze_cached(p))),
        default=0,
    )
    return Built(
        first, expr, list(builder.terms), constraint, units, loose, every, checks, share, cost
    )


__all__ = ["FIELD_BOOSTS", "Built", "QueryBuilder", "build"]
