"""outage links keep the customer's Chinese script

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

outage_links.script: "simplified" or "traditional" when the bot linked the case (NULL otherwise): a
notice's updates reach a customer who writes Traditional characters in them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outage_links", sa.Column("script", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outage_links") as batch:
        batch.drop_column("script")
