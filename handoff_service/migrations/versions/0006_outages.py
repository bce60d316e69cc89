"""outage notices

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

outage_notices: what supervisors publish (outages/models.py), with the review kept on resolution.
outage_updates: each step of a notice, append-only (UPDATE/DELETE refused by triggers, like case_events).
outage_links: the cases linked to a notice (their customers hear of its progress).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = "outage_updates"


def _append_only_triggers() -> None:
    t = APPEND_ONLY
    if op.get_bind().dialect.name == "postgresql":
        # handoff_append_only() is migration 0001's
        op.execute(
            f"CREATE TRIGGER trg_{t}_append_only BEFORE UPDATE OR DELETE ON {t} "
            "FOR EACH ROW EXECUTE FUNCTION handoff_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER trg_{t}_no_{verb.lower()} BEFORE {verb} ON {t} "
                f"BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END"
            )


def _drop_append_only_triggers() -> None:
    t = APPEND_ONLY
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS trg_{t}_append_only ON {t}")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_{t}_no_{verb}")


def upgrade() -> None:
    op.create_table(
        "outage_notices",
        sa.Column("id", BigId, nullable=False),
        sa.Column("title_zh", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(200), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("expected_recovery_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", BigId, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_cause", sa.Text(), nullable=True),
        sa.Column("review_fix", sa.Text(), nullable=True),
        sa.Column("review_prevention", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff_users.id"], name=op.f("fk_outage_notices_created_by_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outage_notices")),
    )
    op.create_index("ix_outage_notices_status", "outage_notices", ["status", "id"])
    op.create_table(
        "outage_updates",
        sa.Column("id", BigId, nullable=False),
        sa.Column("notice_id", BigId, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_id", BigId, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_zh", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.Column("expected_recovery_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified", sa.Integer(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["outage_notices.id"], name=op.f("fk_outage_updates_notice_id_outage_notices")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff_users.id"], name=op.f("fk_outage_updates_author_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outage_updates")),
    )
    op.create_index("ix_outage_updates_notice", "outage_updates", ["notice_id", "id"])
    op.create_table(
        "outage_links",
        sa.Column("id", BigId, nullable=False),
        sa.Column("notice_id", BigId, nullable=False),
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("linked_by", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["outage_notices.id"], name=op.f("fk_outage_links_notice_id_outage_notices")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_outage_links_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outage_links")),
        sa.UniqueConstraint("notice_id", "case_id", name="uq_outage_links_notice_case"),
    )
    op.create_index("ix_outage_links_case", "outage_links", ["case_id"])
    _append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    op.drop_index("ix_outage_links_case", table_name="outage_links")
    op.drop_table("outage_links")
    op.drop_index("ix_outage_updates_notice", table_name="outage_updates")
    op.drop_table("outage_updates")
    op.drop_index("ix_outage_notices_status", table_name="outage_notices")
    op.drop_table("outage_notices")
