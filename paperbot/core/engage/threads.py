"""Discussion threads: channel + paper -> thread; a thread's replies go to its newest paper."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from paperbot.core.models import PaperThread


def opened(session: Session, channel_id: int, paper_id: int, thread_id: str, now: datetime) -> None:
    """The paper's thread in the channel (a newer one replaces it); the newest paper posted in a
    shared Slack thread is the one its replies are credited to."""
    row = session.scalar(
        select(PaperThread).where(
            PaperThread.channel_id == channel_id, PaperThread.paper_id == paper_id
        )
    )
    if row is None:
        session.add(
            PaperThread(
                channel_id=channel_id, paper_id=paper_id, thread_id=thread_id[:64], created_at=now
            )
        )
    else:
        row.thread_id, row.created_at = thread_id[:64], now
    session.flush()


def thread_of(session: Session, channel_id: int, paper_id: int) -> str | None:
    return session.scalar(
        select(PaperThread.thread_id).where(
            PaperThread.channel_id == channel_id, PaperThread.paper_id == paper_id
        )
    )


def paper_in(session: Session, channel_id: int, thread_id: str) -> int | None:
    """The paper most recently posted in this thread (None: not a paperbot thread)."""
    return session.scalar(
        select(PaperThread.paper_id)
        .where(PaperThread.channel_id == channel_id, PaperThread.thread_id == thread_id[:64])
        .order_by(PaperThread.created_at.desc(), PaperThread.id.desc())
        .limit(1)
    )
