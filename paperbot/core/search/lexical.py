"""Lexical queries on one tantivy searcher: first stage, phrase pools, leaf-by-leaf rerank, MLT."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import tantivy
from tantivy import Query

from paperbot.core.search.analysis import fold
from paperbot.core.search.expr import (
    Expr,
    Leaf,
    Scores,
    evaluate,
    has_synonym,
    leaf_query,
    leaves_of,
)
from paperbot.core.search.grammar import SearchQuery
from paperbot.core.search.hits import SearchHits
from paperbot.core.search.querybuild import Built, build

# Counting every match defeats block-max WAND, so only count on small indexes.
COUNT_UP_TO = 200_000
# A word a paper holds only as a synonym (photo -> image) counts this share of its weight.
SYNONYM_CREDIT = 0.5
MIN_CANDIDATES, MAX_CANDIDATES, PHRASE_POOL, PHRASE_POOL_DEEP = 60, 1000, 300, 1000
# Above this many papers holding a phrase's rarest word or common-word pair, matching it
# everywhere costs tens of ms at 1M papers (positions read in each), so it is checked on
# candidates only.
# Phrases, exclusions and broad filters are checked on the loose query's best papers.
EXHAUSTIVE_PHRASE_DF = 150_000
# A phrase in at most this many papers (a rare word, or a pair of common words seldom side
# by side) leads the whole query over every paper at once: cheaper than a first pool.
DIRECT_PHRASE_DF = 20_000
_M, _S = tantivy.Occur.Must, tantivy.Occur.Should


@dataclass(frozen=True)
class Ranked:
    """A lexical ranking: candidates best first, their word coverage (0..1), a match count."""

    built: Built | None
    hits: list[tuple[int, float]]
    coverage: dict[int, float]
    total: int
    leaves: dict[Leaf, Scores] | None = None  # the rerank's scores (None: no rerank)

    def matched(self, ids: Sequence[int]) -> dict[int, frozenset[str]] | None:
        """Per paper of these, the stems of the leaves it matched (a phrase's words are all
        there), for the cards' "why"; asked for the shown page only (digests never ask)."""
        if self.leaves is None:
            return None
        out: dict[int, set[str]] = {pid: set() for pid in ids}
        for leaf, scores in self.leaves.items():
            for pid, held in out.items():
                if scores.get(pid, 0.0) > 0:
                    held.update(leaf.stems)
        return {pid: frozenset(stems) for pid, stems in out.items()}


def coverage_of(units: Sequence[tuple[Expr, float]], leaves: dict[Leaf, Scores]) -> Scores:
    """Per paper, the idf-weighted share of the query's words it matches (in any form; a
    word matched only by a synonym counts SYNONYM_CREDIT of its weight)."""
    weight = sum(w for _, w in units)
    if not weight:
        return {}
    out: Scores = {}
    for expr, w in units:
        full = evaluate(expr, leaves)
        # Most words have no synonyms: their exact matches are all their matches.
        exact = evaluate(expr, leaves, synonyms=False) if has_synonym(expr) else full
        for pid, score in full.items():
            if score > 0:
                credit = 1.0 if exact.get(pid, 0.0) > 0 else SYNONYM_CREDIT
                out[pid] = out.get(pid, 0.0) + credit * w / weight
    return out


