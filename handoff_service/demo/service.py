"""Writing the demo history into a database, and removing it again.

Demo rows are marked: case numbers count from 900001 per day (`C20261201-900001`, still a valid
case number, far above a real day's count), conversation ids start with `demo-`, and each case
links `{"rel": "demo"}`; demo agents are `demo-agent-1..n` with a password hash no password
matches (no one logs in as them). Writing refuses a database that holds other cases unless
forced, and replaces an earlier demo history. Rows go in with SQLAlchemy Core in batches, one
transaction per batch of cases (with their timeline, messages and follow-up visits).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import and_, delete, func, insert, not_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from handoff_service.cases.models import Case, CaseEvent
from handoff_service.core.errors import Conflict
from handoff_service.core.orm import table_of
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

__all__ = ["DemoRefused", "count_cases", "remove", "write"]


class DemoRefused(Conflict):
    """The database holds cases that are not demo cases."""


async def count_cases(conn: AsyncConnection) -> tuple[int, int]:
    """(demo cases, other cases)."""
    demo = (await conn.execute(select(func.count()).select_from(C).where(IS_DEMO))).scalar_one()
    other = (await conn.execute(select(func.count()).select_from(C).where(not_(IS_DEMO)))).scalar_one()
    return int(demo), int(other)


async def _agents(conn: AsyncConnection, n: int, now: Any) -> list[Agent]:
    """demo-agent-1..n in the demo teams, created when missing (an existing one keeps its team)."""
    names = [f"{DEMO_AGENT}{i}" for i in range(1, n + 1)]
    have = {
        r.username: r for r in await conn.execute(select(U.c.id, U.c.username, U.c.team).where(U.c.username.in_(names)))
    }
    missing = [
        {"username": name, "display_name": f"演示客服 {i} / Demo agent {i}", "role": "agent",
         "team": patterns.TEAMS[(i - 1) % len(patterns.TEAMS)], "password_hash": NO_LOGIN, "active": True,
         "created_at": now}
        for i, name in enumerate(names, start=1) if name not in have
    ]  # fmt: skip
    if missing:
        await conn.execute(insert(U), missing)
        have = {
            r.username: r
            for r in await conn.execute(select(U.c.id, U.c.username, U.c.team).where(U.c.username.in_(names)))
        }
    return [Agent(have[name].id, name, have[name].team or patterns.TEAMS[0]) for name in names]


def _batches(cases: Iterable[DemoCase], size: int) -> Iterator[list[DemoCase]]:
    batch: list[DemoCase] = []
    for c in cases:
        batch.append(c)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _insert_batch(conn: AsyncConnection, batch: list[DemoCase]) -> tuple[int, int]:
    ids = (
        (await conn.execute(insert(C).returning(C.c.id, sort_by_parameter_order=True), [c.row for c in batch]))
        .scalars()
        .all()
    )
    visits = [{**v, "case_id": cid} for c, cid in zip(batch, ids, strict=True) for v in c.visits]
    visit_ids: list[int] = []
    if visits:
        visit_ids = list(
            (await conn.execute(insert(V).returning(V.c.id, sort_by_parameter_order=True), visits)).scalars().all()
        )
    events: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    k = 0
    for c, cid in zip(batch, ids, strict=True):
        first_visit = k
        k += len(c.visits)
        for ev in c.events:
            row = {**ev, "case_id": cid, "idempotency_key": None}
            index = row.pop("_visit", None)
            if index is not None:
                row["details"] = {**ev["details"], "visit": visit_ids[first_visit + index]}
            events.append(row)
        messages.extend({**m, "case_id": cid} for m in c.messages)
    if events:
        await conn.execute(insert(EV), events)
    if messages:
        await conn.execute(insert(M), messages)
    return len(events), len(messages)


async def write(
    engine: AsyncEngine,
    opts: Options,
    *,
    agents: int = patterns.AGENTS,
    force: bool = False,
    batch_size: int = 2000,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Writes the demo history; refuses (DemoRefused) a database with other cases unless `force`.
    An earlier demo history is removed first."""
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
        team = await _agents(conn, agents, opts.now)
    totals = {"cases": 0, "events": 0, "messages": 0}
    for batch in _batches(generate(opts, team), batch_size):
        async with engine.begin() as conn:
            n_ev, n_msg = await _insert_batch(conn, batch)
        totals["cases"] += len(batch)
        totals["events"] += n_ev
        totals["messages"] += n_msg
        if progress:
            progress(f"{totals['cases']} cases, {totals['events']} timeline entries")
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
