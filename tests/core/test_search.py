"""The search use cases: search_papers (cards, paging, why) and similar_papers."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from paper_rows import add_paper
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.models import Paper
from paperbot.core.search import (
    QueryTooLong,
    SearchIndex,
    explain_match,
    search_papers,
    similar_papers,
)
from paperbot.core.search.typos import edit_distance

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def top(factory: sessionmaker[Session], index: SearchIndex, text: str) -> str:
    return search_papers(factory, index, text, now=NOW).cards[0].title


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    return SearchIndex(tmp_path / "index")


def test_search_returns_cards_in_rank_order_with_why(
    session_factory: sessionmaker[Session], index: SearchIndex
) -> None:
    add_paper(
        session_factory, "Video diffusion models", "Diffusion for video.", arxiv_id="2611.00001"
    )
    add_paper(session_factory, "Graph networks", "Message passing; a diffusion aside.")
    index.catch_up(session_factory)
    result = search_papers(session_factory, index, "diffusion video", now=NOW)
    assert [c.title for c in result.cards] == ["Video diffusion models", "Graph networks"]
    assert result.cards[0].why == "matches: diffusion, video"
    assert result.cards[0].url == "https://arxiv.org/abs/2611.00001"
    assert result.total == 2 and result.page == 1 and not result.has_next


def test_the_why_from_the_ranking_is_the_why_from_the_paper_text(
    session_factory: sessionmaker[Session], index: SearchIndex
) -> None:
    """Cards take the words a paper holds from the rerank's matches, not by reading its
    text again; both must say the same."""
    sample = Path(__file__).resolve().parents[2] / "paperbot" / "data" / "sample_papers.jsonl"
    for line in sample.read_text().splitlines()[:80]:
        paper = json.loads(line)
        add_paper(session_factory, paper["title"], paper["abstract"])
    index.catch_up(session_factory)
    queries = [
        "diffusion models",
        "state-of-the-art image-to-image",
        "LLM",
        "what's JEPA?",
        "represntation lerning",
        '"the model" training',
        "contrastive -image",
        "pointcloud registration",
    ]
    for text in queries:
        result = search_papers(session_factory, index, text, now=NOW)
        assert result.cards, text
        with session_factory() as session:
            rows = {p.key: p for p in session.scalars(select(Paper))}
        for card in result.cards:
            assert card.why == explain_match(result.query, rows[card.key]), (text, card.title)


def test_a_search_answers_while_an_ingest_batch_is_being_written(
    session_factory: sessionmaker[Session], index: SearchIndex
) -> None:
    """An ingest batch holds its write transaction for about a second; a search meanwhile
    reads the papers as they were, at once, instead of queueing for the write lock."""
    add_paper(session_factory, "Video diffusion models", "Diffusion for video.")
    index.catch_up(session_factory)
    writing, searched = threading.Event(), threading.Event()
    waited_out: list[bool] = []

    def ingest_batch() -> None:
        with session_factory.begin() as session:
            session.execute(update(Paper).values(title="Renamed mid-batch"))
            writing.set()
            waited_out.append(not searched.wait(5))

    writer = threading.Thread(target=ingest_batch)
    writer.start()
    try:
        assert writing.wait(5)
        result = search_papers(session_factory, index, "diffusion video", now=NOW)
    finally:
        searched.set()
        writer.join()
    assert waited_out == [False], "the search waited for the writer to commit"
    assert [c.title for c in result.cards] == ["Video diffusion models"]


def test_equal_matches_list_the_newest_paper_first_on_every_rebuild(
    session_factory: sessionmaker[Session], index: SearchIndex
) -> None:
    """Ties once came in the index's own order, which its writer threads shuffle on each
    rebuild: the same search listed the same papers in another order after a restart."""
    for n in range(7):
        add_paper(session_factory, f"Sparse attention {n}", "Sparse attention for long inputs.")
    index.catch_up(session_factory)
    newest_first = [f"Sparse attention {n}" for n in (6, 5, 4, 3, 2)]
    for _ in range(2):
        cards = search_papers(session_factory, index, "sparse attention", now=NOW).cards
        assert [c.title for c in cards] == newest_first
        index.rebuild(session_factory)


def test_a_filters_only_search_lists_each_day_newest_paper_first_on_every_rebuild(
    session_factory: sessionmaker[Session], index: SearchIndex
) -> None:
    """With no words to score, papers come by day; those of one day once came in the
    index's own order, so pages on two replicas (or after a rebuild) could differ."""
    for n in range(6):
        add_paper(session_factory, f"Day paper {n}", announced=date(2026, 11, 20 + n % 2))
    index.catch_up(session_factory)
    expected = [f"Day paper {n}" for n in (5, 3, 1, 4, 2)]
    for _ in range(3):
        cards = search_papers(session_factory, index, "since:2026-11-01", now=NOW).cards
        assert [c.title for c in cards] == expected
        index.rebuild(session_factory)


