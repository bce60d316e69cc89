"""Reads of the staffing forecast: the handoffs and handled cases of a window, and the plan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.cases.models import Case
from handoff_service.cases.states import CLOSED, RESOLVED
from handoff_service.core.orm import table_of

from .models import StaffingPlanHour

C = table_of(Case)
P = table_of(StaffingPlanHour)
_FROM = bindparam("start", type_=C.c.created_at.type)
_TO = bindparam("end", type_=C.c.created_at.type)

# a handoff = a case whose handoff was requested in the window (a case sent back to the queue by a
# follow-up counts at its latest request)
HANDOFFS = select(C.c.handoff_requested_at, C.c.tier).where(
    C.c.handoff_requested_at.is_not(None), C.c.handoff_requested_at >= _FROM, C.c.handoff_requested_at < _TO
)
# handled: accepted in the window and resolved in its first care cycle
HANDLED = select(C.c.tier, C.c.first_response_at, C.c.resolved_at).where(
    C.c.first_response_at >= _FROM,
    C.c.first_response_at < _TO,
    C.c.resolved_at.is_not(None),
    C.c.reopen_count == 0,
    C.c.status.in_((RESOLVED, CLOSED)),
)
PLAN = select(P.c.weekday, P.c.hour, P.c.agents, P.c.updated_at, P.c.updated_by).order_by(P.c.weekday, P.c.hour)


async def handoffs(conn: AsyncConnection, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    rows = await conn.execute(HANDOFFS, {"start": start, "end": end})
    return [(r.handoff_requested_at, r.tier) for r in rows]


async def handle_samples(conn: AsyncConnection, start: datetime, end: datetime) -> list[tuple[str, float]]:
    rows = await conn.execute(HANDLED, {"start": start, "end": end})
    return [(r.tier, (r.resolved_at - r.first_response_at).total_seconds()) for r in rows]


async def plan_rows(conn: AsyncConnection) -> list[Any]:
    return list((await conn.execute(PLAN)).all())
