"""audit log: the actor filter's index on the name it filters by

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

The supervisors' audit log view filters by actor username (actor_name: staff, the command line and
named services alike), newest first. ix_audit_log_actor indexed actor_id, which no query reads;
ix_audit_log_actor_name (actor_name, id) replaces it.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_audit_log_actor", table_name="audit_log")
    op.create_index("ix_audit_log_actor_name", "audit_log", ["actor_name", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_actor_name", table_name="audit_log")
    op.create_index("ix_audit_log_actor", "audit_log", ["actor_id", "id"])
