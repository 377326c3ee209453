"""Search benchmark (not a test, never in CI): ingest N synthetic papers, then time searches.

    python benchmarks/search.py --papers 1000000 [--embed 10000]

In one run: ingest throughput through `paperbot ingest --source file` (SQLite + index);
synthetic embeddings for every paper (synth_vectors.py) and the vector index build time;
database, index and vector sizes; latency p50/p95/p99 over varied queries of two bare
tantivy queries (the words only; the same question with its phrases, exclusions and
filters), paperbot's lexical search and its hybrid search (the query's embedding
included: its cache is cleared before each query), both through the search use case;
memory; a one-off `paperbot search`; and the model's embedding throughput on papers with
abstracts of real length. Targets (2 cores, 1M papers): hybrid p95 <= 25 ms, lexical p95
within 1.5x of the bare engine, peak RSS <= 1.5 GB, 2,000 papers embedded in <= 5 min.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import tantivy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from embedding_speed import throughput
from stats import latency_ms
from synth import CACHE, SAMPLE, corpus, vocabulary
from synth_vectors import fill

from paperbot.config import SearchSettings
from paperbot.core import db
from paperbot.core.search import SearchIndex, parse_query, search_papers
from paperbot.core.search.analysis import analyze
from paperbot.core.search.hybrid import HybridSearch
from paperbot.core.search.querybuild import QueryBuilder

BIN = Path(sys.executable).with_name("paperbot")
NOW = datetime(2027, 1, 1, tzinfo=UTC)


def run_cli(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KiB) and stdout of one `paperbot ...` process."""
    return run([str(BIN), *args], env)


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode})")
    return time.perf_counter() - start, usage.ru_maxrss, out


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def queries(count: int, seed: int = 3) -> list[str]:
    """Varied queries: common single words, rare words, pairs, phrases, typos, filters."""
    rng = random.Random(seed)
    words = [w.lower() for w in vocabulary()[0] if len(w) > 2]
    common, topical = words[:40], words[40:2000]
    out = ["learning", "model", "models", "data", "neural", "representation", "the"]
    makers = [
        lambda: rng.choice(common),
        lambda: rng.choice(topical),
        lambda: f"{rng.choice(topical)} {rng.choice(topical)}",
        lambda: f"{rng.choice(common)} {rng.choice(topical)} {rng.choice(topical)}",
        lambda: f'"{rng.choice(common)} {rng.choice(common)}"',
        lambda: f"{rng.choice(topical)} -{rng.choice(common)}",
        lambda: f"{rng.choice(topical)}x{rng.choice('aeiou')}",
        lambda: f"{rng.choice(topical)} since:30d",
        lambda: f"{rng.choice(topical)} cat:cs.CV",
        lambda: f"{rng.choice(topical)} author:kim",
        lambda: rng.choice(["LLM", "ViT", "RLHF", "GNN", "large language models", "INR"]),
    ]
    while len(out) < count:
        out.append(rng.choice(makers)())
    return out


def graph_recall(hybrid: HybridSearch, count: int = 30) -> dict[str, float] | str:
    """Share of the exact 10 / 100 nearest centroids the vector index returns, for queries
    like users type (sample paper titles, which land among the clustered synthetic papers).
    The synthetic clusters are dense (the best 100 lie within ~0.03 of cosine), so int8
    rounding reorders near-ties: "within_0.005" also counts a paper whose exact cosine is
    within 0.005 of the k-th best."""
    vectors = hybrid.vectors
    if vectors is None or len(vectors) <= vectors.exact_limit:
        return "exact search (below search.exact_limit)"
    titles = [json.loads(line)["title"] for line in SAMPLE.read_text().splitlines()][:count]
    strict = {10: 0, 100: 0}
    near = {10: 0, 100: 0}
    for text in titles:
        query = hybrid.query_vector(text)
        assert query is not None
        exact = vectors._exact_nearest(query, 100)
        got = [pid for pid, _ in vectors.nearest(query, 100)]
        scores = vectors.centroid_scores(query, got)
        for k in strict:
            strict[k] += len({pid for pid, _ in exact[:k]} & set(got[:k]))
            near[k] += sum(scores[pid] >= exact[k - 1][1] - 0.005 for pid in got[:k])
    out = {f"recall_at_{k}": round(n / (k * len(titles)), 3) for k, n in strict.items()}
    out |= {f"recall_at_{k}_within_0.005": round(n / (k * len(titles)), 3) for k, n in near.items()}
    return out


