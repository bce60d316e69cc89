"""The supervisors' weekly staffing plan: agents scheduled per hour of the week."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from handoff_service.core.orm import Base, BigId, UTCDateTime


class StaffingPlanHour(Base):
    """One hour of the week (service zone) with agents scheduled; hours without a row have none."""

    __tablename__ = "staffing_plan"

    weekday: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # 0 = Monday
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # 0-23
    agents: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[int | None] = mapped_column(BigId)  # the supervisor's staff user id
