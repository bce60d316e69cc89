"""follow-up visits

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

follow_up_visits: one visit per care cycle of a resolved case (unique case_id, cycle), claimed by
the scheduler through next_attempt_at.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "follow_up_visits",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("case_id", BigId, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer_channel", sa.String(8), nullable=True),
        sa.Column("answered_by", BigId, nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("cancel_reason", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("case_id", "cycle", name="uq_follow_up_visits_cycle"),
    )
    op.create_index("ix_follow_up_visits_due", "follow_up_visits", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_follow_up_visits_due", table_name="follow_up_visits")
    op.drop_table("follow_up_visits")
