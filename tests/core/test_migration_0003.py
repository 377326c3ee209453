"""Migration 0003 on both databases: rows written by 0002 read as the new statuses and kinds."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Engine, text

from paperbot.core import db, schema

AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_upgrade_keeps_history_and_fails_what_was_mid_send(engine: Engine) -> None:
    with engine.begin() as conn:
        command.downgrade(schema.alembic_config(conn), "0002")
    try:
        with engine.begin() as conn:
            for channel, paused, reason in (
                ("a", False, None),
                ("b", True, "paused by U1"),
                ("c", True, "the channel is archived"),
            ):
                conn.execute(
                    text(
                        "INSERT INTO channels (platform, workspace, channel, digest_time, timezone,"
                        " days, size, post_empty, paused, pause_reason, created_at) VALUES"
                        " ('slack', 'T1', :c, '09:00', 'UTC', 'daily', 5, false, :p, :r, :at)"
                    ),
                    {"c": channel, "p": paused, "r": reason, "at": AT},
                )
            cid = conn.execute(text("SELECT id FROM channels WHERE channel = 'a'")).scalar()
            for slot, status, error, started in (
                ("2026-11-25", "skipped", "empty", False),
                ("2026-11-26", "sent", None, True),
                ("2026-11-27", "claimed", None, True),
                ("2026-11-28", "pending", None, False),
            ):
                conn.execute(
                    text(
                        "INSERT INTO deliveries (channel_id, slot, scheduled_at, status, attempts,"
                        " next_attempt_at, send_started, missed_before, message_ids, error,"
                        " created_at) VALUES (:cid, :slot, :at, :status, 1, :at, :started, 0,"
                        " '[]', :error, :at)"
                    ),
                    {"cid": cid, "slot": slot, "at": AT, "status": status, "error": error,
                     "started": started},
                )  # fmt: skip
    finally:
        db.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT slot, status, error, claim_version FROM deliveries ORDER BY slot")
        ).all()
        kinds = conn.execute(
            text("SELECT channel, pause_kind FROM channels ORDER BY channel")
        ).all()
    assert [tuple(r) for r in rows] == [
        ("2026-11-25", "empty", None, 0),
        ("2026-11-26", "sent", None, 0),
        ("2026-11-27", "failed", "interrupted by an upgrade of paperbot", 0),
        ("2026-11-28", "pending", None, 0),
    ]
    assert [tuple(k) for k in kinds] == [("a", None), ("b", "person"), ("c", "refused")]
