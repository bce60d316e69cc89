"""Cases, their append-only timeline and the per-day numbering counter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from handoff_service.core.orm import Base, BigId, UTCDateTime


class CaseCounter(Base):
    """Last case number handed out per service day (row-locked by the upsert)."""

    __tablename__ = "case_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_queue", "status", "tier_rank", "first_response_due"),
        Index("ix_cases_conversation", "conversation_id"),
        # the bot's key for "open a case" retries: one case per key
        Index("uq_cases_idempotency_key", "idempotency_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    tier: Mapped[str] = mapped_column(String(32))
    tier_rank: Mapped[int] = mapped_column(SmallInteger)
    description: Mapped[str] = mapped_column(Text)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    handler_team: Mapped[str | None] = mapped_column(String(64))
    links: Mapped[list[Any]] = mapped_column(JSON)
    outage_notice: Mapped[str | None] = mapped_column(String(64))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handoff_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SLA deadlines and their state: pending | warning | breached | met
    first_response_due: Mapped[datetime] = mapped_column(UTCDateTime)
    result_due: Mapped[datetime] = mapped_column(UTCDateTime)
    follow_up_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_first_response: Mapped[str] = mapped_column(String(10))
    sla_result: Mapped[str] = mapped_column(String(10))
    sla_follow_up: Mapped[str] = mapped_column(String(10))
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    follow_up_solved: Mapped[bool | None] = mapped_column(Boolean)
    # CSAT (Likert 1-5), credited to the owner and the last handler
    csat_overall: Mapped[int | None] = mapped_column(SmallInteger)
    csat_attitude: Mapped[int | None] = mapped_column(SmallInteger)
    csat_speed: Mapped[int | None] = mapped_column(SmallInteger)
    csat_solved: Mapped[int | None] = mapped_column(SmallInteger)
    csat_comment: Mapped[str | None] = mapped_column(Text)
    csat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    csat_owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    csat_handler_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))


class CaseEvent(Base):
    """Append-only case timeline (UPDATE/DELETE are refused by a trigger)."""

    __tablename__ = "case_events"
    __table_args__ = (
        Index("ix_case_events_case", "case_id", "id"),
        # a bot step retried with the same key is stored once per case
        Index("uq_case_events_case_key", "case_id", "idempotency_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_kind: Mapped[str] = mapped_column(String(8))  # bot | agent | system
    actor_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    status_from: Mapped[str | None] = mapped_column(String(16))
    status_to: Mapped[str | None] = mapped_column(String(16))
    owner_id: Mapped[int | None] = mapped_column(BigId)
    handler_id: Mapped[int | None] = mapped_column(BigId)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
