"""The tantivy index: catch-up from the change counter, updates, rebuild, writer lock, readers."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from paper_rows import add_paper
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.models import Paper
from paperbot.core.search import SearchIndex, parse_query

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def retitle(factory: sessionmaker[Session], paper_id: int, title: str) -> None:
    with factory.begin() as session:
        seq = (session.scalar(select(func.max(Paper.change_seq))) or 0) + 1
        session.execute(
            update(Paper).where(Paper.id == paper_id).values(title=title, change_seq=seq)
        )


def ids(index: SearchIndex, text: str, limit: int = 10) -> list[int]:
    return [pid for pid, _ in index.search(parse_query(text, now=NOW), limit=limit).hits]


def test_catch_up_indexes_only_new_changes(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    index = SearchIndex(tmp_path / "index")
    a = add_paper(session_factory, "Diffusion models for video", "We denoise frames.")
    assert index.catch_up(session_factory) == 1
    assert index.catch_up(session_factory) == 0
    b = add_paper(session_factory, "Video transformers", "Attention over frames.")
    assert index.catch_up(session_factory) == 1
    assert set(ids(index, "video")) == {a, b}
    assert index.watermark == 2


def test_an_update_replaces_the_old_document(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    index = SearchIndex(tmp_path / "index")
    pid = add_paper(session_factory, "Graph neural networks")
    index.catch_up(session_factory)
    retitle(session_factory, pid, "Speech synthesis with flows")
    assert index.catch_up(session_factory) == 1
    assert ids(index, "graph") == []
    assert ids(index, "speech") == [pid]
    assert index.num_docs == 1


def test_rebuild_recreates_everything(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    index = SearchIndex(tmp_path / "index")
    for n in range(5):
        add_paper(session_factory, f"Paper {n} about matryoshka embeddings")
    index.catch_up(session_factory)
    assert index.rebuild(session_factory) == 5
    assert index.num_docs == 5
    assert len(ids(index, "matryoshka")) == 5


def test_a_changed_schema_stamp_starts_the_index_again(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    folder = tmp_path / "index"
    index = SearchIndex(folder)
    add_paper(session_factory, "Equivariant networks")
    index.catch_up(session_factory)
    index.close()
    state = json.loads((folder / "paperbot-index.json").read_text())
    (folder / "paperbot-index.json").write_text(json.dumps({**state, "version": -1}))
    reopened = SearchIndex(folder)
    assert reopened.num_docs == 0
    assert reopened.catch_up(session_factory) == 1


def test_writer_lock_held_elsewhere_defers_to_the_holder(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    holder = SearchIndex(tmp_path / "index", keep_writer=True)
    other = SearchIndex(tmp_path / "index")
    first = add_paper(session_factory, "Federated learning with augmentation")
    assert holder.catch_up(session_factory) == 1
    second = add_paper(session_factory, "Federated optimisation at scale")
    # A CLI ingest while `paperbot run` holds the writer: SQL only, no error.
    assert other.catch_up(session_factory) == 0
    assert holder.catch_up(session_factory) == 1
    other.reload()
    assert set(ids(other, "federated")) == {first, second}
    holder.close()
    third = add_paper(session_factory, "Federated distillation")
    assert other.catch_up(session_factory) == 1
    assert third in ids(other, "federated")


def test_a_reader_sees_commits_after_reload(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    writer = SearchIndex(tmp_path / "index")
    reader = SearchIndex(tmp_path / "index")
    assert ids(reader, "quantization") == []
    pid = add_paper(session_factory, "Low-bit quantization of LLMs")
    writer.catch_up(session_factory)
    reader.reload()
    assert ids(reader, "quantization") == [pid]


def test_filters_use_dates_categories_and_authors(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    index = SearchIndex(tmp_path / "index")
    old = add_paper(
        session_factory,
        "Diffusion for images",
        announced=date(2026, 1, 5),
        categories=["cs.CV"],
        authors=["Ada Lovelace"],
    )
    new = add_paper(
        session_factory,
        "Diffusion for text",
        announced=date(2026, 11, 25),
        categories=["cs.CL"],
        authors=["Alan Turing", "Grace Hopper"],
    )
    index.catch_up(session_factory)
    assert ids(index, "diffusion since:7d") == [new]
    assert ids(index, "diffusion since:2026-01-01") != []
    assert ids(index, "diffusion cat:cs.CV") == [old]
    assert set(ids(index, "cat:cs")) == {old, new}
    assert ids(index, 'author:"grace hopper"') == [new]
    assert ids(index, "author:lovelace diffusion") == [old]
    assert ids(index, "diffusion -text") == [old]
    assert ids(index, 'diffusion -"for images"') == [new]
    # Filters only: newest first.
    assert ids(index, "since:1y") == [new, old]


def test_paging_and_totals(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    index = SearchIndex(tmp_path / "index")
    made = [add_paper(session_factory, f"Contrastive learning study {n}") for n in range(7)]
    index.catch_up(session_factory)
    query = parse_query("contrastive", now=NOW)
    first = index.search(query, limit=5)
    second = index.search(query, limit=5, offset=5)
    assert first.total == 7
    assert len(first.hits) == 5 and len(second.hits) == 2
    assert {p for p, _ in first.hits + second.hits} == set(made)


def test_more_like_this(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    index = SearchIndex(tmp_path / "index")
    seed = add_paper(
        session_factory, "Gaussian splatting for scenes", "Radiance fields rendered with splats."
    )
    like = add_paper(
        session_factory, "Dynamic gaussian splatting", "Splats for radiance fields over time."
    )
    add_paper(session_factory, "Speech recognition", "Acoustic models for spoken words.")
    index.catch_up(session_factory)
    hits = index.more_like_this(seed, limit=5)
    assert hits and hits[0][0] == like
    assert seed not in [pid for pid, _ in hits]


def test_match_topics_scores_and_labels(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    index = SearchIndex(tmp_path / "index")
    both = add_paper(session_factory, "Video diffusion models", announced=date(2026, 11, 26))
    vid = add_paper(session_factory, "Video understanding", announced=date(2026, 11, 26))
    add_paper(session_factory, "Video diffusion, old", announced=date(2026, 1, 1))
    index.catch_up(session_factory)
    found = index.match_topics(["diffusion", "video"], since=date(2026, 11, 20), now=NOW)
    assert set(found) == {both, vid}
    assert found[both].topics == ("diffusion", "video")
    assert found[vid].topics == ("video",)
    assert all(0.0 < m.score <= 1.0 for m in found.values())
    assert set(found[both].relevance) == {"diffusion", "video"}
    assert found[vid].relevance == {"video": pytest.approx(found[vid].score, abs=1e-4)}
    assert all(m.by_meaning == () for m in found.values())
    # Cached per (topic, since) until the next commit.
    again = index.match_topics(["diffusion"], since=date(2026, 11, 20), now=NOW)
    assert set(again) == {both}


def test_match_topics_lists_topics_best_first(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    index = SearchIndex(tmp_path / "index")
    day = date(2026, 11, 26)
    # Strongly about robots, in passing about speech.
    both = add_paper(
        session_factory,
        "Robot grasping with robot hands",
        "Robots grasp objects; a speech interface is mentioned once.",
        announced=day,
    )
    add_paper(session_factory, "Speech recognition for speech assistants", "Speech.", announced=day)
    index.catch_up(session_factory)
    found = index.match_topics(["speech", "robot"], since=date(2026, 11, 20), now=NOW)
    match = found[both]
    # A word mentioned in passing does not clear the topic threshold: only robots match.
    assert match.topics == ("robot",)
    assert match.score == match.relevance["robot"]
    loose = index.match_topics(["speech", "robot"], since=date(2026, 11, 20), now=NOW, threshold=0)
    assert loose[both].topics == ("robot", "speech")
    assert loose[both].relevance["robot"] > loose[both].relevance["speech"] > 0


@pytest.mark.parametrize("common", [True, False])
def test_phrases_and_exclusions_on_a_large_index(
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    common: bool,
) -> None:
    """Past COUNT_UP_TO papers phrases, exclusions and broad filters are checked on the
    loose query's best papers, in pools; shrunk here so the phrase papers sit past the
    first pool (behind papers with both words apart), whether the words are common (deep
    pool) or rare."""
    from paperbot.core.search import lexical

    monkeypatch.setattr(lexical, "COUNT_UP_TO", 0)
    monkeypatch.setattr(lexical, "PHRASE_POOL", 4)
    monkeypatch.setattr(lexical, "PHRASE_POOL_DEEP", 12)
    monkeypatch.setattr(lexical, "EXHAUSTIVE_PHRASE_DF", 0 if common else 10_000)
    monkeypatch.setattr(lexical, "DIRECT_PHRASE_DF", -1)  # no phrase skips the pools here
    scenes = {
        add_paper(session_factory, f"Scene image {n}", "image image this this scene image this.")
        for n in range(6)
    }
    held = {
        add_paper(
            session_factory,
            f"Study {n}",
            f"In this image we count {n} cats.",
            categories=["cs.CV"] if n else ["cs.LG"],
        )
        for n in range(3)
    }
    seen = held - {min(held)}
    add_paper(session_factory, "Unrelated", "Graph learning.")
    index = SearchIndex(tmp_path / "index")
    index.catch_up(session_factory)
    assert set(ids(index, '"this image"')) == held
    assert set(ids(index, '"this image" cats')) == held
    assert ids(index, '"this image" -cats') == []
    assert set(ids(index, "image -scene")) == held
    assert set(ids(index, "image -cats")) == scenes
    assert ids(index, "image -scene -cats") == []
    assert set(ids(index, "image cat:cs.CV")) == seen  # a broad filter (2 of 10 papers)
    assert set(ids(index, "image cat:cs -cats")) == set()
    assert set(ids(index, '"this image" cat:cs.lg')) == held - seen


def test_an_acronym_spelled_out_with_words_in_most_papers_still_finds_its_papers(
    session_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a large index a spelled-out acronym's word in most papers ("learning") is left
    out of the first stage (it would make tantivy score most of the index); shrunk here so
    "learning" is such a word among a few papers. The papers saying "reinforcement learning
    from human feedback" still come first, and a word only in its expansion still counts."""
    from paperbot.core.search import querybuild

    monkeypatch.setattr(querybuild, "PROXIMITY_MIN_DOCS", 0)
    for n in range(12):
        add_paper(session_factory, f"Learning study {n}", "We study learning and learning rates.")
    spelled = add_paper(
        session_factory,
        "Aligning chat models",
        "Reinforcement learning from human feedback aligns learning chat models.",
    )
    named = add_paper(session_factory, "RLHF at scale", "Preference data for learning.")
    add_paper(session_factory, "Human pose learning", "Human feedback on pose, learning.")
    index = SearchIndex(tmp_path / "index")
    index.catch_up(session_factory)
    assert ids(index, "RLHF")[:2] in ([spelled, named], [named, spelled])


def test_a_word_held_only_as_a_synonym_covers_the_topic_less(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """`photo` finds image papers through its synonym, but a paper that says "image" holds
    that word less than one that says "photo": it once counted as the word itself, and a 2D
    image paper cleared the threshold of "3D scenes from photos" on "scene" + "image" alone."""
    ids = {
        title: add_paper(session_factory, title)
        for title in ("Photo restoration with priors", "Image restoration with priors")
    }
    for n in range(8):
        add_paper(session_factory, f"Other work {n}")
    index = SearchIndex(tmp_path / "index")
    index.catch_up(session_factory)
    ranked = index.lexical().ranked(parse_query("photo restoration", now=NOW), limit=10)
    photo, image = (ranked.coverage[ids[t]] for t in ids)
    assert photo == pytest.approx(1.0)
    assert 0.5 < image < 0.9  # restoration fully, photo at half its weight
    index.close()
