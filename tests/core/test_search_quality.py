"""Search quality: nDCG@10 on judged queries over the sample papers, both splits, baselines.

python tests/core/test_search_quality.py [query ...]   # the report (and hits of queries)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from judged import NOW, SAMPLE, Sample, build_sample, evaluate, judged, systems, topic_quality

from paperbot.core.search import parse_query


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return build_sample(tmp_path_factory.mktemp("quality"))


def test_judged_set_is_large_graded_and_split() -> None:
    items = judged()
    kinds = [str(i["kind"]) for i in items]
    assert len(items) >= 150
    assert kinds.count("paraphrase") >= 40 and kinds.count("typo") >= 30
    assert {"keyword", "acronym", "paraphrase", "broad", "messy", "typo"} <= set(kinds)
    assert len(judged("heldout")) >= 40 and len(judged("tune")) + len(judged("heldout")) == len(
        items
    )
    titles = {json.loads(line)["title"] for line in SAMPLE.read_text().splitlines()}
    for item in items:
        relevant = dict(item["relevant"])  # type: ignore[call-overload]
        assert relevant and set(relevant) <= titles
        assert set(relevant.values()) <= {1, 2}
    assert len({str(i["query"]) for i in items}) == len(items)


def test_hybrid_beats_the_baselines(sample: Sample) -> None:
    """On the tuning split it beats every baseline; on the held-out split (never tuned on,
    so only loose floors here) it beats the lexical ones and dense search alone."""
    tune = evaluate(sample, systems(sample), "tune")
    ours = tune.pop("paperbot")
    for name, base in tune.items():
        assert ours["all"] > base["all"] + 0.05, (name, ours, base)
    assert ours["all"] >= 0.88 and ours["typo"] >= 0.88
    assert ours["paraphrase"] >= tune["lexical"]["paraphrase"] + 0.15
    held = evaluate(sample, systems(sample), "heldout")
    ours = held.pop("paperbot")
    for name in ("lexical", "bm25", "fts5", "dense"):
        assert ours["all"] > held[name]["all"], (name, ours, held[name])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("pointcloud registraton", "Point Cloud Registration"),
        ("what's JEPA?", "Learning and Leveraging World Models in Visual Representation"),
        ("putting broken pieces of an object back together", "Shape Assembly"),
    ],
)
def test_hard_queries_find_their_paper_first(sample: Sample, query: str, expected: str) -> None:
    hits = sample.hybrid.search(parse_query(query, now=NOW), limit=3).hits
    assert expected in sample.titles[hits[0][0]]


def test_an_apostrophe_leaves_no_stray_word(sample: Sample) -> None:
    hits = sample.lexical.search(parse_query("what's JEPA?", now=NOW), limit=10).hits
    titles = [sample.titles[pid] for pid, _ in hits]
    assert titles == ["Learning and Leveraging World Models in Visual Representation Learning"]


def test_topics_by_meaning_are_precise_and_find_more_than_words_alone(sample: Sample) -> None:
    hybrid = topic_quality(sample, "tune")["all"]
    words = topic_quality(sample, "tune", lexical_only=True)["all"]
    assert hybrid["precision"] >= 0.7
    assert hybrid["recall"] > words["recall"]


def report(sample: Sample) -> None:
    for split in ("tune", "heldout"):
        print(f"\n{split} split ({len(judged(split))} queries), nDCG@10")
        result = evaluate(sample, systems(sample), split)
        kinds = sorted(result["paperbot"])
        print(f"{'system':10}" + "".join(f"{k:>11}" for k in kinds))
        for name, values in result.items():
            print(f"{name:10}" + "".join(f"{values.get(k, 0):11.3f}" for k in kinds))
        for label, lexical_only in (("topics (hybrid)", False), ("topics (words only)", True)):
            quality = topic_quality(sample, split, lexical_only=lexical_only)
            print(
                f"{label}: "
                + ", ".join(
                    f"{k} precision {v['precision']:.2f} recall {v['recall']:.2f}"
                    for k, v in sorted(quality.items())
                )
            )


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        built = build_sample(Path(tmp))
        report(built)
        for text in sys.argv[1:]:
            print(f"\n{text}")
            for pid, score in built.hybrid.search(parse_query(text, now=NOW), limit=10).hits:
                print(f"  {score:7.3f} {built.titles[pid][:90]}")
