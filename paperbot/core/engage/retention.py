"""Retention: the feedback of channels removed (or of workspaces uninstalled) long enough ago."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from paperbot.core.channels import store as channels
from paperbot.core.engage import feedback
from paperbot.core.models import EngageMessage, PaperThread


def purge_removed(session: Session, *, before: datetime) -> int:
    """Delete the votes, signals, message and thread maps of channels removed before `before`
    and of every channel of a workspace uninstalled before then; how many rows went."""
    ids, _ = channels.removed_before(session, before)
    if not ids:
        return 0
    chosen = sorted(ids)
    n = feedback.forget(session, chosen).total
    for model in (EngageMessage, PaperThread):
        result = session.execute(delete(model).where(model.channel_id.in_(chosen)))
        n += int(getattr(result, "rowcount", 0) or 0)
    return n
