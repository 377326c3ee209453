"""paper embeddings for semantic search

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00

One row per paper and embedding key: the paper's passage vectors as int8, and the hash of the
text they were made from. The vector index of each replica is derived from these rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paper_embeddings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("text_sha", sa.String(length=16), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vectors", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_paper_embeddings_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_embeddings")),
        sa.UniqueConstraint("model", "paper_id", name="uq_paper_embeddings_model_paper"),
    )
    op.create_index(
        "ix_paper_embeddings_model_id", "paper_embeddings", ["model", "id"], unique=False
    )
    op.create_index(
        op.f("ix_paper_embeddings_paper_id"), "paper_embeddings", ["paper_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_paper_embeddings_paper_id"), table_name="paper_embeddings")
    op.drop_index("ix_paper_embeddings_model_id", table_name="paper_embeddings")
    op.drop_table("paper_embeddings")
