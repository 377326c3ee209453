"""The per-replica vector index: paper vectors from paper_embeddings, searched by cosine.

Derived data, like the tantivy folder: one folder per embedding key holding append-only
int8 files (a centroid per paper for nearest-neighbour search, its passages for scoring)
and a state file naming how many rows are valid and the last database row read. Up to
`exact_limit` papers the centroids are searched exactly with numpy; above it a usearch HNSW
graph (int8) answers, saved beside them. One process writes (an flock); others read the
files up to the state's counts and reload when it changes.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TextIO, TypeVar

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core import db
from paperbot.core.progress import Progress
from paperbot.core.search import embeddings
from paperbot.core.search.graph import Graph
from paperbot.core.search.passages import SCALE, PassageBlock, centroid

VERSION = 1
STATE, LOCK = "state.json", "writer.lock"
BATCH = 5000
EXACT_BLOCK = 50_000
_ENTRY = np.dtype([("paper", "<i8"), ("start", "<i8"), ("count", "<i4")])


P = ParamSpec("P")
R = TypeVar("R")


def _locked(
    method: Callable[Concatenate[VectorIndex, P], R],
) -> Callable[Concatenate[VectorIndex, P], R]:
    """Searches (request threads) and catch-ups (the scheduler's) see whole states."""

    @functools.wraps(method)
    def wrapper(self: VectorIndex, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._mutex:
            return method(self, *args, **kwargs)

    return wrapper


def folder_for(base: Path, key: str) -> Path:
    return base / key.replace(":", "-")


class _Latest:
    """Each paper's newest entry, as sorted arrays (a dict of a million papers costs ~100 MB)."""

    def __init__(self, papers: np.ndarray) -> None:
        # np.unique keeps the first occurrence: take it from the reversed order (newest).
        ids, first = np.unique(papers[::-1], return_index=True)
        self.ids = ids
        self.entries = (len(papers) - 1 - first).astype(np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    def find(self, paper_ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """(paper ids found, their entries), in the order given."""
        wanted = np.fromiter(paper_ids, dtype=np.int64)
        if not len(wanted) or not len(self.ids):
            return wanted[:0], wanted[:0]
        at = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        hit = self.ids[at] == wanted
        return wanted[hit], self.entries[at[hit]]

    def get(self, paper_id: int) -> int | None:
        _, entries = self.find([paper_id])
        return int(entries[0]) if len(entries) else None


class VectorIndex:
    """Vectors of one embedding key. Entries are append-only: a re-embedded paper gets a new
    entry and its old one is ignored."""

    def __init__(
        self, path: Path, *, dim: int = 384, exact_limit: int = 50_000, keep_lock: bool = False
    ) -> None:
        self.path = Path(path)
        self.dim = dim
        self.exact_limit = exact_limit
        # A long-running process keeps the writer lock; one-off commands take it to write.
        self.keep_lock = keep_lock
        self._mutex = threading.RLock()
        self._lock: TextIO | None = None
        self._stamp: tuple[int, int] | None = None
        self._state: dict[str, int] = {}
        self._load()

    # --- reading the folder -----------------------------------------------------------------
    def _read_state(self) -> dict[str, int]:
        try:
            data = json.loads((self.path / STATE).read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) and data.get("version") == VERSION else {}

    def _load(self) -> None:
        """Map the files as the state file describes them, and index their entries."""
        state = self._read_state()
        self._state = state
        self._map()
        if len(self._entries) < int(state.get("entries", 0)):
            self._state = {}  # files shorter than promised: start again
            self._map()
        self._index_spans()
        self._graph = Graph(self.path, self.dim)  # the writer's, loaded when it first saves
        self._view = Graph(self.path, self.dim)  # the saved file, mapped to search
        self._stamp = self._state_stamp()

    def _index_spans(self) -> None:
        """Plain arrays of the entries' paper ids and passage spans (memmap fields are slow
        to index one by one), each paper's newest entry, and which entries are live."""
        self._papers = np.asarray(self._entries["paper"], dtype=np.int64)
        self._starts = np.asarray(self._entries["start"], dtype=np.int64)
        self._counts = np.asarray(self._entries["count"], dtype=np.int64)
        self._latest = _Latest(self._papers)
        self._alive = np.zeros(len(self._papers), dtype=bool)
        self._alive[self._latest.entries] = True

    def _map(self) -> None:
        entries, passages = int(self._state.get("entries", 0)), int(self._state.get("passages", 0))
        self._entries = self._array("entries.bin", _ENTRY, entries, ())
        self._centroids = self._array("centroids.i8", np.int8, entries, (self.dim,))
        # Passages are read with pread, not mapped: pages read for scoring stay in the page
        # cache instead of piling up in the process (a replica reads ~150 papers per query).
        path = self.path / "passages.i8"
        size = path.stat().st_size if path.exists() else 0
        if len(self._centroids) < entries or size < passages * self.dim:
            self._entries = np.zeros(0, _ENTRY)
        self._close_fd()
        self._passages_fd: int | None = os.open(path, os.O_RDONLY) if size else None
        self._exact: np.ndarray | None = None

    def _array(self, name: str, dtype: Any, rows: int, shape: tuple[int, ...]) -> np.ndarray:
        path = self.path / name
        if not rows or not path.exists():
            return np.zeros((0, *shape), dtype=dtype)
        size = int(np.prod(shape, dtype=np.int64)) if shape else 1
        have = path.stat().st_size // (np.dtype(dtype).itemsize * size)
        if have < rows:
            return np.zeros((0, *shape), dtype=dtype)
        return np.memmap(path, dtype=dtype, mode="r", shape=(rows, *shape))

    def _state_stamp(self) -> tuple[int, int] | None:
        try:
            stat = (self.path / STATE).stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    @_locked
    def refresh(self) -> None:
        """See what the writing process added (cheap when nothing changed)."""
        if self._state_stamp() != self._stamp:
            self._load()

    @property
    def watermark(self) -> int:
        return int(self._state.get("row", 0))

    def __len__(self) -> int:
        return len(self._latest)

    def __contains__(self, paper_id: object) -> bool:
        return isinstance(paper_id, int) and self._latest.get(paper_id) is not None

    # --- writing ----------------------------------------------------------------------------
    def _take_lock(self) -> bool:
        if self._lock is None:
            self.path.mkdir(parents=True, exist_ok=True)
            handle = (self.path / LOCK).open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return False
            self._lock = handle
        return True

    def _release_lock(self) -> None:
        if self._lock is not None:
            handle, self._lock = self._lock, None
            handle.close()

    def _close_fd(self) -> None:
        fd = getattr(self, "_passages_fd", None)
        if fd is not None:
            self._passages_fd = None
            os.close(fd)

    def close(self) -> None:
        """Release the writer lock and the open passage file."""
        self._release_lock()
        self._close_fd()

    def catch_up(
        self, session_factory: sessionmaker[Session], key: str, *, progress: Progress | None = None
    ) -> int:
        """Append rows written since the last one read; 0 if another process writes."""
        self.refresh()
        if not self._take_lock():
            return 0
        try:
            self.refresh()
            done = 0
            while True:
                with db.snapshot(session_factory) as session:
                    rows = embeddings.rows_after(session, key, self.watermark, BATCH)
                if not rows:
                    break
                with self._mutex:  # searches meanwhile see the state before or after
                    self._append(rows)
                done += len(rows)
                if progress is not None:
                    progress(done, None)
            if done or int(self._state.get("graph", 0)) < len(self._entries):
                self._save_graph()
            return done
        finally:
            if not self.keep_lock:
                self._release_lock()

    @_locked
    def rebuild(
        self, session_factory: sessionmaker[Session], key: str, *, progress: Progress | None = None
    ) -> int:
        """Start the folder again from the database rows."""
        if not self._take_lock():
            raise RuntimeError("The vector index is in use by another paperbot process.")
        keep, self.keep_lock = self.keep_lock, True
        try:
            self._clear()
        finally:
            self.keep_lock = keep
        return self.catch_up(session_factory, key, progress=progress)

    def _clear(self) -> None:
        for name in os.listdir(self.path):
            if name != LOCK:
                target = self.path / name
                shutil.rmtree(target) if target.is_dir() else target.unlink()
        self._load()

    def _append(self, rows: Sequence[tuple[int, int, np.ndarray]]) -> None:
        first = len(self._entries)
        entries = np.zeros(len(rows), _ENTRY)
        start = int(self._state.get("passages", 0))
        blocks, cents = [], []
        for i, (_, paper, vectors) in enumerate(rows):
            entries[i] = (paper, start, len(vectors))
            start += len(vectors)
            blocks.append(vectors)
            cents.append(centroid(vectors))
        for name, data in (
            ("entries.bin", entries),
            ("centroids.i8", np.stack(cents)),
            ("passages.i8", np.concatenate(blocks)),
        ):
            with (self.path / name).open("ab") as handle:
                handle.write(np.ascontiguousarray(data).tobytes())
        self._state = {
            "version": VERSION,
            "entries": first + len(rows),
            "passages": start,
            "row": rows[-1][0],
            "graph": int(self._state.get("graph", 0)),
        }
        self._write_state(self._state)
        was_alive = self._alive
        self._map()
        self._index_spans()
        self._graph.remove(np.nonzero(was_alive & ~self._alive[:first])[0])
        self._stamp = self._state_stamp()

    def _write_state(self, state: dict[str, int]) -> None:
        tmp = self.path / (STATE + ".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.path / STATE)

    # --- searching --------------------------------------------------------------------------
    @_locked
    def nearest(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The k papers whose centroid is closest to a unit query vector: (paper id, cosine)."""
        if not self._latest or k <= 0:
            return []
        if len(self._entries) <= self.exact_limit:
            return self._exact_nearest(query, k)
        return self._graph_nearest(query, k)

    def _exact_nearest(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Every live centroid scored (a float32 copy is kept up to the exact limit; past it,
        blocks are converted as they are scored)."""
        n = len(self._entries)
        if n <= self.exact_limit:
            if self._exact is None:
                self._exact = np.asarray(self._centroids, dtype=np.float32) / SCALE
            scores = self._exact @ query.astype(np.float32)
        else:
            scores = np.empty(n, dtype=np.float32)
            for lo in range(0, n, EXACT_BLOCK):
                block = np.asarray(self._centroids[lo : lo + EXACT_BLOCK], dtype=np.float32)
                scores[lo : lo + EXACT_BLOCK] = block @ query.astype(np.float32) / SCALE
        scores[~self._alive] = -2.0
        k = min(k, len(self._latest))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best])]
        papers = self._papers
        return [(int(papers[i]), float(scores[i])) for i in best]

    def _graph_nearest(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The graph answers for the entries it holds; newer ones are searched exactly."""
        graph = self._graph if self._graph.index is not None else self._view
        if graph is self._view:
            self._view.view(int(self._state.get("graph", 0)))
        built = graph.built if graph.index is not None else 0
        papers = self._papers
        out = [
            (int(papers[e]), score) for e, score in graph.search(query, k + 16) if self._alive[e]
        ]
        tail = np.nonzero(self._alive[built:])[0] + built
        if len(tail):
            sims = (np.asarray(self._centroids[tail], dtype=np.float32) @ query) / SCALE
            out.extend((int(papers[e]), float(v)) for e, v in zip(tail, sims.tolist(), strict=True))
        return sorted(out, key=lambda item: -item[1])[:k]

    def _save_graph(self) -> None:
        """Writer: add the entries the graph lacks and save it (above the exact limit)."""
        if len(self._entries) <= self.exact_limit:
            return
        graph = self._graph
        if graph.index is None:
            graph.load(
                int(self._state.get("graph", 0)), len(self._entries), np.nonzero(~self._alive)[0]
            )
        stop = len(self._entries)
        graph.extend(self._centroids, self._alive, stop)
        graph.save()
        with self._mutex:
            graph.built = stop
            self._state = {**self._state, "graph": stop}
            self._write_state(self._state)
            self._stamp = self._state_stamp()

    @_locked
    def centroid_scores(self, query: np.ndarray, paper_ids: Iterable[int]) -> dict[int, float]:
        """Each paper's centroid cosine with a unit query vector (papers without vectors are
        left out): a quick first look at many papers."""
        found, entries = self._latest.find(paper_ids)
        if not len(found):
            return {}
        sims = (np.asarray(self._centroids[entries], dtype=np.float32) @ query) / SCALE
        return dict(zip(found.tolist(), sims.tolist(), strict=True))

    @_locked
    def centroids_of(self, paper_ids: Iterable[int]) -> dict[int, np.ndarray]:
        """Unit float32 vectors (the normalised mean of each paper's passages)."""
        found, entries = self._latest.find(paper_ids)
        out = {}
        for pid, entry in zip(found.tolist(), entries.tolist(), strict=True):
            vector = np.asarray(self._centroids[entry], dtype=np.float32) / SCALE
            out[pid] = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return out

    def scores(self, query: np.ndarray, paper_ids: Iterable[int]) -> dict[int, float]:
        """Each paper's best passage cosine with a unit query vector (papers without vectors
        are left out)."""
        return self.passages_of(paper_ids).scores(query)

    @_locked
    def passages_of(self, paper_ids: Iterable[int]) -> PassageBlock:
        """These papers' passage vectors (those embedded), to score against query vectors."""
        found, entries = self._latest.find(paper_ids)
        if not len(found) or self._passages_fd is None:
            return PassageBlock(found, found, np.zeros((0, self.dim), dtype=np.float32))
        starts, counts = self._starts[entries], self._counts[entries]
        width = self.dim
        blocks = [
            os.pread(self._passages_fd, int(c) * width, int(s) * width)
            for s, c in zip(starts.tolist(), counts.tolist(), strict=True)
        ]
        passages = np.frombuffer(b"".join(blocks), dtype=np.int8).reshape(-1, width)
        return PassageBlock(found, counts, passages.astype(np.float32) / SCALE)


__all__ = ["VectorIndex", "folder_for"]
