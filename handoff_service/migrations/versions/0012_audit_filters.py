"""audit log filter indexes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

The supervisors' audit log view filters by target (a case number, a request path) and by time,
newest first: ix_audit_log_target (target_id, id) answers a target in id order, ix_audit_log_at
(at) a time range.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_target", "audit_log", ["target_id", "id"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_index("ix_audit_log_target", table_name="audit_log")
