"""Retention: the feedback of channels removed (or of workspaces uninstalled) long enough ago."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from paperbot.core.engage import feedback
from paperbot.core.models import Channel, EngageMessage, PaperThread, WorkspaceState


def purge_removed(session: Session, *, before: datetime) -> int:
    """Delete the votes, signals, message and thread maps of channels removed before `before`
    and of every channel of a workspace uninstalled before then; how many rows went."""
    gone = session.execute(
        select(WorkspaceState.platform, WorkspaceState.workspace).where(
            WorkspaceState.removed_at.is_not(None), WorkspaceState.removed_at < before
        )
    ).all()
    ids = set(
        session.scalars(
            select(Channel.id).where(Channel.removed_at.is_not(None), Channel.removed_at < before)
        )
    )
    for platform, workspace in gone:
        ids.update(
            session.scalars(
                select(Channel.id).where(
                    Channel.platform == platform, Channel.workspace == workspace
                )
            )
        )
    if not ids:
        return 0
    chosen = sorted(ids)
    n = feedback.forget(session, chosen).total
    for model in (EngageMessage, PaperThread):
        result = session.execute(delete(model).where(model.channel_id.in_(chosen)))
        n += int(getattr(result, "rowcount", 0) or 0)
    return n
