"""Source health for digests: which sources failed or went stale, so a digest may be partial."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from paperbot.core.models import SourceState

SOURCE_NAMES = {"hf": "Hugging Face", "arxiv": "arXiv", "file": "files"}
# A source without a success for this long makes the digest "partial".
STALE_AFTER = timedelta(days=1)


def partial_sources(
    session: Session, now: datetime, *, sources: Collection[str] | None = None
) -> tuple[str, ...]:
    """Display names of sources whose last run failed or that have not succeeded for a day.

    `sources` limits the check to the sources in use (default: every source with a state row).
    """
    stmt = select(SourceState)
    if sources is not None:
        stmt = stmt.where(SourceState.source.in_(list(sources)))
    out: list[str] = []
    for state in session.scalars(stmt.order_by(SourceState.source)):
        ok, failed = state.last_success_at, state.last_error_at
        if ok is None and failed is None:
            continue
        if (failed is not None and (ok is None or failed > ok)) or (
            ok is not None and now - ok > STALE_AFTER
        ):
            out.append(SOURCE_NAMES.get(state.source, state.source))
    return tuple(out)


__all__ = ["partial_sources"]
