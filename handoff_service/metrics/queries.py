"""Reads of the rollups for a period and filters: the rows behind every figure (`load`), the
dashboard (`dashboard`), and the staff names and teams the tables show."""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.core.deps import Deps
from handoff_service.core.orm import table_of
from handoff_service.review.models import ReviewContact, ReviewTraffic
from handoff_service.review.records import CONTACT_GAP

from . import figures
from .filters import Filters, Period
from .models import MetricCase, MetricCycle, MetricWait

MC, MY, MW = table_of(MetricCase), table_of(MetricCycle), table_of(MetricWait)
T = table_of(ReviewTraffic)
RC = table_of(ReviewContact)
# what the figures read of a case (no free text, no unused timestamps: decoding them costs)
CASE_COLUMNS = (
    MC.c.case_id,
    MC.c.category,
    MC.c.tier,
    MC.c.owner_id,
    MC.c.last_handler_id,
    MC.c.handoff_at.is_not(None).label("handed_off"),
    MC.c.claim_seconds,
    MC.c.first_response_seconds,
    MC.c.resolutions,
    MC.c.reopens,
    MC.c.sla_first_response,
    MC.c.sla_result,
    MC.c.sla_follow_up,
    MC.c.csat_overall,
    MC.c.csat_attitude,
    MC.c.csat_speed,
    MC.c.csat_solved,
    MC.c.csat_owner_id,
    MC.c.csat_handler_id,
    MC.c.visits_planned,
    MC.c.visits_solved,
    MC.c.visits_not_solved,
    MC.c.visits_no_answer,
)
S = figures.S


@dataclass
class Data:
    """The rollup rows of one period under the filters."""

    cases: list[Any] = field(default_factory=list)  # opened in the period
    resolved: list[Any] = field(default_factory=list)  # cycles ended in the period
    reopened: list[Any] = field(default_factory=list)  # cycles > 0 started in the period
    waits: list[Any] = field(default_factory=list)  # waits started in the period
    backlog: int = 0
    traffic: tuple[int, int] = (0, 0)  # customer messages, fallbacks
    contacts: tuple[int, int] | None = None  # contained, finished contacts (None: filters that contacts lack)
    memo: dict[str, Any] = field(default_factory=dict)  # figures computed once per request


async def named_rows(conn: AsyncConnection, stmt: Any) -> list[Any]:
    """The rows as named tuples: the figures read each field many times, and a named tuple's
    attribute is several times cheaper than a Row's."""
    result = await conn.execute(stmt)
    shape = namedtuple("Row", list(result.keys()))  # type: ignore[misc]  # noqa: PYI024
    return [shape._make(r) for r in result.all()]


QUARTER = 900  # seconds: time buckets are read as quarter hours of UTC (zone offsets are whole quarters)


