"""bearer tokens expire

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

One nullable column (NULL: never, e.g. the bot service token): on SQLite a plain
ALTER TABLE ADD COLUMN (no table copy).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("api_tokens", "expires_at")
