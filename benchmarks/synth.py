"""Synthetic paper corpus for benchmarks: Zipf-like text from the sample papers' vocabulary.

Generated once per size and seed, cached as JSONL under benchmarks/.cache/ (the format of
`paperbot ingest --source file`), and reused by every benchmark.

    python benchmarks/synth.py --papers 1000000
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "paperbot" / "data" / "sample_papers.jsonl"
CACHE = Path(__file__).resolve().parent / ".cache"
CATEGORIES = ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "cs.RO", "cs.IR", "stat.ML", "eess.AS", "cs.NE"]
FIRST = ["Ada", "Wei", "Maria", "Jon", "Aiko", "Ravi", "Lena", "Omar", "Sofia", "Chen", "Ivan"]
LAST = ["Smith", "Zhang", "Garcia", "Kumar", "Müller", "Sato", "Nguyen", "Okafor", "Rossi", "Kim"]
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-]*")


def vocabulary() -> tuple[list[str], list[float]]:
    """Words of the sample papers by frequency, with Zipf weights 1/rank."""
    counts: Counter[str] = Counter()
    for line in SAMPLE.read_text().splitlines():
        item = json.loads(line)
        counts.update(_WORD.findall(item["title"] + " " + item["abstract"]))
    words = [w for w, _ in counts.most_common()]
    weights = [1.0 / rank for rank in range(1, len(words) + 1)]
    return words, list(itertools.accumulate(weights))


def generate(path: Path, papers: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    words, cum = vocabulary()
    # Titles lean on the less common (topical) words, like real titles do.
    topical = words[30:3000]
    start = date(2025, 1, 1)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as out:
        for n in range(papers):
            title = " ".join(rng.choices(topical, k=rng.randint(5, 12))).capitalize()
            abstract = " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(90, 220)))
            month, seq = divmod(n, 99_000)
            year, mon = divmod(month, 12)
            record = {
                "title": title,
                "abstract": abstract + ".",
                "arxiv_id": f"{25 + year:02d}{mon + 1:02d}.{seq + 1:05d}",
                "authors": [
                    f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.randint(1, 6))
                ],
                "categories": rng.sample(CATEGORIES, rng.randint(1, 3)),
                "published": (start + timedelta(days=n * 700 // max(papers, 1))).isoformat(),
                "upvotes": int(rng.paretovariate(1.5)) - 1,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(path)


def corpus(papers: int, seed: int = 7) -> Path:
    """The cached corpus of this size (generated on first use)."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"papers-{papers}-seed{seed}.jsonl"
    if not path.exists():
        generate(path, papers, seed)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(corpus(args.papers, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
