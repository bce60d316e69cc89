"""Reads of the rollups for a period and filters: the rows behind every figure (`load`), the
dashboard (`dashboard`), and the staff names and teams the tables show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.core.deps import Deps
from handoff_service.core.orm import table_of
from handoff_service.review.models import ReviewContact, ReviewTraffic
from handoff_service.review.records import CONTACT_GAP

from . import blocks, columns, figures
from .columns import Table
from .filters import Filters, Period
from .models import MetricCase, MetricCycle, MetricWait

MC, MY, MW = table_of(MetricCase), table_of(MetricCycle), table_of(MetricWait)
T = table_of(ReviewTraffic)
RC = table_of(ReviewContact)
S = figures.S


@dataclass
class Data:
    """The rollup rows of one period under the filters, column by column (columns.Table)."""

    cases: Table = field(default_factory=lambda: columns.empty("cases"))  # opened in the period
    resolved: Table = field(default_factory=lambda: columns.empty("resolved"))  # cycles ended in it
    reopened: Table = field(default_factory=lambda: columns.empty("reopened"))  # cycles > 0 started in it
    waits: Table = field(default_factory=lambda: columns.empty("waits"))  # waits started in it
    backlog: int = 0
    traffic: tuple[int, int] = (0, 0)  # customer messages, fallbacks
    contacts: tuple[int, int] | None = None  # contained, finished contacts (None: filters that contacts lack)
    memo: dict[str, Any] = field(default_factory=dict)  # figures computed once per request


def span(p: Period) -> tuple[int, int]:
    """The period as quarter hours since 1970 (UTC), the `q` of the columnar rows."""
    return int(p.start.timestamp()) // columns.QUARTER, int(p.end.timestamp()) // columns.QUARTER


def matching(t: Table, f: Filters) -> Table:
    """The rows of `t` under the filters (every kind carries its case's dimensions)."""
    tests = [(n, v) for n in ("channel", "language", "tier", "category") if (v := getattr(f, n)) is not None]
    if not tests and f.owner_ids is None:
        return t
    keep = np.ones(len(t), bool)
    for name, value in tests:
        keep &= t[name] == t.code(name, value)
    if f.owner_ids is not None:
        keep &= np.isin(t["owner_id"], np.array(f.owner_ids, np.int64))
    return t.where(keep)


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


async def load(conn: AsyncConnection, f: Filters, p: Period, now: datetime) -> Data:
    """The rows of the period under the filters, and its backlog, traffic and contacts."""
    start, end = span(p)
    d = Data()
    d.cases, d.resolved, d.reopened, d.waits = [
        matching(await blocks.read(conn, kind, start, end), f) for kind in ("cases", "resolved", "reopened", "waits")
    ]
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
    """The staff the rows of these periods name, by id."""
    ids: set[int] = set()
    for d in data:
        for name in ("owner_id", "last_handler_id", "csat_owner_id", "csat_handler_id"):
            ids.update(np.unique(d.cases[name]).tolist())
        ids.update(np.unique(d.resolved["handler_id"]).tolist())
    ids.discard(0)  # none (columns.ID)
    return await staff_named(conn, ids)


async def staff_named(conn: AsyncConnection, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    rows = await conn.execute(select(S.c.id, S.c.username, S.c.display_name, S.c.team).where(S.c.id.in_(ids)))
    return {r.id: r for r in rows}


async def period_data(deps: Deps, f: Filters) -> tuple[Data, dict[int, Any]]:
    """The rows of the period and the staff they name."""
    async with deps.read_engine.begin() as conn:
        now = await load(conn, f, f.period, deps.clock.now())
        people = await staff(conn, [now])
    return now, people
