"""idempotency keys for bot case creation and bot timeline entries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Nullable columns and unique indexes only: on SQLite these are plain
ALTER TABLE ADD COLUMN / CREATE INDEX (no table copy), so the append-only
triggers on case_events stay in place.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("idempotency_key", sa.String(length=128), nullable=True))
    op.create_index("uq_cases_idempotency_key", "cases", ["idempotency_key"], unique=True)
    op.add_column("case_events", sa.Column("idempotency_key", sa.String(length=128), nullable=True))
    op.create_index("uq_case_events_case_key", "case_events", ["case_id", "idempotency_key"], unique=True)


def downgrade() -> None:
    # plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): no table copy, triggers kept
    op.drop_index("uq_case_events_case_key", table_name="case_events")
    op.drop_column("case_events", "idempotency_key")
    op.drop_index("uq_cases_idempotency_key", table_name="cases")
    op.drop_column("cases", "idempotency_key")
