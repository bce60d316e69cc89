"""Conversation messages of a case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from handoff_service.core.orm import Base, BigId, UTCDateTime


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    conversation_id: Mapped[str] = mapped_column(String(128))
    direction: Mapped[str] = mapped_column(String(10))  # customer | agent
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    text: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
