"""The paper store's write path: batched upserts by key, merge, snapshots, the change counter."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from paperbot.core.errors import Unavailable
from paperbot.core.models import Counter, Paper, SignalSnapshot
from paperbot.core.papers.merge import MERGED, merge, new_row, owns_signals
from paperbot.core.papers.sources.base import PaperIn
from paperbot.core.progress import Progress

log = logging.getLogger(__name__)
PAPERS = cast(Table, Paper.__table__)
SNAPSHOTS = cast(Table, SignalSnapshot.__table__)
COUNTERS = cast(Table, Counter.__table__)
SEQ_NAME = "papers"

_SELECTED = [PAPERS.c.id, PAPERS.c.key, *(PAPERS.c[name] for name in MERGED)]


@dataclass
class IngestResult:
    """What one ingest did; last_change_seq is None when nothing changed."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    snapshots: int = 0
    last_change_seq: int | None = None

    @property
    def seen(self) -> int:
        return self.added + self.updated + self.unchanged

    def add(self, other: IngestResult) -> None:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.snapshots += other.snapshots
        if other.last_change_seq is not None:
            self.last_change_seq = other.last_change_seq


def _insert(session: Session, table: Table) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def ids_by_key(session: Session, keys: Sequence[str]) -> dict[str, int]:
    """The ids of the papers with these keys (keys the store does not hold are left out)."""
    if not keys:
        return {}
    rows = session.execute(select(Paper.key, Paper.id).where(Paper.key.in_(list(keys)))).all()
    return {key: pid for key, pid in rows}


def next_change_seq(session: Session) -> int:
    """Increment the 'papers' counter in this transaction; its row lock orders the commits."""
    bump = (
        update(COUNTERS)
        .where(COUNTERS.c.name == SEQ_NAME)
        .values(value=COUNTERS.c.value + 1)
        .returning(COUNTERS.c.value)
    )
    value = session.execute(bump).scalar()
    if value is None:
        first = _insert(session, COUNTERS).values(name=SEQ_NAME, value=1)
        value = session.execute(
            first.on_conflict_do_nothing(index_elements=["name"]).returning(COUNTERS.c.value)
        ).scalar()
        if value is None:  # another writer created it meanwhile
            value = session.execute(bump).scalar_one()
    return int(value)


