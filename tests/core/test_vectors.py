"""The per-replica vector index: catch-up by row id, updates, reopening, readers, HNSW."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from paper_rows import add_paper
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.search import embeddings
from paperbot.core.search.embeddings import Pending
from paperbot.core.search.passages import quantize
from paperbot.core.search.vectors import VectorIndex

KEY = "test-model:tok:256:1"
DIM = 384
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def put(factory: sessionmaker[Session], vectors: dict[int, np.ndarray]) -> None:
    with factory.begin() as session:
        items = [(Pending(pid, 0, "", "", "sha"), quantize(v)) for pid, v in vectors.items()]
        embeddings.store(session, KEY, items, now=NOW)


@pytest.fixture
def papers(session_factory: sessionmaker[Session]) -> list[int]:
    return [add_paper(session_factory, f"Paper {n}") for n in range(30)]


def test_catch_up_reads_new_rows_and_finds_nearest(
    session_factory: sessionmaker[Session], papers: list[int], tmp_path: Path
) -> None:
    rng = np.random.default_rng(1)
    vecs = {pid: unit(rng, 3) for pid in papers[:20]}
    put(session_factory, vecs)
    index = VectorIndex(tmp_path / "v")
    assert index.catch_up(session_factory, KEY) == 20
    assert index.catch_up(session_factory, KEY) == 0
    target = papers[7]
    query = vecs[target][1]  # one of its passages
    assert index.nearest(query, 1)[0][0] == target
    scores = index.scores(query, papers)
    assert max(scores, key=lambda pid: scores[pid]) == target
    assert scores[target] == pytest.approx(1.0, abs=0.02)
    assert papers[25] not in scores  # no vectors, left out


def test_a_re_embedded_paper_replaces_its_old_vectors(
    session_factory: sessionmaker[Session], papers: list[int], tmp_path: Path
) -> None:
    rng = np.random.default_rng(2)
    old = unit(rng, 2)
    put(session_factory, {papers[0]: old, papers[1]: unit(rng, 2)})
    index = VectorIndex(tmp_path / "v")
    index.catch_up(session_factory, KEY)
    new = unit(rng, 2)
    put(session_factory, {papers[0]: new})
    assert index.catch_up(session_factory, KEY) == 1
    assert len(index) == 2
    assert index.scores(new[0], [papers[0]])[papers[0]] == pytest.approx(1.0, abs=0.02)
    assert index.scores(old[0], [papers[0]])[papers[0]] < 0.5
    assert [pid for pid, _ in index.nearest(new[0], 5)].count(papers[0]) == 1


def test_the_folder_survives_a_restart_and_other_processes_read_it(
    session_factory: sessionmaker[Session], papers: list[int], tmp_path: Path
) -> None:
    rng = np.random.default_rng(3)
    vecs = {pid: unit(rng, 1) for pid in papers[:10]}
    put(session_factory, vecs)
    writer = VectorIndex(tmp_path / "v")
    writer.catch_up(session_factory, KEY)
    reader = VectorIndex(tmp_path / "v")  # another process: no writer lock to be had
    assert len(reader) == 10
    assert reader.catch_up(session_factory, KEY) == 0
    put(session_factory, {papers[12]: unit(rng, 1)})
    assert writer.catch_up(session_factory, KEY) == 1
    reader.refresh()
    assert len(reader) == 11 and papers[12] in reader
    writer.close()
    reopened = VectorIndex(tmp_path / "v")
    assert len(reopened) == 11 and reopened.watermark == writer.watermark


def test_above_the_exact_limit_the_hnsw_graph_answers_like_exact_search(
    session_factory: sessionmaker[Session], papers: list[int], tmp_path: Path
) -> None:
    rng = np.random.default_rng(4)
    vecs = {pid: unit(rng, 1) for pid in papers}
    put(session_factory, vecs)
    exact = VectorIndex(tmp_path / "exact")
    exact.catch_up(session_factory, KEY)
    graph = VectorIndex(tmp_path / "graph", exact_limit=5)
    graph.catch_up(session_factory, KEY)
    assert (tmp_path / "graph" / "graph.usearch").exists()
    for pid in papers[:5]:
        assert graph.nearest(vecs[pid][0], 3)[0][0] == exact.nearest(vecs[pid][0], 3)[0][0] == pid
    new = unit(rng, 1)
    put(session_factory, {papers[3]: new})  # an update leaves the graph too
    graph.catch_up(session_factory, KEY)
    reopened = VectorIndex(tmp_path / "graph", exact_limit=5)
    assert reopened.nearest(new[0], 1)[0][0] == papers[3]
    assert papers[3] not in [pid for pid, _ in reopened.nearest(vecs[papers[3]][0], 3)[:1]]


def test_rebuild_starts_again_from_the_database(
    session_factory: sessionmaker[Session], papers: list[int], tmp_path: Path
) -> None:
    rng = np.random.default_rng(5)
    put(session_factory, {pid: unit(rng, 2) for pid in papers[:4]})
    index = VectorIndex(tmp_path / "v")
    index.catch_up(session_factory, KEY)
    (tmp_path / "v" / "passages.i8").write_bytes(b"broken")
    assert index.rebuild(session_factory, KEY) == 4
    assert len(VectorIndex(tmp_path / "v")) == 4


def test_usearch_and_onnxruntime_load_in_either_order() -> None:
    # usearch 2.26.2-2.26.6 make a later `import onnxruntime` crash the process (pinned out).
    for order in ("usearch.index, onnxruntime", "onnxruntime, usearch.index"):
        done = subprocess.run([sys.executable, "-c", f"import {order}"], check=False)
        assert done.returncode == 0, order
