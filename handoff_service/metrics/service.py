"""Keeping the rollups: `refresh_cases` rewrites the rows of some cases (after a commit that touched
them, see listeners.py), `rebuild` rewrites every row from the raw tables (`metrics-rebuild`).
Both go through facts.case_facts, so an incremental refresh and a rebuild give the same rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from handoff_service.audit import service as audit
from handoff_service.cases.models import Case, CaseEvent
from handoff_service.core.deps import Deps
from handoff_service.core.orm import table_of
from handoff_service.core.principal import Principal
from handoff_service.followups.models import FollowUpVisit
from handoff_service.messages.models import Message

from . import blocks
from .facts import Facts, case_facts
from .models import MetricBlock, MetricCase, MetricCycle, MetricStale, MetricWait

C, E, M, V = table_of(Case), table_of(CaseEvent), table_of(Message), table_of(FollowUpVisit)
MC, MY, MW = table_of(MetricCase), table_of(MetricCycle), table_of(MetricWait)
MB, MS = table_of(MetricBlock), table_of(MetricStale)
BATCH = 500
PACK_BATCH = 200  # marked days read at once

_EVENT_COLS = (E.c.case_id, E.c.at, E.c.actor_kind, E.c.action, E.c.status_to, E.c.handler_id, E.c.details)
_MESSAGE_COLS = (M.c.case_id, M.c.direction, M.c.author_id, M.c.created_at)


def _group(rows: Iterable[Any]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for r in rows:
        out.setdefault(r.case_id, []).append(r)
    return out


async def _facts(conn: AsyncConnection, cases: Sequence[Any]) -> list[Facts]:
    ids = [c.id for c in cases]
    events = _group(await conn.execute(select(*_EVENT_COLS).where(E.c.case_id.in_(ids)).order_by(E.c.id)))
    messages = _group(await conn.execute(select(*_MESSAGE_COLS).where(M.c.case_id.in_(ids)).order_by(M.c.id)))
    visits = _group(await conn.execute(select(V.c.case_id, V.c.state).where(V.c.case_id.in_(ids))))
    return [case_facts(c, events.get(c.id, []), messages.get(c.id, []), visits.get(c.id, [])) for c in cases]


async def _write(conn: AsyncConnection, ids: Sequence[int], facts: Sequence[Facts], *, mark: bool = True) -> None:
    """Rewrites the rows of these cases; `mark`: and marks the days their rows had and have (their
    packed blocks no longer match), read from the rows deleted and inserted."""
    days: set[tuple[str, int]] = set()
    for table in (MW, MY, MC):
        gone = delete(table).where(table.c.case_id.in_(ids))
        if mark:
            deleted = (await conn.execute(gone.returning(*blocks.DAY_COLUMNS[table]))).mappings().all()
            days |= blocks.days_of_rows(table, deleted)
        else:
            await conn.execute(gone)
    inserted = await _insert(conn, facts) if facts else []
    if mark:
        for table, rows in inserted:
            days |= blocks.days_of_rows(table, rows)
        await blocks.mark(conn, days)


async def _insert(conn: AsyncConnection, facts: Sequence[Facts]) -> list[tuple[Any, list[dict[str, Any]]]]:
    """Inserts the rows of these facts; returns them per table."""
    cases = [f.case for f in facts]
    await conn.execute(insert(MC), cases)
    cycles = [{"case_id": f.case["case_id"], **c} for f in facts for c in f.cycles]
    await conn.execute(insert(MY), cycles)
    waits = [{"case_id": f.case["case_id"], **w} for f in facts for w in f.waits]
    if waits:
        await conn.execute(insert(MW), waits)
    return [(MC, cases), (MY, cycles), (MW, waits)]


async def refresh_in(conn: AsyncConnection, case_ids: Iterable[int]) -> int:
    """Rewrites the rows of these cases; returns how many cases were written. The case rows are
    locked first (PostgreSQL; SQLite writers queue anyway): two refreshes of one case run one after
    the other, and the second reads what the first could not see."""
    ids = sorted(set(case_ids))
    await conn.execute(select(C.c.id).where(C.c.id.in_(ids)).order_by(C.c.id).with_for_update())
    cases = (await conn.execute(select(C).where(C.c.id.in_(ids)))).all()
    await _write(conn, [c.id for c in cases], await _facts(conn, cases))
    return len(cases)


async def refresh_cases(deps: Deps, case_ids: Iterable[int]) -> int:
    """One transaction: the rollup rows of these cases (see `refresh_in`)."""
    async with deps.tx() as conn:
        return await refresh_in(conn, case_ids)


async def rebuild(engine: AsyncEngine, *, batch: int = BATCH) -> int:
    """Every rollup row again from the raw tables, in batches of cases (one transaction each), then
    every day packed again; returns the number of cases."""
    async with engine.begin() as conn:
        for table in (MW, MY, MC, MB, MS):
            await conn.execute(delete(table))
        last = (await conn.execute(select(func.max(C.c.id)))).scalar_one() or 0
    done, after = 0, 0
    while after < last:
        async with engine.begin() as conn:
            cases = (await conn.execute(select(C).where(C.c.id > after).order_by(C.c.id).limit(batch))).all()
            if not cases:
                break
            await _write(conn, [c.id for c in cases], await _facts(conn, cases), mark=False)
        done += len(cases)
        after = cases[-1].id
    async with engine.begin() as conn:
        await blocks.mark_all(conn)
    while await blocks.pack_marked(engine.begin, limit=PACK_BATCH):
        pass
    return done


async def record_export(deps: Deps, p: Principal, table: str, filters: dict[str, Any]) -> None:
    """The audit log's entry of a metrics export: who, which table, which filters."""
    async with deps.tx() as conn:
        await audit.record(
            conn,
            at=deps.clock.now(),
            actor=p,
            action="metrics.export",
            target_type="metrics",
            target_id=table,
            details={"table": table, "filters": filters},
        )
