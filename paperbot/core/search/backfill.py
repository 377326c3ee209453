"""The embedding backfill: vectors for papers that have none (or stale ones) under the model.

Run by the process holding the ingest lease after each ingest (bounded in time; the rest
waits for the next tick) and by `paperbot index embed`. It walks papers by change counter
from a watermark kept in the database, so any replica can continue where another stopped;
a paper whose title and abstract did not change is skipped. A new model (another key)
starts from zero: the whole store is re-embedded in the background while search stays
lexical for papers not done yet. Once the current key is complete, rows of other keys go.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from paperbot.core import db
from paperbot.core.progress import Progress
from paperbot.core.search import embeddings
from paperbot.core.search.model import ModelUnavailable, SentenceModel
from paperbot.core.search.passages import passages, quantize
from paperbot.core.search.precomputed import sample_vectors

log = logging.getLogger(__name__)

# Called as progress(done, total): papers embedded so far in this run, and how many were
# waiting when it started (None if unknown).
SCAN = 256


@dataclass(frozen=True)
class BackfillReport:
    embedded: int  # papers given new vectors by the model
    reused: int  # papers given shipped (precomputed) vectors
    complete: bool  # nothing left under this key


def backfill(
    session_factory: sessionmaker[Session],
    model: SentenceModel,
    *,
    batch: int = 16,
    budget_seconds: float | None = None,
    progress: Progress | None = None,
) -> BackfillReport:
    """Embed waiting papers until none are left or the time budget is spent."""
    key = model.key
    shipped = sample_vectors(key)
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    with db.snapshot(session_factory) as session:
        done_seq = embeddings.watermark(session, key)
        embedded, total = embeddings.counts(session, key)
    waiting = max(0, total - embedded)
    # Every paper with change_seq <= done_seq has vectors: start after them.
    cursor: tuple[int, int] | None = (done_seq + 1, 0)
    seen = done_seq
    made = reused = 0
    while cursor is not None:
        if deadline is not None and time.monotonic() >= deadline:
            break
        with db.snapshot(session_factory) as session:
            todo, after = embeddings.pending(session, key, cursor, SCAN)
        items = []
        for paper in todo:
            vectors = shipped.get(paper.text_sha)
            if deadline is not None and vectors is None and time.monotonic() >= deadline:
                break
            if vectors is None:
                try:
                    vectors = quantize(
                        model.encode(passages(paper.title, paper.abstract), batch=batch)
                    )
                except ModelUnavailable:
                    break  # logged once by the model; papers stay lexical
                made += 1
            else:
                reused += 1
            items.append((paper, vectors))
            if progress is not None:
                progress(made + reused, waiting)
        if len(items) < len(todo):  # out of time, or the model is unusable: keep what's done
            with session_factory.begin() as session:
                embeddings.store(session, key, items, now=datetime.now(UTC))
            return BackfillReport(made, reused, False)
        # Papers share a change_seq per ingest batch, so a scan that ends inside one vouches
        # only for the seqs before it (a restart re-checks that batch, cheaply); at the end
        # every seq seen is done.
        finished = seen if after is None else after[0] - 1
        with session_factory.begin() as session:
            embeddings.store(session, key, items, now=datetime.now(UTC))
            if finished > done_seq:
                done_seq = finished
                embeddings.set_watermark(session, key, done_seq)
        if after is not None:
            seen = after[0]
        cursor = after
    complete = cursor is None
    if complete:
        with session_factory.begin() as session:
            pruned = embeddings.prune_other_keys(session, key)
        if pruned:
            log.info("removed %d embeddings of an earlier model", pruned)
    if made or reused:
        log.info("embedded %d papers (%d from shipped vectors)", made + reused, reused)
    return BackfillReport(made, reused, complete)


__all__ = ["BackfillReport", "backfill"]
