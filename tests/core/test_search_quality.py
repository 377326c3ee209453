"""Search quality: nDCG@10 on a judged query set over the bundled sample papers."""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import tantivy
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core import db
from paperbot.core.models import Paper
from paperbot.core.search import SearchIndex, parse_query
from paperbot.core.search.analysis import analyze, stop_stems

SAMPLE = Path(__file__).parents[2] / "paperbot" / "data" / "sample_papers.jsonl"
JUDGED = Path(__file__).parents[1] / "data" / "judged_queries.jsonl"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


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


def judged() -> list[dict[str, object]]:
    return [json.loads(line) for line in JUDGED.read_text().splitlines() if line.strip()]


def ndcg_at_10(ranked: list[str], relevant: dict[str, int]) -> float:
    dcg = sum((2 ** relevant.get(t, 0) - 1) / math.log2(i + 2) for i, t in enumerate(ranked[:10]))
    ideal = sorted(relevant.values(), reverse=True)[:10]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def bm25_baseline(index: SearchIndex, text: str, limit: int) -> list[int]:
    """Plain BM25: analysed words (no stopwords) OR-ed over title^2 and abstract."""
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
    hits, _ = index.lexical().run(tantivy.Query.boolean_query(clauses), limit=limit)
    return [pid for pid, _ in hits]


def evaluate(index: SearchIndex, titles: dict[int, str]) -> dict[str, dict[str, float]]:
    """Mean nDCG@10 per query kind and overall, for paperbot's search and the baseline."""
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for item in judged():
        text, kind = str(item["query"]), str(item["kind"])
        relevant = dict(item["relevant"])  # type: ignore[call-overload]
        ours = index.search(parse_query(text, now=NOW), limit=10).hits
        base = bm25_baseline(index, text, 10)
        for name, ids in (("paperbot", [pid for pid, _ in ours]), ("bm25", base)):
            value = ndcg_at_10([titles[i] for i in ids], relevant)
            scores[name][kind].append(value)
            scores[name]["all"].append(value)
    return {
        name: {kind: sum(v) / len(v) for kind, v in kinds.items()} for name, kinds in scores.items()
    }


def build_sample_index(tmp: Path) -> tuple[SearchIndex, dict[int, str]]:
    engine = create_engine(f"sqlite:///{tmp / 'quality.db'}")
    db.upgrade(engine)
    factory = db.make_session_factory(engine)
    load_sample(factory)
    index = SearchIndex(tmp / "index")
    index.catch_up(factory)
    with factory() as session:
        titles = {p.id: p.title for p in session.query(Paper).all()}
    engine.dispose()
    return index, titles


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[SearchIndex, dict[int, str]]:
    return build_sample_index(tmp_path_factory.mktemp("quality"))


def test_judged_set_is_large_and_graded() -> None:
    items = judged()
    kinds = {str(i["kind"]) for i in items}
    assert len(items) >= 60
    assert {"keyword", "acronym", "paraphrase", "broad", "messy"} <= kinds
    titles = {json.loads(line)["title"] for line in SAMPLE.read_text().splitlines()}
    for item in items:
        relevant = dict(item["relevant"])  # type: ignore[call-overload]
        assert relevant and set(relevant) <= titles
        assert set(relevant.values()) <= {1, 2}


def test_ndcg_beats_plain_bm25(sample_index: tuple[SearchIndex, dict[int, str]]) -> None:
    index, titles = sample_index
    result = evaluate(index, titles)
    assert result["paperbot"]["all"] >= 0.85
    assert result["paperbot"]["all"] > result["bm25"]["all"] + 0.03
    for kind in ("keyword", "acronym", "messy"):
        assert result["paperbot"][kind] >= result["bm25"][kind]


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        idx, names = build_sample_index(Path(tmp))
        for system, kinds in evaluate(idx, names).items():
            print(system, " ".join(f"{k}={v:.3f}" for k, v in sorted(kinds.items())))
        for query in sys.argv[1:]:
            hits = idx.search(parse_query(query, now=NOW), limit=10).hits
            print(f"\n{query}")
            for pid, score in hits:
                print(f"  {score:7.3f} {names[pid][:90]}")
