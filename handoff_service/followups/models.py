"""Follow-up visits: one row per care cycle of a resolved case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from handoff_service.core.orm import Base, BigId, UTCDateTime


class FollowUpVisit(Base):
    __tablename__ = "follow_up_visits"
    __table_args__ = (
        UniqueConstraint("case_id", "cycle", name="uq_follow_up_visits_cycle"),
        Index("ix_follow_up_visits_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    cycle: Mapped[int] = mapped_column(Integer)  # the case's reopen_count when it was resolved
    state: Mapped[str] = mapped_column(String(12))  # states.STATES
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # when the scheduler looks at it next: its time, a lease while it is being sent, the end of the
    # wait for an answer; None once on the call list or final
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # times asked in the chat
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_channel: Mapped[str | None] = mapped_column(String(8))  # states.CHANNELS
    answered_by: Mapped[int | None] = mapped_column(BigId)  # the agent who recorded a call
    rating: Mapped[int | None] = mapped_column(Integer)  # 1-5, when the survey had not been answered
    comment: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