def quarter(conn: AsyncConnection, col: Any, name: str) -> Any:
    """`col` (a UTC time) as the number of its quarter hour since 1970, computed by the database
    (decoding each time in Python would cost more than the whole figure)."""
    if conn.dialect.name == "sqlite":
        expr = cast(cast(func.strftime("%s", col), Integer) // QUARTER, Integer)
    else:
        expr = cast(func.floor(func.extract("epoch", col) / QUARTER), Integer)
    return expr.label(name)


def scoped(table: Any, conds: list[Any]) -> Any:
    """`table` joined to its case's row when filters need the case's columns (only then: the join
    costs a lookup per row)."""
    return table.join(MC, table.c.case_id == MC.c.case_id) if conds else table


def where(f: Filters) -> list[Any]:
    conds: list[Any] = []
    for name in ("channel", "language", "tier", "category"):
        value = getattr(f, name)
        if value is not None:
            conds.append(MC.c[name] == value)
    if f.owner_ids is not None:
        conds.append(MC.c.owner_id.in_(f.owner_ids))
    return conds


async def contacts(conn: AsyncConnection, f: Filters, p: Period, now: datetime) -> tuple[int, int] | None:
    """(contained, finished) customer contacts that started in the period. Finished: no message for
    CONTACT_GAP (24 h) since its last one. Contained: no case of its conversation was handed off
    from its start until CONTACT_GAP after its last message. Only channel and language filter
    contacts; the other filters (owner, tier, category) do not apply to them: None."""
    if any(getattr(f, name) is not None for name in ("agent", "team", "tier", "category")):
        return None
    q = select(RC.c.id, RC.c.last_at).where(RC.c.started_at >= p.start, RC.c.started_at < p.end)
    for name in ("channel", "language"):
        if getattr(f, name) is not None:
            q = q.where(RC.c[name] == getattr(f, name))
    finished = {r.id: r.last_at for r in await conn.execute(q) if r.last_at + CONTACT_GAP <= now}
    if not finished:
        return (0, 0)
    handed = select(RC.c.id, MC.c.handoff_at).select_from(
        RC.join(MC, (MC.c.conversation_id == RC.c.conversation_id) & (MC.c.handoff_at >= RC.c.started_at))
    )
    handed = handed.where(RC.c.started_at >= p.start, RC.c.started_at < p.end)
    not_contained = {
        r.id for r in await conn.execute(handed) if r.id in finished and r.handoff_at < finished[r.id] + CONTACT_GAP
    }
    return (len(finished) - len(not_contained), len(finished))


async def load(conn: AsyncConnection, f: Filters, p: Period, now: datetime, *, cases: bool = True) -> Data:
    """The rows of the period (`cases=False`: without the opened cases, which the cases export reads
    with their text itself)."""
    conds = where(f)
    d = Data()
    if cases:
        d.cases = await named_rows(
            conn,
            select(*CASE_COLUMNS, quarter(conn, MC.c.created_at, "created_q")).where(
                MC.c.created_at >= p.start, MC.c.created_at < p.end, *conds
            ),
        )
    joined = scoped(MY, conds)
    d.resolved = await named_rows(
        conn,
        select(MY.c.case_id, quarter(conn, MY.c.ended_at, "ended_q"), MY.c.seconds, MY.c.handler_id)
        .select_from(joined)
        .where(MY.c.ended_at >= p.start, MY.c.ended_at < p.end, *conds),
    )
    d.reopened = await named_rows(
        conn,
        select(MY.c.case_id, quarter(conn, MY.c.started_at, "started_q"))
        .select_from(joined)
        .where(MY.c.cycle > 0, MY.c.started_at >= p.start, MY.c.started_at < p.end, *conds),
    )
    d.waits = await named_rows(
        conn,
        select(MW.c.case_id, MW.c.seconds)
        .select_from(scoped(MW, conds))
        .where(MW.c.started_at >= p.start, MW.c.started_at < p.end, *conds),
    )
    d.backlog = await backlog(conn, f, p)
    d.traffic = await traffic(conn, f, p)
    d.contacts = await contacts(conn, f, p, now)
    return d


async def backlog(conn: AsyncConnection, f: Filters, p: Period) -> int:
    """Cases with a care cycle open at the end of the period."""
    conds = where(f)
    joined = scoped(MY, conds)
    # a case has at most one open cycle at a time: counting cycles counts cases. Open at the end:
    # not ended yet, or ended after it, less those that started after it too. Each count reads a
    # short range of one index (an OR, or "started before the end", would read every cycle)
    n = 0
    for sign, still_open in (
        (1, [MY.c.ended_at.is_(None), MY.c.started_at < p.end]),
        (1, [MY.c.ended_at >= p.end]),
        (-1, [MY.c.ended_at >= p.end, MY.c.started_at >= p.end]),
    ):
        q = select(func.count()).select_from(joined).where(*still_open, *conds)
        n += sign * (await conn.execute(q)).scalar_one()
    return n


async def traffic(conn: AsyncConnection, f: Filters, p: Period) -> tuple[int, int]:
    """(customer messages, fallbacks) of the review feed in the weeks overlapping the period."""
    tq = select(func.coalesce(func.sum(T.c.messages), 0), func.coalesce(func.sum(T.c.fallbacks), 0)).where(
        T.c.week.in_(figures.weeks(f, p))
    )
    if f.language is not None:
        tq = tq.where(T.c.language == f.language)
    msgs, falls = (await conn.execute(tq)).one()
    return int(msgs), int(falls)


async def staff(conn: AsyncConnection, data: list[Data]) -> dict[int, Any]:
    ids: set[int] = set()
    for d in data:
        for c in d.cases:
            ids.update(x for x in (c.owner_id, c.last_handler_id, c.csat_owner_id, c.csat_handler_id) if x)
        ids.update(y.handler_id for y in d.resolved if y.handler_id)
    if not ids:
        return {}
    rows = await conn.execute(select(S.c.id, S.c.username, S.c.display_name, S.c.team).where(S.c.id.in_(ids)))
    return {r.id: r for r in rows}


async def period_data(deps: Deps, f: Filters, *, cases: bool = True) -> tuple[Data, dict[int, Any]]:
    """The rows of the period and the staff they name."""
    async with deps.read_engine.begin() as conn:
        now = await load(conn, f, f.period, deps.clock.now(), cases=cases)
        people = await staff(conn, [now])
    return now, people
