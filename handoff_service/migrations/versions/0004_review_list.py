"""the trainers' review list

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Two new tables (review/models.py): one item per normalised text, one occurrence per collected
customer message.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "review_items",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("script", sa.String(16), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("reason_bits", sa.Integer(), nullable=False),
        sa.Column("top_intent", sa.String(128), nullable=True),
        sa.Column("top_confidence", sa.Float(), nullable=True),
        sa.Column("intents", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Float(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("label", sa.String(128), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reviewed_by", BigId, nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_review_items_status_rank", "review_items", ["status", "rank"])
    op.create_table(
        "review_occurrences",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("item_id", BigId, sa.ForeignKey("review_items.id"), nullable=False),
        sa.Column("source", sa.String(200), nullable=False, unique=True),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("intents", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
    )
    op.create_index("ix_review_occurrences_item", "review_occurrences", ["item_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_review_occurrences_item", table_name="review_occurrences")
    op.drop_table("review_occurrences")
    op.drop_index("ix_review_items_status_rank", table_name="review_items")
    op.drop_table("review_items")
