"""The supervisor's live board, read in one go: the queue by tier with waiting times, the staff who
work cases (console open now, and their load), the escalated deadlines with their acknowledgement,
and the outage notices in force."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.cases import service as cases
from handoff_service.cases.models import Case, CaseEvent
from handoff_service.cases.scheduled import DEADLINES
from handoff_service.cases.states import IN_PROGRESS, IN_QUEUE, QUEUED, TRANSFERRED
from handoff_service.core.deps import Deps
from handoff_service.core.orm import table_of
from handoff_service.core.principal import AGENTS
from handoff_service.outages import queries as outages
from handoff_service.staff import service as staff

from .service import ack_json
from .states import ACKNOWLEDGED, COLUMNS, ESCALATED, MAX_CARDS_PER_TIER, MAX_DEADLINES, ack_key

C = table_of(Case)
EV = table_of(CaseEvent)
OPEN_WORK = (QUEUED, IN_PROGRESS, TRANSFERRED)  # a case someone still owes work on (owner's load)
# since when a case waits: a queued case since its handoff, one transferred to a team since the transfer
# (its last change)
WAITING_SINCE = func.coalesce(
    case((C.c.status == QUEUED, C.c.handoff_requested_at), else_=C.c.updated_at), C.c.created_at
)


def _seconds(now: datetime, since: datetime | None) -> int | None:
    return None if since is None else max(0, int((now - since).total_seconds()))


async def _queue(deps: Deps, conn: AsyncConnection, now: datetime) -> dict[str, Any]:
    counts = {
        r.tier: r
        for r in await conn.execute(
            select(C.c.tier, func.count().label("n"), func.min(WAITING_SINCE).label("oldest"))
            .where(C.c.status.in_(IN_QUEUE))
            .group_by(C.c.tier)
        )
    }
    tiers = []
    for name in deps.sla.names:
        agg = counts.get(name)
        rows: list[Any] = []
        if agg is not None:
            rows = list(
                await conn.execute(
                    select(C, WAITING_SINCE.label("waiting_since"))
                    .where(C.c.status.in_(IN_QUEUE), C.c.tier == name)
                    .order_by(C.c.first_response_due, C.c.id)
                    .limit(MAX_CARDS_PER_TIER)
                )
            )
            await deps.users.load(conn, {i for r in rows for i in (r.owner_id, r.handler_id)})
        tiers.append(
            {
                "tier": name,
                "rank": deps.sla.tier(name).rank,
                "count": agg.n if agg is not None else 0,
                "oldest_waiting_since": agg.oldest.isoformat() if agg is not None and agg.oldest else None,
                "oldest_wait_seconds": _seconds(now, agg.oldest) if agg is not None else None,
                "cases": [
                    dict(
                        cases.case_card(deps, r),
                        waiting_since=r.waiting_since.isoformat(),
                        wait_seconds=_seconds(now, r.waiting_since),
                    )
                    for r in rows
                ],
            }
        )
    return {"total": sum(t["count"] for t in tiers), "tiers": tiers}


async def _staff(deps: Deps, conn: AsyncConnection) -> list[dict[str, Any]]:
    online = deps.hub.online_users()
    handling_q = select(C.c.handler_id, func.count().label("n")).where(C.c.status == IN_PROGRESS)
    owned_q = select(C.c.owner_id, func.count().label("n")).where(C.c.status.in_(OPEN_WORK))
    handling = {r.handler_id: r.n for r in await conn.execute(handling_q.group_by(C.c.handler_id))}
    owned = {r.owner_id: r.n for r in await conn.execute(owned_q.group_by(C.c.owner_id))}
    people = [u for u in await staff.list_staff(deps) if u["role"] in AGENTS]
    out = [
        {
            **u,
            "online": u["id"] in online,
            "consoles": online.get(u["id"], 0),
            "handling": handling.get(u["id"], 0),
            "owned_open": owned.get(u["id"], 0),
        }
        for u in people
    ]
    # who is there first, then the busiest
    return sorted(out, key=lambda u: (not u["online"], -u["handling"], u["username"]))


async def _deadlines(deps: Deps, conn: AsyncConnection) -> list[dict[str, Any]]:
    found = []
    for dl in DEADLINES:
        due_col, state_col = COLUMNS[dl.name]
        rows = (
            await conn.execute(
                select(C)
                .where(C.c.status.in_(dl.statuses), C.c[state_col].in_(ESCALATED), C.c[due_col].is_not(None))
                .order_by(C.c[due_col])
                .limit(MAX_DEADLINES)
            )
        ).all()
        found += [(dl.name, getattr(r, due_col), getattr(r, state_col), r) for r in rows]
    found.sort(key=lambda f: f[1])  # the most overdue first
    found = found[:MAX_DEADLINES]
    keys = {(r.id, ack_key(name, due, state)) for name, due, state, r in found}
    acks: dict[tuple[int, str], Any] = {}
    if keys:
        events = await conn.execute(
            select(EV).where(
                EV.c.action == ACKNOWLEDGED,
                EV.c.case_id.in_({k[0] for k in keys}),
                EV.c.idempotency_key.in_({k[1] for k in keys}),
            )
        )
        acks = {(e.case_id, e.idempotency_key): e for e in events}
    await deps.users.load(conn, {i for *_, r in found for i in (r.owner_id, r.handler_id)})
    out = []
    for name, due, state, r in found:
        ack = acks.get((r.id, ack_key(name, due, state)))
        out.append(
            {
                "case": cases.case_card(deps, r),
                "deadline": name,
                "due": due.isoformat(),
                "state": state,
                "acknowledgement": None if ack is None else await ack_json(deps, conn, r.number, ack),
            }
        )
    return out


async def board(deps: Deps) -> dict[str, Any]:
    now = deps.clock.now()
    async with deps.read_engine.begin() as conn:
        queue = await _queue(deps, conn, now)
        people = await _staff(deps, conn)
        deadlines = await _deadlines(deps, conn)
    return {
        "generated_at": now.isoformat(),
        "queue": queue,
        "staff": people,
        "deadlines": deadlines,
        "outages": await outages.in_force(deps, None),
    }
