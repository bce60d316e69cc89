"""KPI rollups

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

metric_cases (one row per case), metric_cycles (one per care cycle) and metric_waits (one per
customer wait): derived from cases, case_events, messages and follow_up_visits after each commit,
rebuilt from them by `python -m handoff_service metrics-rebuild` (run it once after this upgrade).
review_contacts: customers' contacts (a conversation's messages less than 24 h apart), fed by the
review feed from Rasa's tracker store; bot containment is counted over them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "metric_cases",
        sa.Column("case_id", BigId, primary_key=True, autoincrement=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner_id", BigId, nullable=True),
        sa.Column("last_handler_id", BigId, nullable=True),
        sa.Column("handoff_at", TS, nullable=True),
        sa.Column("claim_seconds", sa.Float(), nullable=True),
        sa.Column("first_response_seconds", sa.Float(), nullable=True),
        sa.Column("bot_resolved", sa.Boolean(), nullable=False),
        sa.Column("resolutions", sa.Integer(), nullable=False),
        sa.Column("reopens", sa.Integer(), nullable=False),
        sa.Column("sla_first_response", sa.String(10), nullable=True),
        sa.Column("sla_result", sa.String(10), nullable=True),
        sa.Column("sla_follow_up", sa.String(10), nullable=True),
        sa.Column("csat_overall", sa.SmallInteger(), nullable=True),
        sa.Column("csat_attitude", sa.SmallInteger(), nullable=True),
        sa.Column("csat_speed", sa.SmallInteger(), nullable=True),
        sa.Column("csat_solved", sa.SmallInteger(), nullable=True),
        sa.Column("csat_owner_id", BigId, nullable=True),
        sa.Column("csat_handler_id", BigId, nullable=True),
        sa.Column("visits_planned", sa.Integer(), nullable=False),
        sa.Column("visits_solved", sa.Integer(), nullable=False),
        sa.Column("visits_not_solved", sa.Integer(), nullable=False),
        sa.Column("visits_no_answer", sa.Integer(), nullable=False),
    )
    op.create_index("ix_metric_cases_created", "metric_cases", ["created_at"])
    op.create_index("ix_metric_cases_owner", "metric_cases", ["owner_id", "created_at"])
    op.create_index("ix_metric_cases_conversation", "metric_cases", ["conversation_id", "created_at"])
    op.create_table(
        "metric_cycles",
        sa.Column("case_id", BigId, primary_key=True, autoincrement=False),
        sa.Column("cycle", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("handler_id", BigId, nullable=True),
        sa.Column("by_follow_up", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_metric_cycles_ended", "metric_cycles", ["ended_at"])
    op.create_index("ix_metric_cycles_started", "metric_cycles", ["started_at"])
    op.create_table(
        "metric_waits",
        sa.Column("case_id", BigId, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("replied_at", TS, nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("handler_id", BigId, nullable=True),
    )
    op.create_index("ix_metric_waits_started", "metric_waits", ["started_at"])
    op.create_table(
        "review_contacts",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("last_at", TS, nullable=False),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("messages", sa.Integer(), nullable=False),
    )
    op.create_index("ix_review_contacts_conversation", "review_contacts", ["conversation_id", "last_at"])
    op.create_index("ix_review_contacts_started", "review_contacts", ["started_at"])


def downgrade() -> None:
    op.drop_table("review_contacts")
    op.drop_table("metric_waits")
    op.drop_table("metric_cycles")
    op.drop_table("metric_cases")
