"""delivery under faults: fencing tokens, frozen digests, message parts, pauses that resume

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00

- deliveries: claim_version (the fencing token), digest (the frozen digest while in flight);
  send_started and message_ids give way to delivery_parts (one row per message: its papers,
  its message id, whether a post of it was attempted).
- channels: pause_kind, pause_notice, configured_by, resumed_note.
- workspace_states: a workspace-level pause (refused token) with its probe schedule.

Deliveries that were mid-send at the upgrade cannot be reconciled part by part: they are
recorded as failed, so the channel's next digest says one could not be delivered.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "delivery_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("papers", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", TZ, nullable=True),
        sa.Column("posted_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_parts_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_parts")),
        sa.UniqueConstraint("delivery_id", "part", name="uq_delivery_parts_part"),
    )
    deliveries = sa.table(
        "deliveries",
        sa.column("status", sa.String),
        sa.column("error", sa.Text),
        sa.column("send_started", sa.Boolean),
    )
    op.execute(
        deliveries.update()
        .where(deliveries.c.status == "skipped", deliveries.c.error == "empty")
        .values(status="empty", error=None)
    )
    op.execute(
        deliveries.update()
        .where(
            deliveries.c.status.in_(["pending", "claimed"]),
            deliveries.c.send_started == sa.true(),
        )
        .values(status="failed", error="interrupted by an upgrade of paperbot")
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claim_version", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("digest", sa.JSON(), nullable=True))
        batch_op.drop_column("send_started")
        batch_op.drop_column("message_ids")
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pause_kind", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("pause_notice", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("configured_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("resumed_note", sa.Text(), nullable=True))
    channels = sa.table(
        "channels",
        sa.column("paused", sa.Boolean),
        sa.column("pause_reason", sa.Text),
        sa.column("pause_kind", sa.String),
    )
    op.execute(
        channels.update()
        .where(channels.c.paused == sa.true(), channels.c.pause_reason.like("paused by %"))
        .values(pause_kind="person")
    )
    op.execute(
        channels.update()
        .where(channels.c.paused == sa.true(), channels.c.pause_kind.is_(None))
        .values(pause_kind="refused")
    )
    with op.batch_alter_table("workspace_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("paused_at", TZ, nullable=True))
        batch_op.add_column(sa.Column("next_probe_at", TZ, nullable=True))
        batch_op.add_column(sa.Column("probes", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("pause_notice", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workspace_states", schema=None) as batch_op:
        for name in ("pause_notice", "probes", "next_probe_at", "paused_at", "paused_reason"):
            batch_op.drop_column(name)
    with op.batch_alter_table("channels", schema=None) as batch_op:
        for name in ("resumed_note", "configured_by", "pause_notice", "pause_kind"):
            batch_op.drop_column(name)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("message_ids", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("send_started", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.drop_column("digest")
        batch_op.drop_column("claim_version")
    op.execute("UPDATE deliveries SET status = 'skipped', error = 'empty' WHERE status = 'empty'")
    op.drop_table("delivery_parts")
