"""The audit log of staff actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff_service.core.orm import Base, BigId, UTCDateTime


class AuditEntry(Base):
    """Compliance ledger of staff actions (append-only, like the timeline)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        # the supervisors' view: one actor or one target newest first, a time range
        Index("ix_audit_log_actor_name", "actor_name", "id"),
        Index("ix_audit_log_target", "target_id", "id"),
        Index("ix_audit_log_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_kind: Mapped[str] = mapped_column(String(12))  # staff | cli | anonymous
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor_name: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(8))  # ok | denied
    target_type: Mapped[str | None] = mapped_column(String(16))
    target_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