def _load(session: Session, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    # FOR UPDATE (ignored by SQLite, which already holds the write lock) stops two PostgreSQL
    # writers from merging the same row from stale reads; key order keeps lock order stable.
    stmt = select(*_SELECTED).where(PAPERS.c.key.in_(keys)).order_by(PAPERS.c.key)
    rows = session.execute(stmt.with_for_update()).mappings()
    return {row["key"]: dict(row) for row in rows}


def _ingest_batch(
    session: Session, batch: Sequence[PaperIn], now: datetime, result: IngestResult
) -> None:
    groups: dict[str, list[PaperIn]] = {}
    for paper in batch:
        groups.setdefault(paper.key, []).append(paper)
    stored = _load(session, list(groups))
    new_rows: list[dict[str, Any]] = []
    changed: dict[str, dict[str, Any]] = {}
    for key, papers in groups.items():
        if key in stored:
            row = stored[key]
            if any([merge(row, paper) for paper in papers]):
                changed[key] = row
        else:
            row = new_row(papers[0], now)
            for paper in papers[1:]:
                merge(row, paper)
            new_rows.append(row)
    added: dict[str, int] = {}
    if new_rows or changed:
        seq = next_change_seq(session)
        result.last_change_seq = seq
        added = _insert_new(session, new_rows, seq)
        lost = [row["key"] for row in new_rows if row["key"] not in added]
        if lost:  # inserted by a concurrent writer since _load: merge into theirs instead
            for key, row in _load(session, lost).items():
                stored[key] = row
                if any([merge(row, paper) for paper in groups[key]]):
                    changed[key] = row
        _update_changed(session, list(changed.values()), seq, now)
        stored.update({key: {"id": paper_id} for key, paper_id in added.items()})
    result.added += len(added)
    result.updated += len(changed)
    result.unchanged += len(groups) - len(added) - len(changed)
    sources = {row["key"]: row["sources"] for row in new_rows}
    sources.update({key: row["sources"] for key, row in stored.items() if "sources" in row})
    _snapshots(session, groups, stored, sources, now, result)


def _insert_new(session: Session, rows: list[dict[str, Any]], seq: int) -> dict[str, int]:
    if not rows:
        return {}
    for row in rows:
        row["change_seq"] = seq
    # A plain executemany (no RETURNING) is the fast path on both drivers; psycopg re-parses
    # every large multi-VALUES statement. Our rows are then the ones carrying this batch's seq.
    stmt = _insert(session, PAPERS).on_conflict_do_nothing(index_elements=["key"])
    session.execute(stmt, rows)
    keys = [row["key"] for row in rows]
    found = session.execute(
        select(PAPERS.c.key, PAPERS.c.id, PAPERS.c.change_seq).where(PAPERS.c.key.in_(keys))
    )
    return {key: paper_id for key, paper_id, change_seq in found if change_seq == seq}


def _update_changed(session: Session, rows: list[dict[str, Any]], seq: int, now: datetime) -> None:
    if not rows:
        return
    stmt = (
        update(PAPERS)
        .where(PAPERS.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}") for name in (*MERGED, "updated_at", "change_seq")})
    )
    params = [
        {"b_id": row["id"], "b_updated_at": now, "b_change_seq": seq}
        | {f"b_{name}": row[name] for name in MERGED}
        for row in rows
    ]
    session.execute(stmt, params)


def _snapshots(
    session: Session,
    groups: dict[str, list[PaperIn]],
    stored: dict[str, dict[str, Any]],
    sources: dict[str, list[str]],
    now: datetime,
    result: IngestResult,
) -> None:
    rows = []
    for key, papers in groups.items():
        known = sources.get(key, ())
        # A snapshot only from the source the paper's signals belong to (see merge).
        signal = next(
            (p for p in reversed(papers) if p.has_signals and owns_signals(p.source, known)), None
        )
        if signal is None or "id" not in stored.get(key, {}):
            continue
        rows.append(
            {
                "paper_id": stored[key]["id"],
                "source": signal.source,
                "observed_at": now,
                "upvotes": signal.upvotes or 0,
                "comments": signal.comments or 0,
                "github_stars": signal.github_stars or 0,
            }
        )
    if rows:
        session.execute(_insert(session, SNAPSHOTS), rows)
        result.snapshots += len(rows)


class IngestError(Unavailable):
    """The database refused papers; the message names neither the SQL nor the data."""


def _refused(count: int, source: str, orig: BaseException | None) -> str:
    # The statement and its parameters (the papers) stay out: they can be megabytes of
    # third-party text. The class of the driver's error says enough to look further.
    kind = type(orig).__name__ if orig is not None else "error"
    return (
        f"the database refused a batch of {count} papers from {source} ({kind}); it was not stored"
    )


def _batches(papers: Iterable[PaperIn], size: int) -> Iterator[list[PaperIn]]:
    iterator = iter(papers)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def ingest(
    session_factory: sessionmaker[Session],
    papers: Iterable[PaperIn],
    *,
    source: str,
    now: datetime,
    batch_size: int = 2000,
    total: int | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Upsert papers in committed batches; re-ingesting unchanged papers changes nothing.

    Each PaperIn carries its own source (a seed mixes "hf" and "sample"); `source` names the
    run in logs. A batch that changes anything takes one new change_seq for all its changes.
    `progress(papers done, total)` is called after each committed batch.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    result = IngestResult()
    done = 0
    for batch in _batches(papers, batch_size):
        try:
            with session_factory.begin() as session:
                _ingest_batch(session, batch, now, result)
        except (DataError, IntegrityError) as exc:
            raise IngestError(_refused(len(batch), source, exc.orig)) from None
        except StatementError as exc:
            if not isinstance(exc.orig, ValueError):  # UnicodeEncodeError and kin, client-side
                raise
            raise IngestError(_refused(len(batch), source, exc.orig)) from None
        done += len(batch)
        if progress is not None:
            progress(done, total)
    log.debug("ingest from %s: %s", source, result)
    return result


__all__ = [
    "COUNTERS",
    "PAPERS",
    "SEQ_NAME",
    "IngestError",
    "IngestResult",
    "ingest",
    "next_change_seq",
]
