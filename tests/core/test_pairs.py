"""Indexed pairs of common words: exactly the index's own tokens side by side, and quoted
phrases of common words finding the same papers with them as position checks alone do."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import tantivy
from paper_rows import add_paper
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.search import SearchIndex, parse_query
from paperbot.core.search.analysis import analyze, fold
from paperbot.core.search.lexicon import COMMON_STEMS
from paperbot.core.search.pairs import pair_term, text_pairs

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SAMPLE = Path(__file__).resolve().parents[2] / "paperbot" / "data" / "sample_papers.jsonl"
PAPERS = [json.loads(line) for line in SAMPLE.read_text().splitlines()][:60]
TRICKY = [
    "State-of-the-art results: the_model, the 3D model and the GPT-4 model.",
    "LLMs are the models we use; what's the image? Bird's-eye view of the data.",
    "Naïve Über the image, the İmage, THE IMAGES, the\u00a0image, the—image.",
    "",
    "the",
]


def index_pairs(text: str) -> list[str]:
    """The pairs as the index's own analyzer sees them (texts without 40-byte tokens)."""
    stems = analyze(text)
    return sorted({f"{a}_{b}" for a, b in itertools.pairwise(stems) if {a, b} <= COMMON_STEMS})


@pytest.mark.parametrize(
    "text", [p["title"] for p in PAPERS] + [p["abstract"] for p in PAPERS] + TRICKY
)
def test_pairs_are_the_index_tokens_side_by_side(text: str) -> None:
    assert sorted(text_pairs([fold(text)])) == index_pairs(text)


def test_no_pair_spans_two_fields_or_a_dropped_long_token() -> None:
    pairs = text_pairs(["A study of this", "image models"])
    assert sorted(pairs) == ["a_studi", "imag_model", "of_this", "studi_of"]  # no "this_imag"
    assert text_pairs(["the " + "x" * 45 + " model"]) == []  # the index drops it, keeps the gap
    assert text_pairs(["the — model", "the model"]) == ["the_model"]  # "—" is no token
    assert pair_term(["this", "imag"]) == "this_imag"
    assert pair_term(["this", "segment"]) is None  # "segment" is not common
    assert pair_term(["in", "this", "paper"]) is None  # longer phrases are checked as before


@pytest.mark.parametrize("large", [False, True])
def test_phrases_of_common_words_find_what_position_checks_find(
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    large: bool,
) -> None:
    from paperbot.core.search import lexical

    if large:  # the path of a big index: no counting, phrases costed by their pairs
        monkeypatch.setattr(lexical, "COUNT_UP_TO", 0)
    for paper in PAPERS:
        add_paper(session_factory, paper["title"], paper["abstract"])
    add_paper(session_factory, "Images of this", "A study of this images set.")
    add_paper(session_factory, "Models for the study", "Image this, then the image study.")
    index = SearchIndex(tmp_path / "index")
    index.catch_up(session_factory)
    searcher = index._index.searcher()
    schema = index.schema
    phrases = [
        "this image",
        "the model",
        "of the",
        "we propose a",
        "results show",
        "image study",
        "in this paper we",
        "show that the",
    ]
    for phrase in phrases:
        stems = analyze(phrase)
        assert pair_term(stems) or len(stems) > 2, phrase
        by_position = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, tantivy.Query.phrase_query(schema, field, stems))
                for field in ("title", "keywords", "abstract")
            ]
        )
        expected = {
            int(pid)
            for pid in searcher.fast_field_values(
                "id", [a for _, a in searcher.search(by_position, 500).hits]
            )
        }
        found = {
            pid for pid, _ in index.search(parse_query(f'"{phrase}"', now=NOW), limit=500).hits
        }
        assert found == expected, phrase
        assert expected, phrase