def top5(samples: list[float], texts: list[str]) -> list[tuple[float, str]]:
    return sorted(zip(samples, texts, strict=True), reverse=True)[:5]


def rss_now_mb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024)
    return 0


def bare_engine(index: SearchIndex, text: str) -> None:
    """The words only (quotes, exclusions and filters dropped), OR-ed over title and
    abstract, top 10: the floor any engine pays for the words of the query."""
    stems = analyze(text.replace('"', " ")) or ["model"]
    query = tantivy.Query.boolean_query(
        [
            (tantivy.Occur.Should, tantivy.Query.term_query(index.schema, field, stem))
            for stem in stems
            for field in ("title", "abstract")
        ]
    )
    index._index.searcher().search(query, 10, count=False)


def bare_same_query(index: SearchIndex, text: str) -> None:
    """The same question asked of bare tantivy, top 10: the words OR-ed over title and
    abstract, each quoted phrase a phrase query (title or abstract) that must match,
    exclusions must-not, and the query's filters (category, author, since)."""
    parsed = parse_query(text, now=NOW)
    schema, occur = index.schema, tantivy.Occur

    def anywhere(stems: list[str]) -> tantivy.Query:
        fields = ("title", "abstract")
        if len(stems) == 1:
            parts = [tantivy.Query.term_query(schema, f, stems[0]) for f in fields]
        else:
            parts = [tantivy.Query.phrase_query(schema, f, stems) for f in fields]
        return tantivy.Query.boolean_query([(occur.Should, q) for q in parts])

    words = [s for w in parsed.terms for s in analyze(w)]
    clauses = [
        (occur.Should, tantivy.Query.term_query(schema, field, stem))
        for stem in words
        for field in ("title", "abstract")
    ]
    searcher = index._index.searcher()
    clauses += [(occur.Must, f) for f in QueryBuilder(schema, searcher).filters(parsed)]
    clauses += [(occur.Must, anywhere(s)) for p in parsed.phrases if (s := analyze(p))]
    clauses += [
        (occur.MustNot, anywhere(s))
        for t in (*parsed.excluded_terms, *parsed.excluded_phrases)
        if (s := analyze(t))
    ]
    if not any(o in (occur.Must, occur.Should) for o, _ in clauses):
        clauses.append((occur.Must, tantivy.Query.all_query()))
    minimum = 1 if words and any(o == occur.Must for o, _ in clauses) else None
    searcher.search(tantivy.Query.boolean_query(clauses, minimum), 10, count=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--reuse", action="store_true", help="skip ingest if the store exists")
    parser.add_argument(
        "--keep-vectors", action="store_true", help="with --reuse: keep the vector index"
    )
    parser.add_argument(
        "--embed", type=int, default=10_000, help="papers for embedding throughput (0: skip)"
    )
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    source = corpus(args.papers)
    report: dict[str, object] = {"papers": args.papers, "synth_seconds": time.perf_counter() - t0}
    work = CACHE / f"run-{args.papers}"
    db_path, index_dir = work / "paperbot.db", work / "paperbot.db.index"
    env = {
        **os.environ,
        "PAPERBOT_DATABASE_URL": f"sqlite:///{db_path}",
        "PAPERBOT_SEED_SAMPLE_DATA": "false",
        "PAPERBOT_CONFIG": os.devnull,
        "PAPERBOT_LOG_LEVEL": "WARNING",
    }
    if not (args.reuse and db_path.exists()):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        seconds, rss, _ = run_cli(["ingest", "--source", "file", str(source)], env)
        report["ingest_via"] = "paperbot ingest --source file"
        report |= {
            "ingest_seconds": round(seconds, 1),
            "ingest_papers_per_s": round(args.papers / seconds),
            "ingest_peak_rss_mb": round(rss / 1024),
        }
    report["db_mb_before_embeddings"] = round(
        sum(size_of(p) for p in work.glob("paperbot.db*") if p.is_file()) / 2**20
    )
    engine = db.create_db_engine(f"sqlite:///{db_path}")
    factory = db.make_session_factory(engine)
    start = time.perf_counter()
    report["synthetic_embeddings_written"] = fill(factory)
    report["synthetic_embeddings_seconds"] = round(time.perf_counter() - start, 1)
    index = SearchIndex(index_dir)
    hybrid = HybridSearch(index, SearchSettings())
    if not args.keep_vectors:
        shutil.rmtree(hybrid.vectors_path, ignore_errors=True)  # derived: timed from scratch
    start = time.perf_counter()
    hybrid.catch_up(factory)
    report["vector_index_build_seconds"] = round(time.perf_counter() - start, 1)
    report["vector_index_build_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    report |= {
        "db_mb": round(sum(size_of(p) for p in work.glob("paperbot.db*") if p.is_file()) / 2**20),
        "index_mb": round(size_of(index_dir) / 2**20),
        "vectors_mb": round(size_of(hybrid.vectors_path) / 2**20),
    }
    texts = queries(args.queries)
    for text in texts[:20]:  # warm the page cache, the reader and the model
        search_papers(factory, index, text, now=NOW)
        search_papers(factory, hybrid, text, now=NOW)
    ours, bare, same, mixed = [], [], [], []
    for text in texts:
        start = time.perf_counter()
        search_papers(factory, index, text, now=NOW)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        bare_engine(index, text)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        bare_same_query(index, text)
        same.append(time.perf_counter() - start)
        hybrid.query_vector.cache_clear()
        start = time.perf_counter()
        search_papers(factory, hybrid, text, now=NOW)
        mixed.append(time.perf_counter() - start)
    report["queries"] = len(texts)
    report["bare_engine"] = latency_ms(bare)
    report["bare_same_query"] = latency_ms(same)
    report["paperbot_lexical"] = latency_ms(ours)
    for name in ("bare_engine", "bare_same_query"):
        report[f"lexical_over_{name}_p95"] = round(
            report["paperbot_lexical"]["p95_ms"] / report[name]["p95_ms"], 2
        )
    report["paperbot_hybrid"] = latency_ms(mixed)
    start = time.perf_counter()
    for text in texts[:100]:
        hybrid.query_vector.cache_clear()
        hybrid.query_vector(text)
    report["query_embedding_ms_mean"] = round((time.perf_counter() - start) * 10, 2)
    report["slowest_lexical"] = [f"{s * 1000:.1f} ms {t}" for s, t in top5(ours, texts)]
    report["slowest_hybrid"] = [f"{s * 1000:.1f} ms {t}" for s, t in top5(mixed, texts)]
    report["rss_serving_mb"] = rss_now_mb()
    report["bench_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    report["graph_recall"] = graph_recall(hybrid)
    engine.dispose()
    hybrid.close()

    try:
        cli = [run_cli(["search", "diffusion models"], env) for _ in range(3)]
        report["cli_search_seconds"] = [round(s, 2) for s, _, _ in cli]
        report["cli_search_peak_rss_mb"] = round(max(r for _, r, _ in cli) / 1024)
    except RuntimeError as exc:
        report["cli_search_seconds"] = f"not measured: {exc}"

    if args.embed:
        report["embedding"] = throughput(args.embed)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    (CACHE / f"results-{args.papers}.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