def test_paging(session_factory: sessionmaker[Session], index: SearchIndex) -> None:
    for n in range(12):
        add_paper(session_factory, f"Matryoshka embeddings part {n}")
    index.catch_up(session_factory)
    pages = [
        search_papers(session_factory, index, "matryoshka", page=p, now=NOW) for p in (1, 2, 3)
    ]
    assert [len(p.cards) for p in pages] == [5, 5, 2]
    assert [p.has_next for p in pages] == [True, True, False]
    assert len({c.key for p in pages for c in p.cards}) == 12
    assert search_papers(session_factory, index, "matryoshka page:3", now=NOW).page == 3


def test_papers_deleted_from_sql_are_skipped(
    session_factory: sessionmaker[Session], index: SearchIndex
) -> None:
    gone = add_paper(session_factory, "Concept erasure")
    add_paper(session_factory, "Concept erasure revisited")
    index.catch_up(session_factory)
    with session_factory.begin() as session:
        session.execute(delete(Paper).where(Paper.id == gone))
    result = search_papers(session_factory, index, "erasure", now=NOW)
    assert [c.title for c in result.cards] == ["Concept erasure revisited"]


@pytest.mark.parametrize(
    "text", ["", "'", '"unbalanced', "AND(", "*", "🙂", "\x00\x07", "-", "since:", "author:"]
)
def test_messy_text_never_fails(
    session_factory: sessionmaker[Session], index: SearchIndex, text: str
) -> None:
    add_paper(session_factory, "Anything at all")
    index.catch_up(session_factory)
    result = search_papers(session_factory, index, text, now=NOW)
    assert result.page == 1


def test_too_long_is_refused(session_factory: sessionmaker[Session], index: SearchIndex) -> None:
    with pytest.raises(QueryTooLong):
        search_papers(session_factory, index, "x" * 501, now=NOW)


def test_acronyms_and_typos_find_papers(
    session_factory: sessionmaker[Session], index: SearchIndex
) -> None:
    add_paper(session_factory, "Quantizing large language models", "Low-bit weights.")
    add_paper(session_factory, "Analyzing ViTs", "Attention maps of image models.")
    add_paper(session_factory, "Speech models", "Spoken language.")
    index.catch_up(session_factory)
    assert top(session_factory, index, "LLMs") == "Quantizing large language models"
    assert top(session_factory, index, "vision transformers") == "Analyzing ViTs"
    assert top(session_factory, index, "quantisation") == "Quantizing large language models"


def test_swapped_letters_and_misspelt_endings_find_papers(
    session_factory: sessionmaker[Session], index: SearchIndex
) -> None:
    add_paper(session_factory, "Image series", "Pictures over time.")
    add_paper(session_factory, "Representation learning", "Interpretability of features.")
    add_paper(session_factory, "Speech models", "Spoken language.")
    index.catch_up(session_factory)
    assert edit_distance("imga", "imag", 1) == 1  # a swap is one edit
    assert top(session_factory, index, "imgae seires") == "Image series"
    # The stemmer cannot strip a misspelt ending: the stem the word starts with is meant.
    assert top(session_factory, index, "representaton") == "Representation learning"
    assert top(session_factory, index, "interpretabilty") == "Representation learning"


def test_similar_papers_by_arxiv_ref(
    session_factory: sessionmaker[Session], index: SearchIndex
) -> None:
    add_paper(
        session_factory,
        "Gaussian splatting for scenes",
        "Radiance fields rendered with splats.",
        arxiv_id="2611.00042",
    )
    add_paper(session_factory, "Dynamic gaussian splatting", "Splats for radiance fields.")
    add_paper(session_factory, "Speech recognition", "Acoustic models for spoken words.")
    index.catch_up(session_factory)
    paper, similar = similar_papers(
        session_factory, index, "https://arxiv.org/abs/2611.00042v2", limit=3, now=NOW
    )
    assert paper is not None and paper.title == "Gaussian splatting for scenes"
    assert similar[0].title == "Dynamic gaussian splatting"
    assert similar_papers(session_factory, index, "9999.99999", limit=3, now=NOW) == (None, [])
