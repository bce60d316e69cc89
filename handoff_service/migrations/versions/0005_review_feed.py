"""the review list's feed from Rasa, its traffic counts and agents' suggested labels

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

review_feed: how far each importer has read (the tracker store's event id; the last low-rated case).
review_traffic: customer messages and fallbacks per week and language (the fallback rate).
review_items.suggested_label: the intent an agent said the customer meant.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_feed",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("position", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "review_traffic",
        sa.Column("week", sa.String(10), primary_key=True),
        sa.Column("language", sa.String(8), primary_key=True),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("fallbacks", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("review_items") as batch:
        batch.add_column(sa.Column("suggested_label", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("review_items") as batch:
        batch.drop_column("suggested_label")
    op.drop_table("review_traffic")
    op.drop_table("review_feed")
