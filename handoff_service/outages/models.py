"""Outage notices, their append-only updates (UPDATE/DELETE refused by a trigger, migration 0006)
and their links to cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from handoff_service.core.orm import Base, BigId, UTCDateTime


class OutageNotice(Base):
    __tablename__ = "outage_notices"
    __table_args__ = (Index("ix_outage_notices_status", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    topics: Mapped[list[str]] = mapped_column(JSON)  # states.TOPICS
    status: Mapped[str] = mapped_column(String(16))  # states.STATUSES, the latest update's
    expected_recovery_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the short review kept with a resolved notice
    review_cause: Mapped[str | None] = mapped_column(Text)
    review_fix: Mapped[str | None] = mapped_column(Text)
    review_prevention: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)


class OutageUpdate(Base):
    """One step of a notice (the publication is the first): append-only, with its time and author."""

    __tablename__ = "outage_updates"
    __table_args__ = (Index("ix_outage_updates_notice", "notice_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("outage_notices.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    status: Mapped[str] = mapped_column(String(16))
    message_zh: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    expected_recovery_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the customers (conversations) sent this update, queued in its transaction
    notified: Mapped[int] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)  # what changed: {field: {from, to}}


class OutageLink(Base):
    """A case linked to a notice: its customer reported the outage and hears of its progress."""

    __tablename__ = "outage_links"
    __table_args__ = (
        UniqueConstraint("notice_id", "case_id", name="uq_outage_links_notice_case"),
        Index("ix_outage_links_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("outage_notices.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    conversation_id: Mapped[str] = mapped_column(String(128))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    linked_by: Mapped[str] = mapped_column(String(64))  # "bot" or a staff username
