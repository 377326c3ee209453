"""The HNSW graph (usearch, int8, cosine) of a vector folder's centroids, keyed by entry.

The writing process holds the graph in memory, extends it with new entries and saves it;
other processes map the saved file read-only (cheap to open) and search the entries it
covers. usearch is imported on first use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

FILE = "graph.usearch"
CHUNK = 50_000
# usearch's search beam (its default is 64): wider, since a query asks for ~100 neighbours.
SEARCH_BEAM = 128
# A smaller build beam than usearch's default (128) builds several times faster; recall
# against exact search is measured by benchmarks/search.py.
BUILD_BEAM = 48
# Batches this big are added on two threads (the 1M build: 2x faster). Smaller ones, like a
# day's papers, on one: insertion order then decides the graph, which threads make vary, and
# on a small graph one run in ~60 left a paper's own vector not its nearest (a flaky test).
PARALLEL_ADD = 10_000


class Graph:
    """One graph file: `built` entries (0..built-1) are in it."""

    def __init__(self, path: Path, dim: int) -> None:
        self.path = Path(path) / FILE
        self.dim = dim
        self.index: Any = None
        self.built = 0

    def _new(self) -> Any:
        from usearch.index import Index

        return Index(
            ndim=self.dim,
            metric="cos",
            dtype="i8",
            connectivity=16,
            expansion_add=BUILD_BEAM,
            expansion_search=SEARCH_BEAM,
        )

    def view(self, built: int) -> bool:
        """Map the saved file, if it holds `built` entries; False when there is none."""
        if self.index is not None and self.built == built:
            return True
        if not built or not self.path.exists():
            return False
        from usearch.index import Index

        try:
            view = Index.restore(str(self.path), view=True, expansion_search=SEARCH_BEAM)
        except (RuntimeError, ValueError):
            view = None
        if view is None:
            return False
        self.index, self.built = view, built
        return True

    def load(self, built: int, entries: int, dead: np.ndarray) -> None:
        """The writer's copy: the saved file when it fits, else a new graph; minus the entries
        replaced since it was saved."""
        graph, have = self._new(), 0
        if built and self.path.exists() and built <= entries:
            try:
                graph.load(str(self.path))  # keeps the beams it was made with
                have = built
            except (RuntimeError, ValueError):
                graph = self._new()
        gone = dead[dead < have].astype(np.uint64)
        if len(gone):
            graph.remove(gone)
        self.index, self.built = graph, have

    def extend(self, centroids: np.ndarray, alive: np.ndarray, stop: int) -> None:
        """Add the live entries from `built` to `stop` (int8 as stored: the cosine ignores the
        scale), in chunks, so no copy of every vector is made at once."""
        for lo in range(self.built, stop, CHUNK):
            hi = min(stop, lo + CHUNK)
            keep = alive[lo:hi]
            if keep.any():
                keys = np.arange(lo, hi, dtype=np.uint64)[keep]
                threads = 2 if len(keys) >= PARALLEL_ADD else 1
                self.index.add(keys, np.asarray(centroids[lo:hi])[keep], threads=threads)

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        self.index.save(str(tmp))
        os.replace(tmp, self.path)

    def remove(self, keys: np.ndarray) -> None:
        gone = keys[keys < self.built].astype(np.uint64)
        if self.index is not None and len(gone):
            self.index.remove(gone)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(entry, cosine) of the nearest entries the graph holds."""
        if self.index is None or not len(self.index):
            return []
        found = self.index.search(query.astype(np.float32), k, exact=False)
        return [
            (int(key), 1.0 - float(distance))
            for key, distance in zip(found.keys.tolist(), found.distances.tolist(), strict=True)
            if 0 <= key < self.built
        ]


__all__ = ["FILE", "Graph"]
