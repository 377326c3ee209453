"""Judged-query evaluation over the bundled sample papers: paperbot's search and baselines.

The judged set (tests/data/judged_queries.jsonl) has a tuning split (the original 78 queries
and about half the later ones) and a held-out split that paperbot's ranking was not tuned on.
Baselines: plain BM25 over title and abstract (tantivy), a sanitized SQLite FTS5 bm25,
dense only (best passage), and plain RRF (k=60) of FTS5 and dense.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import tantivy
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import SearchSettings
from paperbot.core import db
from paperbot.core.models import Paper
from paperbot.core.search import SearchIndex, parse_query
from paperbot.core.search.analysis import analyze, stop_stems
from paperbot.core.search.hybrid import HybridSearch, dense_text

SAMPLE = Path(__file__).parents[2] / "paperbot" / "data" / "sample_papers.jsonl"
JUDGED = Path(__file__).parents[1] / "data" / "judged_queries.jsonl"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
Ranker = Callable[[str], list[int]]


def load_sample(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        for seq, line in enumerate(SAMPLE.read_text().splitlines(), start=1):
            item = json.loads(line)
            digest = hashlib.sha1(item["title"].encode()).hexdigest()[:16]
            session.add(
                Paper(
                    key=f"title:{digest}",
                    title=item["title"],
                    abstract=item["abstract"],
                    announced=date(2026, 11, 1),
                    first_seen_at=NOW,
                    updated_at=NOW,
                    change_seq=seq,
                )
            )


def judged(split: str | None = None) -> list[dict[str, object]]:
    items = [json.loads(line) for line in JUDGED.read_text().splitlines() if line.strip()]
    return [i for i in items if split is None or i.get("split") == split]


def ndcg_at_10(ranked: list[str], relevant: dict[str, int]) -> float:
    dcg = sum((2 ** relevant.get(t, 0) - 1) / math.log2(i + 2) for i, t in enumerate(ranked[:10]))
    ideal = sorted(relevant.values(), reverse=True)[:10]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


@dataclass
class Sample:
    """The sample papers in a SQLite store, their lexical index and the hybrid engine."""

    factory: sessionmaker[Session]
    lexical: SearchIndex
    hybrid: HybridSearch
    titles: dict[int, str]


def build_sample(tmp: Path) -> Sample:
    engine = create_engine(f"sqlite:///{tmp / 'quality.db'}")
    db.upgrade(engine)
    factory = db.make_session_factory(engine)
    load_sample(factory)
    lexical = SearchIndex(tmp / "index")
    hybrid = HybridSearch(lexical, SearchSettings())
    lexical.catch_up(factory)
    report = hybrid.backfill(factory)  # the shipped sample vectors: no model run
    assert report is not None and report.embedded == 0, report
    with factory() as session:
        titles = {p.id: p.title for p in session.query(Paper).all()}
    return Sample(factory, lexical, hybrid, titles)


def bm25(index: SearchIndex) -> Ranker:
    """Plain BM25: analysed words (no stopwords) OR-ed over title^2 and abstract."""

    def rank(text: str) -> list[int]:
        stems = [s for s in analyze(text) if s not in stop_stems()] or analyze(text)
        clauses = [
            (
                tantivy.Occur.Should,
                tantivy.Query.boost_query(tantivy.Query.term_query(index.schema, f, s), boost),
            )
            for s in stems
            for f, boost in (("title", 2.0), ("abstract", 1.0))
        ]
        if not clauses:
            return []
        hits, _ = index.lexical().run(tantivy.Query.boolean_query(clauses), limit=50)
        return [pid for pid, _ in hits]

    return rank


def fts5(sample: Sample) -> Ranker:
    """SQLite FTS5 bm25 (porter stemming), the query's words OR-ed as quoted tokens."""
    conn = sqlite3.connect(":memory:")
    conn.execute("create virtual table f using fts5(title, abstract, tokenize='porter unicode61')")
    with sample.factory() as session:
        for p in session.query(Paper).all():
            conn.execute(
                "insert into f(rowid, title, abstract) values (?,?,?)", (p.id, p.title, p.abstract)
            )

    def rank(text: str) -> list[int]:
        words = re.findall(r"\w+", text.lower())
        if not words:
            return []
        expr = " OR ".join(f'"{w}"' for w in words)
        sql = "select rowid from f where f match ? order by bm25(f, 2.0, 1.0) limit 50"
        return [int(r[0]) for r in conn.execute(sql, (expr,))]

    return rank


def dense(sample: Sample) -> Ranker:
    vectors = sample.hybrid.vectors
    assert vectors is not None

    def rank(text: str) -> list[int]:
        vector = sample.hybrid.query_vector(dense_text(parse_query(text, now=NOW)) or text)
        if vector is None:
            return []
        scores = vectors.scores(vector, sample.titles)
        return sorted(scores, key=lambda pid: -scores[pid])[:50]

    return rank


def rrf(*rankers: Ranker, k: int = 60) -> Ranker:
    def rank(text: str) -> list[int]:
        scores: dict[int, float] = defaultdict(float)
        for ranker in rankers:
            for r, pid in enumerate(ranker(text)):
                scores[pid] += 1.0 / (k + r + 1)
        return sorted(scores, key=lambda pid: -scores[pid])

    return rank


def engine(index: SearchIndex | HybridSearch) -> Ranker:
    def rank(text: str) -> list[int]:
        return [pid for pid, _ in index.search(parse_query(text, now=NOW), limit=10).hits]

    return rank


def systems(sample: Sample) -> dict[str, Ranker]:
    return {
        "paperbot": engine(sample.hybrid),
        "lexical": engine(sample.lexical),
        "bm25": bm25(sample.lexical),
        "fts5": fts5(sample),
        "dense": dense(sample),
        "rrf": rrf(fts5(sample), dense(sample)),
    }


def evaluate(
    sample: Sample, rankers: dict[str, Ranker], split: str | None
) -> dict[str, dict[str, float]]:
    """Mean nDCG@10 per system, per query kind and overall ("all")."""
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for item in judged(split):
        text, kind = str(item["query"]), str(item["kind"])
        relevant = dict(item["relevant"])  # type: ignore[call-overload]
        for name, rank in rankers.items():
            value = ndcg_at_10([sample.titles[i] for i in rank(text)], relevant)
            scores[name][kind].append(value)
            scores[name]["all"].append(value)
    return {
        name: {kind: sum(v) / len(v) for kind, v in kinds.items()} for name, kinds in scores.items()
    }


def topic_quality(
    sample: Sample, split: str, *, lexical_only: bool = False
) -> dict[str, dict[str, float]]:
    """The judged queries as channel topics: precision and recall of the papers matched
    (relevance at or above search.topic_threshold), short (<= 3 words) and long topics."""
    # per shape: [matched and relevant, matched, relevant]
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    matcher = sample.lexical if lexical_only else sample.hybrid
    for item in judged(split):
        topic = str(item["query"])
        relevant = set(dict(item["relevant"]))  # type: ignore[call-overload]
        found = matcher.match_topics([topic], since=date(2026, 10, 1), now=NOW)
        matched = {sample.titles[pid] for pid in found}
        shape = "long" if len(parse_query(topic, now=NOW).terms) >= 4 else "short"
        for key in (shape, "all"):
            counts[key][0] += len(matched & relevant)
            counts[key][1] += len(matched)
            counts[key][2] += len(relevant)
    return {
        key: {"precision": hit / max(1, n), "recall": hit / max(1, rel)}
        for key, (hit, n, rel) in counts.items()
    }
