"""Feedback retention: a removed channel's (or an uninstalled workspace's) feedback goes in the
maintenance job once engage.retention_days pass; kept before that; migration 0005 on old rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from engage_world import NOW, Recording, admin, member, open_core, ref
from sqlalchemy import Engine, func, select, text

from paperbot.bootstrap import Core
from paperbot.core import db, schema
from paperbot.core.commands import Discuss, Vote
from paperbot.core.models import Channel, EngageMessage, FeedbackSignal, FeedbackVote, PaperThread

TABLES = (FeedbackVote, FeedbackSignal, EngageMessage, PaperThread)


def rows(core: Core, workspace: str) -> int:
    ids = select(Channel.id).where(Channel.workspace == workspace)
    with core.session_factory() as session:
        return sum(
            int(
                session.scalar(select(func.count()).select_from(t).where(t.channel_id.in_(ids)))
                or 0
            )
            for t in TABLES
        )


def engage(core: Core, workspace: str) -> None:
    service = core.service
    service.handle_text("size 2", admin("C1", workspace), now=NOW)
    service.deliver_now(ref("C1", workspace), now=NOW)
    key = "2606.13681"
    service.execute(Vote(key, "like"), member("U1", "C1", workspace), now=NOW)
    service.execute(Discuss(key), member("U1", "C1", workspace), now=NOW)
    service.thread_opened(ref("C1", workspace), key, "1700.1", now=NOW)
    service.record_posted(ref("C1", workspace), "m-share", [key], kind="share", now=NOW)


def test_removed_channels_and_uninstalled_workspaces_lose_feedback_after_retention(
    make_settings: Any,
) -> None:
    core = open_core(
        make_settings, engage={"retention_days": 10}, retention={"removed_channel_days": 60}
    )
    try:
        core.service.platforms["fake"] = Recording(per_part=1)
        for workspace in ("T1", "T2", "T3"):
            engage(core, workspace)
        assert rows(core, "T1") == 5  # vote, discuss, share, thread, shared message
        core.service.channel_gone(ref("C1", "T1"), "channel_not_found", now=NOW)
        core.service.workspace_gone("fake", "T2", "app_uninstalled", now=NOW)
        soon = core.service.maintenance_tick(NOW + timedelta(days=9))
        assert soon.feedback == 0 and rows(core, "T1") == rows(core, "T2") == 5
        later = core.service.maintenance_tick(NOW + timedelta(days=11))
        assert later.feedback == 10 and "10 feedback rows" in later.summary()
        assert rows(core, "T1") == rows(core, "T2") == 0
        assert rows(core, "T3") == 5  # a channel still in use keeps its taste
        with core.session_factory() as session:  # the channels themselves wait their 60 days
            assert session.scalar(select(func.count()).select_from(Channel)) == 3
    finally:
        core.close()


def test_migration_0005_reads_old_deliveries_as_digests(engine: Engine) -> None:
    at = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    with engine.begin() as conn:
        command.downgrade(schema.alembic_config(conn), "0004")
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO channels (platform, workspace, channel, digest_time, timezone,"
                    " days, size, post_empty, paused, created_at) VALUES"
                    " ('slack', 'T1', 'a', '09:00', 'UTC', 'daily', 5, false, false, :at)"
                ),
                {"at": at},
            )
            conn.execute(
                text(
                    "INSERT INTO deliveries (channel_id, slot, scheduled_at, status, attempts,"
                    " next_attempt_at, claim_version, missed_before, created_at) VALUES"
                    " ((SELECT id FROM channels), '2026-11-27', :at, 'sent', 1, :at, 1, 0, :at)"
                ),
                {"at": at},
            )
    finally:
        db.upgrade(engine)
    with engine.connect() as conn:
        kinds = conn.execute(text("SELECT slot, kind FROM deliveries")).all()
        roundup = conn.execute(text("SELECT roundup_day FROM channels")).scalar()
    assert [tuple(k) for k in kinds] == [("2026-11-27", "digest")] and roundup is None
