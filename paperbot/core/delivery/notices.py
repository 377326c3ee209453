"""Telling people, once: a paused channel's setter-up (else the operator); paused workspaces.

"Once" is persisted (pause_notice): the replica that flips it from NULL sends the notice, so
restarts and other replicas never repeat it. A notice that cannot be delivered to a person
goes to the operator; it never pauses or delays a digest.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from paperbot.core.db import transaction
from paperbot.core.delivery.deps import DeliveryDeps
from paperbot.core.delivery.status import TOLD, PauseKind, kind_of
from paperbot.core.messages import ChannelRef
from paperbot.core.models import Channel, WorkspaceState
from paperbot.core.panics import recoverable
from paperbot.core.ports import Notice

log = logging.getLogger(__name__)

FIX = {
    PauseKind.NOT_IN_CHANNEL: "Invite paperbot back to the channel and digests resume by"
    " themselves.",
    PauseKind.PERMISSION: "Give paperbot back the permission and digests resume by themselves"
    " (or run /papers resume there).",
    PauseKind.ARCHIVED: "Unarchive the channel and digests resume by themselves.",
    PauseKind.GONE: "If the channel still exists, add paperbot to it and run /papers resume.",
    PauseKind.SCHEDULE: "Run /papers schedule in the channel to set it again.",
    PauseKind.REFUSED: "Fix that, then run /papers resume in the channel.",
}


def pause_text(reason: str, kind: PauseKind) -> str:
    return f"paperbot paused this channel's daily digest: {reason}. {FIX.get(kind, '')}".strip()


def _flip(
    session: Session, model: type[Channel] | type[WorkspaceState], row_id: int, value: str
) -> bool:
    where: list[ColumnElement[bool]] = [model.id == row_id, model.pause_notice.is_(None)]
    done = session.execute(
        update(model)
        .where(*where)
        .values(pause_notice=value)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    ).first()
    return done is not None


def tell_pending(deps: DeliveryDeps, *, now: datetime) -> int:
    """Tell whoever should know about pauses nobody was told about yet; how many were told."""
    told = 0
    with deps.session_factory() as session:
        channels = session.execute(
            select(
                Channel.id,
                Channel.platform,
                Channel.workspace,
                Channel.channel,
                Channel.pause_reason,
                Channel.pause_kind,
                Channel.configured_by,
            ).where(
                Channel.paused.is_(True),
                Channel.pause_notice.is_(None),
                Channel.pause_kind.in_([str(k) for k in TOLD]),
                Channel.platform.in_(list(deps.platforms)),
            )
        ).all()
        workspaces = session.execute(
            select(
                WorkspaceState.id,
                WorkspaceState.platform,
                WorkspaceState.workspace,
                WorkspaceState.paused_reason,
            ).where(WorkspaceState.paused_at.is_not(None), WorkspaceState.pause_notice.is_(None))
        ).all()
    for cid, platform, workspace, channel, reason, kind, user in channels:
        with transaction(deps.session_factory) as session:
            if not _flip(session, Channel, cid, "telling"):
                continue
        ref = ChannelRef(platform, workspace, channel)
        text = pause_text(reason or "paperbot cannot post there", kind_of(kind))
        reached = _notify(deps, Notice(ref, user, text))
        if not reached:
            deps.alerts.operator("channel-paused", text, now=now, where=ref)
        with transaction(deps.session_factory) as session:
            session.execute(
                update(Channel)
                .where(Channel.id == cid, Channel.pause_notice == "telling")
                .values(pause_notice="person" if reached else "operator")
            )
        told += 1
    for wid, platform, workspace, reason in workspaces:
        with transaction(deps.session_factory) as session:
            if not _flip(session, WorkspaceState, wid, "operator"):
                continue
        # Nobody in a workspace whose token is refused can be reached through it.
        where = f"{platform}:{workspace}" if workspace != "*" else f"{platform} (every workspace)"
        text = f"paperbot's token is refused ({reason}); its digests wait until it works again"
        deps.alerts.operator("workspace-paused", text, now=now, where=where)
        told += 1
    return told


def _notify(deps: DeliveryDeps, notice: Notice) -> bool:
    try:
        return bool(deps.platforms[notice.channel.platform].notify(notice))
    except BaseException as exc:
        if not recoverable(exc):
            raise
        log.warning("%s: telling a person failed: %s", notice.channel, type(exc).__name__)
        return False
