"""Channels and their topic subscriptions: create, change, list, remove (for CLI and chat)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from paperbot.config import DigestSettings
from paperbot.core.errors import UserError
from paperbot.core.messages import ChannelRef
from paperbot.core.models import Channel, Subscription, WorkspaceState
from paperbot.core.search.grammar import parse_query

MAX_TOPICS = 25


class ChannelError(UserError):
    """A change we refuse, with a message for the user."""


@dataclass(frozen=True)
class ScheduleSpec:
    time: str  # "HH:MM"
    zone: str
    days: str  # "daily" | "weekdays" | "mon,wed"


def find(session: Session, ref: ChannelRef) -> Channel | None:
    return session.scalar(
        select(Channel)
        .where(
            Channel.platform == ref.platform,
            Channel.workspace == ref.workspace,
            Channel.channel == ref.channel,
        )
        .options(selectinload(Channel.subscriptions))
    )


def get_or_create(
    session: Session, ref: ChannelRef, defaults: DigestSettings, *, now: datetime
) -> Channel:
    """The channel's row, created with the configured defaults on first use.

    A channel that was marked removed comes back when someone uses paperbot there again.
    """
    channel = find(session, ref)
    if channel is None:
        channel = Channel(
            platform=ref.platform,
            workspace=ref.workspace,
            channel=ref.channel,
            digest_time=defaults.default_time,
            timezone=defaults.default_zone,
            days=defaults.default_days,
            size=defaults.default_size,
            post_empty=False,
            paused=False,
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(channel)
        except IntegrityError:
            # Another replica created it between our read and insert.
            found = find(session, ref)
            assert found is not None
            channel = found
    elif channel.removed_at is not None:
        channel.removed_at = None
    return channel


def subscribe(session: Session, channel: Channel, topic: str, *, user: str, now: datetime) -> bool:
    """Add a topic; False when the channel already follows it (case-insensitive). A topic
    with nothing to match (`***`, `-`, `author:`) is refused: it would never match."""
    query = parse_query(topic, now=now)
    if query.is_empty:
        how = 'give words, a "quoted phrase", cat:cs.RO or author:name.'
        raise ChannelError(
            f"“{topic[:60]}” is not a topic I can match: {query.notes[0] if query.notes else how}"
        )
    existing = {s.topic.lower() for s in channel.subscriptions}
    if topic.lower() in existing:
        return False
    if len(existing) >= MAX_TOPICS:
        raise ChannelError(
            f"This channel already follows {MAX_TOPICS} topics; unsubscribe from one first."
        )
    channel.subscriptions.append(Subscription(topic=topic, created_by=user, created_at=now))
    session.flush()
    return True


def _bare(topic: str) -> str:
    return topic.strip('"“”').lower()


def unsubscribe(session: Session, channel: Channel, topic: str) -> list[str]:
    """Remove a topic ("all" removes every topic); returns the topics removed."""
    if topic.lower() == "all":
        removed = [s.topic for s in channel.subscriptions]
    else:
        # A topic given with or without its quotes (commands.unquoted_description drops
        # them from descriptions when they are stored).
        wanted = _bare(topic)
        removed = [s.topic for s in channel.subscriptions if _bare(s.topic) == wanted]
    if removed:
        session.execute(
            delete(Subscription).where(
                Subscription.channel_id == channel.id, Subscription.topic.in_(removed)
            )
        )
        session.expire(channel, ["subscriptions"])
    return removed


def set_schedule(channel: Channel, spec: ScheduleSpec) -> None:
    channel.digest_time, channel.timezone, channel.days = spec.time, spec.zone, spec.days


def mark_gone(
    session: Session,
    where: Sequence[ColumnElement[bool]],
    reason: str,
    *,
    now: datetime,
    kind: str = "gone",
) -> int:
    """Pause (and mark removed) the channels matching `where`; returns how many.

    Nobody is told: a platform event says someone removed the channel (or paperbot) on purpose.
    """
    result = session.execute(
        update(Channel)
        .where(*where)
        .values(
            paused=True, pause_reason=reason, pause_kind=kind, pause_notice="none", removed_at=now
        )
        .returning(Channel.id)
    )
    return len(result.all())


def channel_gone(
    session: Session, ref: ChannelRef, reason: str, *, now: datetime, kind: str = "gone"
) -> int:
    where = [
        Channel.platform == ref.platform,
        Channel.workspace == ref.workspace,
        Channel.channel == ref.channel,
    ]
    return mark_gone(session, where, reason, now=now, kind=kind)


def workspace_gone(
    session: Session, platform: str, workspace: str, reason: str, *, now: datetime
) -> int:
    """Pause every channel of a workspace the bot was removed from; remember when, so its data
    is deleted after the retention grace unless the bot comes back."""
    state = workspace_state(session, platform, workspace)
    # Uninstall and token revocation both arrive (in either order): the first one counts.
    state.removed_at = state.removed_at or now
    # Channels already gone keep their own reason and date (they stay gone if the bot returns).
    where = [
        Channel.platform == platform,
        Channel.workspace == workspace,
        Channel.removed_at.is_(None),
    ]
    return mark_gone(session, where, reason, now=now, kind="removed")


def workspace_back(session: Session, platform: str, workspace: str) -> int:
    """The bot was added again: resume the channels its removal paused; returns how many."""
    state = workspace_state(session, platform, workspace)
    if state.removed_at is None:
        return 0
    result = session.execute(
        update(Channel)
        .where(
            Channel.platform == platform,
            Channel.workspace == workspace,
            Channel.removed_at >= state.removed_at,
        )
        .values(
            paused=False, pause_reason=None, pause_kind=None, pause_notice=None, removed_at=None
        )
        .returning(Channel.id)
    )
    state.removed_at = None
    return len(result.all())


def workspace_state(session: Session, platform: str, workspace: str) -> WorkspaceState:
    """The workspace's row, locked: concurrent uninstall/revoke events then apply in turn."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(WorkspaceState)
        .values(platform=platform, workspace=workspace)
        .on_conflict_do_nothing(index_elements=["platform", "workspace"])
    )
    state = session.scalar(
        select(WorkspaceState)
        .where(WorkspaceState.platform == platform, WorkspaceState.workspace == workspace)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert state is not None
    return state


def remove(session: Session, ref: ChannelRef) -> bool:
    channel = find(session, ref)
    if channel is None:
        return False
    session.delete(channel)
    return True


def all_channels(session: Session) -> list[Channel]:
    return list(
        session.scalars(
            select(Channel)
            .options(selectinload(Channel.subscriptions))
            .order_by(Channel.platform, Channel.workspace, Channel.channel)
        )
    )


def removed_before(session: Session, before: datetime) -> tuple[set[int], int]:
    """The ids of channels removed before `before`, or of a workspace uninstalled before then
    (what the retention periods purge), and how many such workspaces there are."""
    gone = session.execute(
        select(WorkspaceState.platform, WorkspaceState.workspace).where(
            WorkspaceState.removed_at.is_not(None), WorkspaceState.removed_at < before
        )
    ).all()
    removed = (Channel.removed_at.is_not(None)) & (Channel.removed_at < before)
    if gone:
        removed = removed | tuple_(Channel.platform, Channel.workspace).in_(
            [tuple(row) for row in gone]
        )
    return set(session.scalars(select(Channel.id).where(removed))), len(gone)
