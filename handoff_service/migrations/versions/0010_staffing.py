"""staffing plan

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

staffing_plan: agents scheduled per hour of the week (service zone), entered by supervisors.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "staffing_plan",
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        sa.Column("agents", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", BigId, nullable=True),
        sa.PrimaryKeyConstraint("weekday", "hour", name="pk_staffing_plan"),
    )


def downgrade() -> None:
    op.drop_table("staffing_plan")
