"""Writing the demo history into a database, and removing it again.

Demo rows are marked: case numbers count from 900001 per day (`C20261201-900001`, still a valid
case number, far above a real day's count), conversation ids start with `demo-`, and each case
links `{"rel": "demo"}`; demo agents are `demo-agent-1..n` with a password hash no password
matches (no one logs in as them), unless the caller hands over existing staff (the KPI benchmark's
`agent0..`). Writing refuses a database that holds other cases unless forced, and replaces an
earlier demo history. Rows go in with the driver's `executemany` in batches, one transaction per
batch of cases (with their timeline, messages and follow-up visits); the ids of a batch's cases and
visits are reserved first (PostgreSQL: from the sequence; SQLite: after the largest, the writer
holding the database lock), so no row is read back.
"""

from __future__ import annotations

import asyncio
import itertools
import operator
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, delete, func, insert, not_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from handoff_service.cases.models import Case, CaseEvent
from handoff_service.core.config import Settings
from handoff_service.core.errors import Conflict
from handoff_service.core.orm import table_of
from handoff_service.core.tiers import load_sla
from handoff_service.followups.models import FollowUpVisit
from handoff_service.messages.models import Message
from handoff_service.staff.models import ApiToken, StaffSession, StaffUser

from . import patterns
from .generator import DEMO_PREFIX, Agent, DemoCase, Options, generate

C, EV, M, V = table_of(Case), table_of(CaseEvent), table_of(Message), table_of(FollowUpVisit)
U, TOK, SES = table_of(StaffUser), table_of(ApiToken), table_of(StaffSession)
DEMO_AGENT = "demo-agent-"
NO_LOGIN = "!demo-agent: no password matches this"
IS_DEMO = and_(C.c.conversation_id.like(f"{DEMO_PREFIX}%"), C.c.number.like("C%-9_____"))

__all__ = ["DemoRefused", "count_cases", "options", "remove", "team_names", "write"]


class DemoRefused(Conflict):
    """The database holds cases that are not demo cases."""


async def count_cases(conn: AsyncConnection) -> tuple[int, int]:
    """(demo cases, other cases)."""
    demo = (await conn.execute(select(func.count()).select_from(C).where(IS_DEMO))).scalar_one()
    other = (await conn.execute(select(func.count()).select_from(C).where(not_(IS_DEMO)))).scalar_one()
    return int(demo), int(other)


def options(
    settings: Settings, *, seed: int, now: datetime, days: int, cases: int, detail: str = patterns.STANDARD
) -> Options:
    """The generator's options for the service `settings` describe (zone, SLA tiers, follow-up timing)."""
    return Options(
        seed=seed,
        now=now.astimezone(timezone.utc),
        days=days,
        cases=cases,
        zone=ZoneInfo(settings.case_number_tz),
        sla=load_sla(settings.sla_file),
        detail=detail,
        follow_up_delay=timedelta(hours=settings.follow_up_delay_hours),
        follow_up_quiet=settings.follow_up_quiet_hours,
        follow_up_answer=timedelta(hours=settings.follow_up_answer_hours),
    )


def team_names(n: int) -> list[str]:
    """The demo teams: demo-aftersales, demo-billing, demo-general, then demo-team-4, ..."""
    return [patterns.TEAMS[i] if i < len(patterns.TEAMS) else f"demo-team-{i + 1}" for i in range(n)]


async def _agents(conn: AsyncConnection, n: int, teams: int, now: Any) -> list[Agent]:
    """demo-agent-1..n in `teams` demo teams, created when missing (an existing one keeps its team)."""
    names = [f"{DEMO_AGENT}{i}" for i in range(1, n + 1)]
    team = team_names(teams)
    have = {
        r.username: r for r in await conn.execute(select(U.c.id, U.c.username, U.c.team).where(U.c.username.in_(names)))
    }
    missing = [
        {"username": name, "display_name": f"演示客服 {i} / Demo agent {i}", "role": "agent",
         "team": team[(i - 1) % len(team)], "password_hash": NO_LOGIN, "active": True,
         "created_at": now}
        for i, name in enumerate(names, start=1) if name not in have
    ]  # fmt: skip
    if missing:
        await conn.execute(insert(U), missing)
        have = {
            r.username: r
            for r in await conn.execute(select(U.c.id, U.c.username, U.c.team).where(U.c.username.in_(names)))
        }
    return [Agent(have[name].id, name, have[name].team or team[0]) for name in names]


