"""Reads of the staffing forecast: the handoffs and handled cases of a window, and the plan."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Float, String, bindparam, case, func, select
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
HANDLED = (
    C.c.first_response_at >= _FROM,
    C.c.first_response_at < _TO,
    C.c.resolved_at.is_not(None),
    C.c.reopen_count == 0,
    C.c.status.in_((RESOLVED, CLOSED)),
)
PLAN = select(P.c.weekday, P.c.hour, P.c.agents, P.c.updated_at, P.c.updated_by).order_by(P.c.weekday, P.c.hour)


async def handoffs(conn: AsyncConnection, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """Each handoff of the window (time, tier)."""
    rows = await conn.execute(HANDOFFS, {"start": start, "end": end})
    return [(r.handoff_requested_at, r.tier) for r in rows]


def _utc_hour(conn: AsyncConnection, col: Any) -> Any:
    """The UTC hour of a time column as text 'YYYY-MM-DD HH' (SQLite stores UTC text)."""
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", col), "YYYY-MM-DD HH24")
    return func.substr(col, 1, 13, type_=String)


async def handoffs_per_hour(conn: AsyncConnection, start: datetime, end: datetime) -> list[tuple[datetime, str, int]]:
    """Handoffs of the window counted per UTC hour and tier (start of the hour, tier, count): a few
    hundred rows however many cases, for a service zone whose offset is whole hours."""
    hour = _utc_hour(conn, C.c.handoff_requested_at).label("hour")
    q = (
        select(hour, C.c.tier, func.count().label("n"))
        .where(C.c.handoff_requested_at >= _FROM, C.c.handoff_requested_at < _TO)
        .group_by(hour, C.c.tier)
    )
    rows = await conn.execute(q, {"start": start, "end": end})
    return [(datetime.strptime(r.hour, "%Y-%m-%d %H").replace(tzinfo=timezone.utc), r.tier, r.n) for r in rows]


def _seconds_between(conn: AsyncConnection, a: Any, b: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return func.extract("epoch", b - a)
    return (func.julianday(b, type_=Float) - func.julianday(a, type_=Float)) * 86400.0


async def handle_stats(
    conn: AsyncConnection, start: datetime, end: datetime, cap: float
) -> dict[str, tuple[float, int, int]]:
    """Per tier: (sum of the handle times up to `cap` seconds, how many, how many left out)."""
    d = _seconds_between(conn, C.c.first_response_at, C.c.resolved_at)
    kept = (d >= 0) & (d <= cap)
    q = (
        select(
            C.c.tier,
            func.sum(case((kept, d), else_=0.0)).label("total"),
            func.sum(case((kept, 1), else_=0)).label("kept"),
            func.count().label("n"),
        )
        .where(*HANDLED)
        .group_by(C.c.tier)
    )
    rows = await conn.execute(q, {"start": start, "end": end})
    return {r.tier: (float(r.total or 0.0), int(r.kept or 0), int(r.n) - int(r.kept or 0)) for r in rows}


async def plan_rows(conn: AsyncConnection) -> list[Any]:
    return list((await conn.execute(PLAN)).all())
