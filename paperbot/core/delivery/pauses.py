"""Pausing and resuming a channel's digest, with why (PauseKind), so the right thing resumes it."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.orm import Session

from paperbot.core.delivery.status import TOLD, PauseKind, kind_of
from paperbot.core.messages import ChannelRef
from paperbot.core.models import Channel


def at(ref: ChannelRef) -> list[ColumnElement[bool]]:
    """The WHERE clauses naming one channel."""
    return [
        Channel.platform == ref.platform,
        Channel.workspace == ref.workspace,
        Channel.channel == ref.channel,
    ]


def pause(
    session: Session, where: list[ColumnElement[bool]], reason: str, kind: PauseKind
) -> list[int]:
    """Pause the matching channels; a person is told later (notices), once per pause."""
    result = session.execute(
        update(Channel)
        .where(*where)
        .values(
            paused=True,
            pause_reason=reason[:500],
            pause_kind=str(kind),
            pause_notice=None if kind in TOLD else "none",
            resumed_note=None,
        )
        .returning(Channel.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())


def paused(
    where: list[ColumnElement[bool]], kinds: Collection[PauseKind] | None = None
) -> Select[int, str | None, str | None]:
    """The paused channels among `where` (only those paused for one of `kinds`, if given)."""
    query = select(Channel.id, Channel.pause_reason, Channel.pause_kind).where(
        *where, Channel.paused.is_(True)
    )
    if kinds is not None:
        query = query.where(Channel.pause_kind.in_([str(k) for k in kinds]))
    return query


def resume(
    session: Session,
    where: list[ColumnElement[bool]],
    kinds: Collection[PauseKind] | None = None,
) -> list[int]:
    """Resume the matching paused channels (only those paused for one of `kinds`, if given).

    A channel paperbot had paused for a reason a person fixed says so in its next digest.
    """
    done: list[int] = []
    for cid, reason, kind in session.execute(paused(where, kinds).with_for_update()).all():
        note = reason if kind_of(kind) in TOLD and reason else None
        session.execute(
            update(Channel)
            .where(Channel.id == cid)
            .values(
                paused=False,
                pause_reason=None,
                pause_kind=None,
                pause_notice=None,
                removed_at=None,
                resumed_note=note,
            )
            .execution_options(synchronize_session=False)
        )
        done.append(cid)
    return done