@dataclass
class _Rows:
    """A batch of demo cases as the rows of each table; `case_id` holds the case's place in the
    batch and `visit_refs` the timeline entries naming a visit (by its place in the batch) until
    the ids are known."""

    cases: list[dict[str, Any]] = field(default_factory=list)
    visits: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    visit_refs: list[tuple[dict[str, Any], int]] = field(default_factory=list)


def _next_rows(cases: Iterator[DemoCase], size: int) -> _Rows | None:
    """The next `size` cases as rows (the generator's dicts, completed in place), None at the end."""
    rows = _Rows()
    for i, c in enumerate(itertools.islice(cases, size)):
        rows.cases.append(c.row)
        first = len(rows.visits)
        for v in c.visits:
            v["case_id"] = i
            rows.visits.append(v)
        for ev in c.events:
            ev["case_id"], ev["idempotency_key"] = i, None
            index = ev.pop("_visit", None)
            if index is not None:
                rows.visit_refs.append((ev, first + index))
            rows.events.append(ev)
        for m in c.messages:
            m["case_id"] = i
            rows.messages.append(m)
    return rows if rows.cases else None


async def _reserve_ids(conn: AsyncConnection, table: Table, n: int) -> list[int]:
    """`n` unused ids of `table` for rows this transaction inserts."""
    if not n:
        return []
    if conn.dialect.name == "postgresql":
        ids = await conn.execute(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table.name, "n": n},
        )
        return sorted(ids.scalars())
    # SQLite: the transaction began IMMEDIATE, so no other writer comes between
    first = (await conn.execute(select(func.coalesce(func.max(table.c.id), 0)))).scalar_one() + 1
    return list(range(first, first + n))


async def _insert_rows(conn: AsyncConnection, rows: _Rows) -> None:
    ids = await _reserve_ids(conn, C, len(rows.cases))
    visit_ids = await _reserve_ids(conn, V, len(rows.visits))
    for row, cid in zip(rows.cases, ids, strict=True):
        row["id"] = cid
    for v, vid in zip(rows.visits, visit_ids, strict=True):
        v["id"], v["case_id"] = vid, ids[v["case_id"]]
    for ev, k in rows.visit_refs:
        ev["details"]["visit"] = visit_ids[k]
    for each in (rows.events, rows.messages):
        for row in each:
            row["case_id"] = ids[row["case_id"]]
    for table, values in ((C, rows.cases), (V, rows.visits), (EV, rows.events), (M, rows.messages)):
        if values:
            await _bulk_insert(conn, table, values)


