"""engagement: feedback votes and signals, posted messages, paper threads, roundups

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:30:00

- feedback_votes: one 👍/👎 per member, paper and channel; feedback_signals: weaker positives
  (more like this, share, discuss, thread replies), without member ids.
- engage_messages: messages posted outside digests (share, discuss) and the papers they show.
- paper_threads: channel + paper -> discussion thread.
- deliveries.kind ("digest" | "roundup"; existing rows are digests), an index on
  delivery_parts.message_id (reactions name a message), and each channel's roundup schedule.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _owned(name: str, *columns: Any, papers: bool = True) -> None:
    """A table of per-channel rows (and per paper): both foreign keys cascade."""
    keys = [
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f(f"fk_{name}_channel_id_channels"),
            ondelete="CASCADE",
        )
    ]
    if papers:
        keys.append(
            sa.ForeignKeyConstraint(
                ["paper_id"],
                ["papers.id"],
                name=op.f(f"fk_{name}_paper_id_papers"),
                ondelete="CASCADE",
            )
        )
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        *columns,
        sa.Column("created_at", TZ, nullable=False),
        *keys,
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )


def upgrade() -> None:
    _owned(
        "feedback_votes",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.UniqueConstraint("channel_id", "paper_id", "member", name="uq_feedback_votes_member"),
    )
    _owned(
        "feedback_signals",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
    )
    op.create_index(
        "ix_feedback_signals_channel_created", "feedback_signals", ["channel_id", "created_at"]
    )
    _owned(
        "engage_messages",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("papers", sa.JSON(), nullable=False),
        sa.UniqueConstraint("channel_id", "message_id", name="uq_engage_messages_message"),
        papers=False,
    )
    _owned(
        "paper_threads",
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=False),
        sa.UniqueConstraint("channel_id", "paper_id", name="uq_paper_threads_paper"),
    )
    op.create_index("ix_paper_threads_channel_thread", "paper_threads", ["channel_id", "thread_id"])
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="digest")
        )
    op.create_index("ix_delivery_parts_message_id", "delivery_parts", ["message_id"])
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("roundup_day", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("roundup_time", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("roundup_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        for name in ("roundup_zone", "roundup_time", "roundup_day"):
            batch_op.drop_column(name)
    op.drop_index("ix_delivery_parts_message_id", table_name="delivery_parts")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("kind")
    op.drop_index("ix_paper_threads_channel_thread", table_name="paper_threads")
    op.drop_table("paper_threads")
    op.drop_table("engage_messages")
    op.drop_index("ix_feedback_signals_channel_created", table_name="feedback_signals")
    op.drop_table("feedback_signals")
    op.drop_table("feedback_votes")