class Lexical:
    """The lexical engine over one searcher (one consistent view of the index)."""

    def __init__(self, schema: tantivy.Schema, searcher: tantivy.Searcher) -> None:
        self.schema = schema
        self.searcher = searcher

    def run(
        self,
        query: Query,
        *,
        limit: int,
        offset: int = 0,
        by_day: bool = False,
        count: bool = False,
    ) -> tuple[list[tuple[int, float]], int]:
        """One tantivy query: (paper id, score) hits, and the match count if asked."""
        kwargs: dict[str, Any] = {"order_by_field": "newest"} if by_day else {}
        result = self.searcher.search(query, limit, count=count, offset=offset, **kwargs)
        addresses = [addr for _, addr in result.hits]
        ids = self.searcher.fast_field_values("id", addresses) if addresses else []
        hits = [
            (int(pid), 0.0 if by_day else float(score))
            for (score, _), pid in zip(result.hits, ids, strict=True)
            if pid is not None
        ]
        total = int(getattr(result, "count", None) or 0) if count else 0
        return hits, total

    def search(self, query: SearchQuery, *, limit: int, offset: int = 0) -> SearchHits:
        """Ranked paper ids for a parsed query: first stage, then rerank of its candidates."""
        found = self.ranked(query, limit=limit, offset=offset)
        page = tuple(found.hits[offset : offset + limit])
        return SearchHits(page, found.total, matched=found.matched([p for p, _ in page]))

    def ranked(
        self, query: SearchQuery, *, limit: int, offset: int = 0, extra: Sequence[int] = ()
    ) -> Ranked:
        """Every reranked candidate in rank order (at least offset + limit when there are
        that many), with each one's coverage of the query's words, and the match count.
        `extra` papers (found by the dense side) join the candidates if they pass the
        query's filters, phrases and exclusions, so one rerank pass scores them all."""
        searcher = self.searcher
        if query.is_empty or limit <= 0:
            return Ranked(None, [], {}, 0)
        built = build(self.schema, searcher, query)
        count = searcher.num_docs <= COUNT_UP_TO
        if built.rerank is None:
            hits, total = self.run(built.first, limit=offset + limit, by_day=True, count=count)
            return Ranked(built, hits, {}, total if count else len(hits))
        depth = min(MAX_CANDIDATES, max(MIN_CANDIDATES, 3 * (offset + limit)))
        found: tuple[list[tantivy.DocAddress], list[int]] | None = None
        total = 0
        if built.loose is not None and not count:
            found = self._pools(query, built, offset + limit, depth)
        if found is None:
            addresses, ids, total = self._stage(built.first, depth, count)
            found = (addresses, ids)
        addresses, ids = found
        have = set(ids)
        more = [pid for pid in dict.fromkeys(extra) if pid not in have]
        if more:
            more_addresses, more_ids = self._allowed(built, more)
            addresses, ids = addresses + more_addresses, ids + more_ids
        ranked, coverage, leaves = self._order(built, addresses, ids)
        if not count:
            total = min(offset + limit, len(ranked))
            if not (query.authors or query.categories or query.since or query.phrases):
                total = max([total] + [searcher.doc_freq("abstract", t) for t in built.terms])
        return Ranked(built, ranked, coverage, total, leaves)

    def _allowed(
        self, built: Built, ids: Sequence[int]
    ) -> tuple[list[tantivy.DocAddress], list[int]]:
        """Those of these papers that pass the query's filters, phrases and exclusions."""
        found = self.searcher.search(
            Query.boolean_query([(_M, self.only(ids)), (_M, built.constraint)]),
            len(ids),
            count=False,
        ).hits
        addresses = [a for _, a in found]
        if not addresses:
            return [], []
        return addresses, [int(p or 0) for p in self.searcher.fast_field_values("id", addresses)]

    def rescore(
        self, built: Built, ids: Sequence[int]
    ) -> tuple[dict[int, float], dict[int, float]]:
        """Lexical scores and coverage of papers found elsewhere; those failing the query's
        filters, phrases or exclusions are left out."""
        if not ids or built.rerank is None:
            return {}, {}
        addresses, kept = self._allowed(built, ids)
        if not addresses:
            return {}, {}
        leaves = self._leaves(built.rerank, addresses, kept)
        scores = evaluate(built.rerank, leaves)
        return {pid: scores.get(pid, 0.0) for pid in kept}, coverage_of(built.units, leaves)

    def _pools(
        self, query: SearchQuery, built: Built, wanted: int, depth: int
    ) -> tuple[list[tantivy.DocAddress], list[int]] | None:
        """Papers holding the query's phrases, passing its broad filters and holding none
        of its excluded words, among the loose query's best papers; None: run the whole
        query over every paper instead.

        The whole query is no plain OR of terms, so tantivy scores every paper holding one
        of its words, and a phrase costs a position check in every paper holding all its
        words. That is cheap only for phrases with a word in few abstracts; otherwise the
        loose query's best PHRASE_POOL_DEEP papers are checked, the first PHRASE_POOL of
        them first and the rest only when those hold too few. Without phrases, enough
        papers for twice the usual candidates are read (given the filters' share), and
        those failing the checks dropped. A phrase in few papers (DIRECT_PHRASE_DF: a rare
        word, or two common words seldom side by side, see pairs.py) needs no pool.
        """
        if query.phrases and built.phrase_cost <= DIRECT_PHRASE_DF:
            return None
        if not query.phrases and PHRASE_POOL_DEEP * built.share < wanted:
            # Even the deepest pool would keep too few (`-the` drops nearly every paper):
            # the whole query is cheaper than checking a pool first and then running it.
            return None
        rare_phrase = bool(query.phrases) and built.phrase_cost <= EXHAUSTIVE_PHRASE_DF
        assert built.loose is not None
        if not query.phrases:
            pool = first = min(PHRASE_POOL_DEEP, math.ceil(2 * depth / built.share))
        else:
            pool, first = (PHRASE_POOL if rare_phrase else PHRASE_POOL_DEEP), PHRASE_POOL
        addresses, ids, _ = self._stage(built.loose, pool, False)
        kept: list[tuple[tantivy.DocAddress, int]] = []
        for start, end in ((0, first), (first, pool)):
            chunk = ids[start:end]
            if not chunk:
                break
            having = set(chunk)
            for per_field in built.phrases:
                having &= set().union(*(self._matching(q, chunk) for q in per_field))
            if built.checks is not None and having:
                having = self._matching(built.checks, [p for p in chunk if p in having])
            pairs = zip(addresses[start:end], chunk, strict=True)
            kept += [(a, pid) for a, pid in pairs if pid in having]
            if len(kept) > wanted:
                break
        # Too few, and more papers might qualify: ask every paper, unless a phrase of
        # common words would make that a walk through most of the index.
        if len(kept) <= wanted and len(addresses) >= pool and (rare_phrase or not query.phrases):
            return None
        return [a for a, _ in kept], [pid for _, pid in kept]

    def only(self, ids: Sequence[int]) -> Query:
        """Unscored "one of these papers": a union of id terms, which (unlike a term set
        query, which builds a bitset per segment) costs only a seek per id."""
        terms = [(_S, Query.term_query(self.schema, "id", pid)) for pid in ids]
        return Query.const_score_query(Query.boolean_query(terms), 0.0)

    def _matching(self, query: Query, ids: list[int]) -> set[int]:
        """Which of these papers match a query."""
        if not ids:
            return set()
        found = self.searcher.search(
            Query.boolean_query([(_M, self.only(ids)), (_M, query)]), len(ids), count=False
        ).hits
        return {int(p or 0) for p in self.searcher.fast_field_values("id", [a for _, a in found])}

    def _stage(
        self, first: Query, depth: int, count: bool
    ) -> tuple[list[tantivy.DocAddress], list[int], int]:
        """The first stage's best `depth` papers: addresses, ids, and the match count.
        Equal scores come in index order, which the writer's threads shuffle on every
        rebuild: they go newest paper first, so no ranking depends on how it was indexed."""
        result = self.searcher.search(first, depth, count=count)
        addresses = [addr for _, addr in result.hits]
        if not addresses:
            return [], [], int(getattr(result, "count", None) or 0)
        ids = [int(p or 0) for p in self.searcher.fast_field_values("id", addresses)]
        scores = [score for score, _ in result.hits]
        order = sorted(range(len(ids)), key=lambda i: (-scores[i], -ids[i]))
        return (
            [addresses[i] for i in order],
            [ids[i] for i in order],
            int(getattr(result, "count", None) or 0),
        )

    def _order(
        self, built: Built, addresses: list[tantivy.DocAddress], ids: list[int]
    ) -> tuple[list[tuple[int, float]], dict[int, float], dict[Leaf, Scores]]:
        """Candidates reordered by the rerank expression (ties keep first-stage order),
        their coverage of the query's words, and the leaves' scores."""
        if not addresses or built.rerank is None:
            return [], {}, {}
        leaves = self._leaves(built.rerank, addresses, ids)
        scores = evaluate(built.rerank, leaves)
        order = sorted(range(len(ids)), key=lambda i: (-scores.get(ids[i], 0.0), i))
        ranked = [(ids[i], scores.get(ids[i], 0.0)) for i in order]
        return ranked, coverage_of(built.units, leaves), leaves

    def _leaves(
        self, expr: Expr, addresses: list[tantivy.DocAddress], ids: list[int]
    ) -> dict[Leaf, Scores]:
        """Each leaf's scores on the candidates (a term or phrase in one field, a cheap seek)."""
        by_address = {(a.segment_ord, a.doc): pid for a, pid in zip(addresses, ids, strict=True)}
        only = self.only(ids)
        leaves: dict[Leaf, Scores] = {}
        for leaf in leaves_of(expr):
            if any(self.searcher.doc_freq(leaf.field, s) == 0 for s in set(leaf.stems)):
                continue
            query = Query.boolean_query([(_M, only), (_M, leaf_query(self.schema, leaf))])
            found = self.searcher.search(query, len(ids), count=False).hits
            leaves[leaf] = {by_address[(a.segment_ord, a.doc)]: float(score) for score, a in found}
        return leaves

    def more_like_this(
        self, paper_id: int, *, limit: int, text: dict[str, str] | None = None
    ) -> list[tuple[int, float]]:
        """Papers similar to one paper (from its text if given, else its stored title)."""
        searcher = self.searcher
        if text is None:
            found = searcher.search(Query.term_query(self.schema, "id", paper_id), 1).hits
            if not found:
                return []
            text = {"title": str(searcher.doc(found[0][1]).get_first("title") or "")}
        fields = {k: [fold(v)] for k, v in text.items() if v.strip()}
        if not fields:
            return []
        mlt = Query.more_like_this_document_fields_query(
            self.schema,
            fields,
            min_doc_frequency=1,
            max_doc_frequency=max(10, searcher.num_docs // 5),
            min_term_frequency=1,
            max_query_terms=30,
            min_word_length=3,
        )
        query = Query.boolean_query(
            [
                (tantivy.Occur.Should, mlt),
                (tantivy.Occur.MustNot, Query.term_query(self.schema, "id", paper_id)),
            ]
        )
        hits, _ = self.run(query, limit=limit)
        return hits


__all__ = ["COUNT_UP_TO", "Lexical", "Ranked", "coverage_of"]