async def _bulk_insert(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    """`INSERT INTO table` of `rows` (each with every column), as the driver's `executemany` of the
    values made by the columns' own bind processors: the same as `conn.execute(insert(table), rows)`
    without SQLAlchemy's per-row parameter bookkeeping (≈ 15 % of the time of a bulk load)."""
    dialect = conn.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=list(rows[0]))
    names = list(compiled.positiontup or ())
    values = operator.itemgetter(*names)
    procs = []  # (position, processor, what it makes of None)
    for i, name in enumerate(names):
        if (proc := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None:
            procs.append((i, proc, proc(None)))
    params = []
    for row in rows:
        param = list(values(row))
        for i, proc, none in procs:
            param[i] = none if param[i] is None else proc(param[i])
        params.append(tuple(param))
    await conn.exec_driver_sql(str(compiled), params)


async def write(
    engine: AsyncEngine,
    opts: Options,
    *,
    agents: int | Sequence[Agent] = patterns.AGENTS,
    teams: int = len(patterns.TEAMS),
    force: bool = False,
    batch_size: int = 2000,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Writes the demo history; refuses (DemoRefused) a database with other cases unless `force`.
    An earlier demo history is removed first. `agents`: how many demo agents (in `teams` demo
    teams), or existing staff accounts to hand the cases to (at least two)."""
    if not isinstance(agents, int) and len(agents) < 2:
        raise ValueError("the demo history needs at least two agents (transfers)")
    started = time.monotonic()
    async with engine.begin() as conn:
        demo, other = await count_cases(conn)
        if other and not force:
            raise DemoRefused(
                f"the database holds {other} cases that are not demo cases; demo-data writes only into an "
                "empty (or demo) database unless --force",
                code="not_a_demo_database",
            )
        if demo:
            await _remove_in(conn)
        team = await _agents(conn, agents, teams, opts.now) if isinstance(agents, int) else list(agents)
    totals = {"cases": 0, "events": 0, "messages": 0, "visits": 0}
    cases = generate(opts, team)
    # the next batch is generated in a worker thread while this one is written (SQLite and the
    # drivers do much of their work outside the GIL)
    ahead = asyncio.ensure_future(asyncio.to_thread(_next_rows, cases, batch_size))
    try:
        while (rows := await ahead) is not None:
            ahead = asyncio.ensure_future(asyncio.to_thread(_next_rows, cases, batch_size))
            async with engine.begin() as conn:
                await _insert_rows(conn, rows)
            totals["cases"] += len(rows.cases)
            totals["events"] += len(rows.events)
            totals["messages"] += len(rows.messages)
            totals["visits"] += len(rows.visits)
            if progress:
                progress(f"{totals['cases']} cases, {totals['events']} timeline entries")
    finally:
        if not ahead.done():  # a failed write: the thread finishes its batch, which is dropped
            await asyncio.wait([ahead])
    return {
        **totals,
        "agents": [a.username for a in team],
        "replaced": demo,
        "seconds": round(time.monotonic() - started, 1),
    }


async def _append_only(conn: AsyncConnection, on: bool) -> None:
    """The timeline's append-only trigger, off for the removal of demo rows (same transaction)."""
    if conn.dialect.name == "postgresql":
        verb = "ENABLE" if on else "DISABLE"
        await conn.execute(text(f"ALTER TABLE case_events {verb} TRIGGER trg_case_events_append_only"))
    elif on:
        await conn.execute(
            text(
                "CREATE TRIGGER trg_case_events_no_delete BEFORE DELETE ON case_events "
                "BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END"
            )
        )
    else:
        await conn.execute(text("DROP TRIGGER IF EXISTS trg_case_events_no_delete"))


async def _remove_in(conn: AsyncConnection) -> dict[str, int]:
    demo_ids = select(C.c.id).where(IS_DEMO).scalar_subquery()
    await _append_only(conn, False)
    events = (await conn.execute(delete(EV).where(EV.c.case_id.in_(demo_ids)))).rowcount
    await _append_only(conn, True)
    messages = (await conn.execute(delete(M).where(M.c.case_id.in_(demo_ids)))).rowcount
    await conn.execute(delete(V).where(V.c.case_id.in_(demo_ids)))
    cases = (await conn.execute(delete(C).where(IS_DEMO))).rowcount
    # demo agents nothing else refers to
    used = or_(
        U.c.id.in_(select(C.c.owner_id).where(C.c.owner_id.is_not(None))),
        U.c.id.in_(select(C.c.handler_id).where(C.c.handler_id.is_not(None))),
        U.c.id.in_(select(C.c.csat_owner_id).where(C.c.csat_owner_id.is_not(None))),
        U.c.id.in_(select(C.c.csat_handler_id).where(C.c.csat_handler_id.is_not(None))),
        U.c.id.in_(select(M.c.author_id).where(M.c.author_id.is_not(None))),
        U.c.id.in_(select(TOK.c.user_id).where(TOK.c.user_id.is_not(None))),
        U.c.id.in_(select(SES.c.user_id)),
    )
    agents = (
        await conn.execute(
            delete(U).where(U.c.username.like(f"{DEMO_AGENT}%"), U.c.password_hash == NO_LOGIN, not_(used))
        )
    ).rowcount
    return {"cases": cases, "events": events, "messages": messages, "agents": agents}


async def remove(engine: AsyncEngine) -> dict[str, int]:
    """Removes every demo case with its timeline, messages and visits, and the unused demo agents;
    one transaction."""
    async with engine.begin() as conn:
        return await _remove_in(conn)
