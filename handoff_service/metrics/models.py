"""Rollups of the KPI dashboard, derived only from raw tables (cases, case_events, messages,
follow_up_visits): one row per case, per care cycle and per customer wait; and the same rows packed
per kind and day for fast reading (blocks.py). `service.refresh_cases` rewrites a case's rows
after each commit that touches it; `service.rebuild` rewrites them all."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Index, Integer, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff_service.core.orm import Base, BigId, UTCDateTime


class MetricCase(Base):
    """One row per case: its dimensions and its per-case figures (attributed to `created_at`)."""

    __tablename__ = "metric_cases"
    __table_args__ = (
        Index("ix_metric_cases_created", "created_at"),
        Index("ix_metric_cases_owner", "owner_id", "created_at"),
        Index("ix_metric_cases_conversation", "conversation_id", "created_at"),
    )

    case_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    number: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    tier: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int | None] = mapped_column(BigId)
    last_handler_id: Mapped[int | None] = mapped_column(BigId)
    handoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_seconds: Mapped[float | None] = mapped_column(Float)
    first_response_seconds: Mapped[float | None] = mapped_column(Float)
    bot_resolved: Mapped[bool] = mapped_column(Boolean)  # resolved by the bot, never handed off
    resolutions: Mapped[int] = mapped_column(Integer)
    reopens: Mapped[int] = mapped_column(Integer)
    # decided SLA outcomes: "met" | "breached" | None (not decided yet)
    sla_first_response: Mapped[str | None] = mapped_column(String(10))
    sla_result: Mapped[str | None] = mapped_column(String(10))
    sla_follow_up: Mapped[str | None] = mapped_column(String(10))
    csat_overall: Mapped[int | None] = mapped_column(SmallInteger)
    csat_attitude: Mapped[int | None] = mapped_column(SmallInteger)
    csat_speed: Mapped[int | None] = mapped_column(SmallInteger)
    csat_solved: Mapped[int | None] = mapped_column(SmallInteger)
    csat_owner_id: Mapped[int | None] = mapped_column(BigId)
    csat_handler_id: Mapped[int | None] = mapped_column(BigId)
    visits_planned: Mapped[int] = mapped_column(Integer)  # follow-up visits not cancelled
    visits_solved: Mapped[int] = mapped_column(Integer)
    visits_not_solved: Mapped[int] = mapped_column(Integer)
    visits_no_answer: Mapped[int] = mapped_column(Integer)


class MetricCycle(Base):
    """One row per care cycle: cycle 0 starts when the case is opened, each reopen starts the next."""

    __tablename__ = "metric_cycles"
    __table_args__ = (
        Index("ix_metric_cycles_ended", "ended_at"),
        Index("ix_metric_cycles_started", "started_at"),
    )

    case_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    cycle: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # its resolution
    seconds: Mapped[float | None] = mapped_column(Float)
    handler_id: Mapped[int | None] = mapped_column(BigId)  # who resolved it (None: the bot)
    by_follow_up: Mapped[bool] = mapped_column(Boolean)  # started by a "not solved" follow-up answer


class MetricWait(Base):
    """One row per customer wait: a customer message relayed while an agent handles the case (after
    the first agent reply) until the next agent reply."""

    __tablename__ = "metric_waits"
    __table_args__ = (Index("ix_metric_waits_started", "started_at"),)

    case_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seconds: Mapped[float | None] = mapped_column(Float)
    handler_id: Mapped[int | None] = mapped_column(BigId)  # the agent who answered


class MetricBlock(Base):
    """The rollup rows of one kind (columns.KINDS) whose time falls on one UTC day, packed
    (columns.pack): what the dashboard reads. Written by blocks.pack_day from the rollup rows."""

    __tablename__ = "metric_blocks"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # days since 1970-01-01
    rows: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class MetricStale(Base):
    """A day of one kind whose rollup rows changed since its block was packed: read from the rows
    until it is packed again. `seq` counts the changes since it was marked."""

    __tablename__ = "metric_stale"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
