"""The sentence model, passages, stored embeddings and the backfill (real model, real DB)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from paper_rows import add_paper
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from paperbot.config import SearchSettings
from paperbot.core.models import Paper, PaperEmbedding
from paperbot.core.search import embeddings
from paperbot.core.search.backfill import backfill
from paperbot.core.search.model import (
    ModelFiles,
    ModelUnavailable,
    SentenceModel,
    model_files,
    sha256_of,
)
from paperbot.core.search.passages import passages, text_sha
from paperbot.core.search.precomputed import sample_texts, sample_vectors


@pytest.fixture(scope="module")
def model() -> SentenceModel:
    loaded = SentenceModel(model_files(SearchSettings()))
    loaded.load()
    return loaded


def rows(factory: sessionmaker[Session], key: str) -> dict[int, str]:
    with factory() as session:
        found = session.execute(
            select(PaperEmbedding.paper_id, PaperEmbedding.text_sha).where(
                PaperEmbedding.model == key
            )
        )
        return {pid: sha for pid, sha in found}


def test_the_bundled_model_makes_unit_vectors_that_know_meaning(model: SentenceModel) -> None:
    vectors = model.encode(
        ["diffusion models for images", "denoising generative image models", "tax law in France"]
    )
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert model.key.startswith("e3aa7afd00f63a30") and model.problem is None


def test_passages_are_the_title_with_windows_of_the_abstract() -> None:
    abstract = " ".join(f"Sentence number {n} says something." for n in range(1, 8))
    out = passages("A title", abstract)
    assert len(out) == 3 and all(p.startswith("A title. ") for p in out)
    assert "Sentence number 3" in out[0] and "Sentence number 3" in out[1]  # overlap
    assert passages("Only a title", "") == ["Only a title"]


def test_a_tampered_bundled_model_means_lexical_only_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = model_files(SearchSettings())
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the model")
    files = ModelFiles(fake, good.tokenizer, good.model_sha256, good.tokenizer_sha256)
    tampered = SentenceModel(files)
    with caplog.at_level(logging.WARNING), pytest.raises(ModelUnavailable):
        tampered.encode(["anything"])
    with pytest.raises(ModelUnavailable):
        tampered.encode(["again"])
    warnings = [r for r in caplog.records if "semantic search is off" in r.getMessage()]
    assert len(warnings) == 1 and "checksum" in warnings[0].getMessage()
    assert tampered.problem is not None


def test_a_users_model_is_identified_by_its_checksum(tmp_path: Path) -> None:
    bundled = model_files(SearchSettings())
    own = tmp_path / "mine.onnx"
    shutil.copy(bundled.model, own)
    settings = SearchSettings(model_path=own, tokenizer_path=bundled.tokenizer)
    mine = SentenceModel(model_files(settings))
    assert not mine.files.bundled
    assert mine.key.startswith(sha256_of(own)[:32])
    with own.open("ab") as handle:
        handle.write(b"\0")
    assert SentenceModel(model_files(settings)).key != mine.key


def test_backfill_embeds_once_and_redoes_only_changed_text(
    session_factory: sessionmaker[Session], model: SentenceModel
) -> None:
    a = add_paper(session_factory, "Video diffusion models", "We denoise frames. It works.")
    b = add_paper(session_factory, "Graph networks", "Message passing on graphs.")
    seen: list[tuple[int, int | None]] = []
    report = backfill(session_factory, model, progress=lambda d, t: seen.append((d, t)))
    assert (report.embedded, report.complete) == (2, True)
    assert seen[-1] == (2, 2)
    first = rows(session_factory, model.key)
    assert set(first) == {a, b}
    assert backfill(session_factory, model).embedded == 0  # nothing changed
    with session_factory.begin() as session:  # a signal update: new change_seq, same text
        session.execute(update(Paper).where(Paper.id == b).values(upvotes=5, change_seq=10))
    assert backfill(session_factory, model).embedded == 0
    with session_factory.begin() as session:  # a new abstract: re-embedded
        session.execute(
            update(Paper).where(Paper.id == a).values(abstract="Now about audio.", change_seq=11)
        )
    assert backfill(session_factory, model).embedded == 1
    after = rows(session_factory, model.key)
    assert after[a] == text_sha("Video diffusion models", "Now about audio.") != first[a]
    assert after[b] == first[b]


def test_backfill_stops_at_its_time_budget_and_continues_later(
    session_factory: sessionmaker[Session], model: SentenceModel
) -> None:
    for n in range(6):
        add_paper(session_factory, f"Paper {n} on contrastive learning", "We contrast views.")
    first = backfill(session_factory, model, budget_seconds=1e-9)
    assert not first.complete and first.embedded <= 1
    rest = backfill(session_factory, model)
    assert rest.complete and first.embedded + rest.embedded == 6
    with session_factory() as session:
        assert embeddings.counts(session, model.key) == (6, 6)


def test_a_new_model_re_embeds_everything_and_then_drops_the_old_vectors(
    session_factory: sessionmaker[Session], model: SentenceModel
) -> None:
    add_paper(session_factory, "Speaker anonymization", "We hide who speaks.")
    add_paper(session_factory, "Gait recognition", "People by the way they walk.")
    backfill(session_factory, model)
    other = SentenceModel(model.files, max_tokens=128)  # another key, as a new model has
    assert other.key != model.key
    with session_factory() as session:
        assert embeddings.counts(session, other.key) == (0, 2)
    report = backfill(session_factory, other)
    assert report.embedded == 2 and report.complete
    with session_factory() as session:
        assert embeddings.other_keys(session, other.key) == {}
        assert session.scalar(select(func.count()).select_from(PaperEmbedding)) == 2


def test_the_sample_papers_vectors_ship_with_the_package(model: SentenceModel) -> None:
    shipped = sample_vectors(model.key)
    texts = sample_texts()
    assert len(shipped) == len({text_sha(t, a) for t, a in texts}) >= 269
    title, abstract = texts[0]
    fresh = model.encode(passages(title, abstract))
    stored = shipped[text_sha(title, abstract)].astype(np.float32) / 127
    assert stored.shape == fresh.shape
    assert np.all(np.sum(stored * fresh, axis=1) > 0.99)
    assert sample_vectors("another model") == {}
