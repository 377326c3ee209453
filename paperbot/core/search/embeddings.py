"""Stored embeddings (paper_embeddings): which papers need embedding, writing and reading rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session

from paperbot.core.models import Counter, Paper, PaperEmbedding
from paperbot.core.search.passages import from_blob, text_sha, to_blob


@dataclass(frozen=True)
class Pending:
    """A paper whose stored vectors are missing or were made from other text."""

    paper_id: int
    change_seq: int
    title: str
    abstract: str
    text_sha: str


def watermark_name(key: str) -> str:
    return f"embed:{key}"[:64]


def watermark(session: Session, key: str) -> int:
    """The change_seq up to which every paper has vectors under this key."""
    row = session.get(Counter, watermark_name(key))
    return int(row.value) if row is not None else 0


def set_watermark(session: Session, key: str, seq: int) -> None:
    row = session.get(Counter, watermark_name(key))
    if row is None:
        session.add(Counter(name=watermark_name(key), value=seq))
    else:
        row.value = seq


def pending(
    session: Session, key: str, after: tuple[int, int], limit: int
) -> tuple[list[Pending], tuple[int, int] | None]:
    """Papers changed after a (change_seq, id) cursor whose vectors are missing or stale, and
    the cursor past the rows looked at (None: nothing left)."""
    rows = session.execute(
        select(Paper.id, Paper.change_seq, Paper.title, Paper.abstract, PaperEmbedding.text_sha)
        .outerjoin(
            PaperEmbedding,
            (PaperEmbedding.paper_id == Paper.id) & (PaperEmbedding.model == key),
        )
        .where(tuple_(Paper.change_seq, Paper.id) > tuple_(*after))
        .order_by(Paper.change_seq, Paper.id)
        .limit(limit)
    ).all()
    if not rows:
        return [], None
    out = []
    for pid, seq, title, abstract, stored in rows:
        sha = text_sha(title or "", abstract or "")
        if sha != stored:
            out.append(Pending(pid, seq, title or "", abstract or "", sha))
    return out, (rows[-1].change_seq, rows[-1].id)


def store(
    session: Session,
    key: str,
    items: Sequence[tuple[Pending, np.ndarray]],
    *,
    now: datetime,
) -> None:
    """Replace these papers' vectors under the key (new rows, so replicas see them by id)."""
    if not items:
        return
    ids = [p.paper_id for p, _ in items]
    session.execute(
        delete(PaperEmbedding).where(PaperEmbedding.model == key, PaperEmbedding.paper_id.in_(ids))
    )
    session.add_all(
        PaperEmbedding(
            paper_id=p.paper_id,
            model=key,
            text_sha=p.text_sha,
            dim=int(vectors.shape[1]),
            vectors=to_blob(vectors),
            created_at=now,
        )
        for p, vectors in items
    )


def rows_after(
    session: Session, key: str, after_id: int, limit: int
) -> list[tuple[int, int, np.ndarray]]:
    """(row id, paper id, passage vectors) of the key's rows after a row id, in id order."""
    rows = session.execute(
        select(
            PaperEmbedding.id, PaperEmbedding.paper_id, PaperEmbedding.dim, PaperEmbedding.vectors
        )
        .where(PaperEmbedding.model == key, PaperEmbedding.id > after_id)
        .order_by(PaperEmbedding.id)
        .limit(limit)
    ).all()
    return [(int(r.id), int(r.paper_id), from_blob(r.vectors, r.dim)) for r in rows]


def counts(session: Session, key: str) -> tuple[int, int]:
    """(papers with vectors under the key, papers)."""
    embedded = session.scalar(
        select(func.count()).select_from(PaperEmbedding).where(PaperEmbedding.model == key)
    )
    total = session.scalar(select(func.count()).select_from(Paper))
    return int(embedded or 0), int(total or 0)


def other_keys(session: Session, key: str) -> dict[str, int]:
    """Rows kept under other embedding keys (an earlier model), by key."""
    rows = session.execute(
        select(PaperEmbedding.model, func.count())
        .where(PaperEmbedding.model != key)
        .group_by(PaperEmbedding.model)
    ).all()
    return {str(model): int(n) for model, n in rows}


def prune_other_keys(session: Session, key: str, limit: int = 5000) -> int:
    """Delete up to `limit` rows of other keys; the number deleted."""
    ids = session.scalars(
        select(PaperEmbedding.id).where(PaperEmbedding.model != key).limit(limit)
    ).all()
    if ids:
        session.execute(delete(PaperEmbedding).where(PaperEmbedding.id.in_(ids)))
    return len(ids)


__all__ = [
    "Pending",
    "counts",
    "other_keys",
    "pending",
    "prune_other_keys",
    "rows_after",
    "set_watermark",
    "store",
    "watermark",
]
