"""Embedding throughput of the bundled model on papers with abstracts of real length.

The papers are made from the 239 sample papers: each takes a real abstract's number of
sentences, filled with sentences drawn from all the real abstracts, and a real title.
Embedded as the backfill does (passages, batches, the configured threads and token budget;
PAPERBOT_SEARCH__MODEL_PATH measures another model).

    python benchmarks/embedding_speed.py --papers 2000
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

from paperbot.config import load_settings
from paperbot.core.search.model import SentenceModel, model_files
from paperbot.core.search.passages import passages

SAMPLE = Path(__file__).resolve().parents[1] / "paperbot" / "data" / "sample_papers.jsonl"
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def papers(count: int, seed: int = 5) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    real = [json.loads(line) for line in SAMPLE.read_text().splitlines() if line.strip()]
    pool = [s for item in real for s in _SENTENCE.split(item["abstract"]) if s]
    out = []
    for _ in range(count):
        model_paper = rng.choice(real)
        n = len(_SENTENCE.split(model_paper["abstract"]))
        out.append((rng.choice(real)["title"], " ".join(rng.choices(pool, k=n))))
    return out


def throughput(count: int) -> dict[str, object]:
    settings = load_settings().search  # the configured model, threads and token budget
    model = SentenceModel(
        model_files(settings), max_tokens=settings.max_tokens, threads=settings.threads
    )
    model.load()
    items = papers(count)
    texts = [passages(title, abstract) for title, abstract in items]
    start = time.perf_counter()
    for chunk in texts:
        model.encode(chunk, batch=settings.embed_batch)
    seconds = time.perf_counter() - start
    rate = count / seconds
    return {
        "papers": count,
        "passages": sum(len(t) for t in texts),
        "max_tokens": settings.max_tokens,
        "threads": settings.threads,
        "seconds": round(seconds, 1),
        "papers_per_s": round(rate, 2),
        "minutes_for_2000_papers": round(2000 / rate / 60, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=10_000)
    args = parser.parse_args(argv)
    print(json.dumps(throughput(args.papers), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
