"""KPI rollups packed by day

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

metric_blocks: the rollup rows of one kind (cases, resolved, reopened, waits) and UTC day, packed
column by column (metrics/columns.py); metric_stale: the days whose rows changed since they were
packed. Every day that already has rollup rows is marked here: the dashboard reads those days from
the rows until the service packs them (metrics/scheduled.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SOURCES = (  # kind, table, time column, rows of that kind
    ("cases", "metric_cases", "created_at", "1 = 1"),
    ("resolved", "metric_cycles", "ended_at", "ended_at IS NOT NULL"),
    ("reopened", "metric_cycles", "started_at", "cycle > 0"),
    ("waits", "metric_waits", "started_at", "1 = 1"),
)


def upgrade() -> None:
    op.create_table(
        "metric_blocks",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "day", name="pk_metric_blocks"),
    )
    op.create_table(
        "metric_stale",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "day", name="pk_metric_stale"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        day = "CAST(strftime('%s', {col}) AS INTEGER) / 86400"
    else:
        day = "CAST(FLOOR(EXTRACT(EPOCH FROM {col}) / 86400) AS INTEGER)"
    for kind, table, col, where in SOURCES:
        op.execute(
            f"INSERT INTO metric_stale (kind, day, seq) SELECT DISTINCT '{kind}', {day.format(col=col)}, 1 "
            f"FROM {table} WHERE {where}"
        )


def downgrade() -> None:
    op.drop_table("metric_stale")
    op.drop_table("metric_blocks")
