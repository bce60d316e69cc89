"""Reads of the cases feature: a case, the waiting queue, lists and the timeline."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.core.deps import Deps
from handoff_service.core.errors import Forbidden, NotFound
from handoff_service.core.principal import Principal
from handoff_service.staff import service as staff

from . import policy
from ._store import CARD_COLS, EV, C, case_card, case_json, iso, load, load_by_number, load_names
from .states import IN_QUEUE, QUEUED


async def load_readable(conn: AsyncConnection, p: Principal, case_id: int) -> Any:
    """The case's row if `p` may read it (cases.policy.may_read), else 403 `not_case_reader`."""
    row = await load(conn, case_id)
    if p.is_supervisor or policy.may_read(p, row, await staff.teams_of(conn, {row.owner_id, row.handler_id})):
        return row
    raise Forbidden(
        f"case {case_id} is not in the queue, your team or your cases; ask a supervisor", code="not_case_reader"
    )


async def get_case(deps: Deps, case_id: int, viewer: Principal) -> dict[str, Any]:
    async with deps.read_engine.begin() as conn:
        row = await load_readable(conn, viewer, case_id)
        await load_names(deps, conn, [row])
    return case_json(deps, row, viewer)


@dataclass(frozen=True)
class RatedCase:
    id: int
    number: str
    conversation_id: str
    created_at: datetime
    csat_at: datetime
    position: str  # where a reader of low ratings goes on from (rated_at_most's `after`)


async def rated_at_most(deps: Deps, score: int, *, after: str | None, limit: int) -> list[RatedCase]:
    """Cases whose satisfaction rating is at most `score`, in the order they were rated, after the
    `position` of the last one read (None: from the first)."""
    query = select(C.c.id, C.c.number, C.c.conversation_id, C.c.created_at, C.c.csat_at).where(
        C.c.csat_overall <= score, C.c.csat_at.is_not(None)
    )
    if after:
        at_text, _, id_text = after.partition("|")
        at, case_id = datetime.fromisoformat(at_text), int(id_text)
        query = query.where(or_(C.c.csat_at > at, and_(C.c.csat_at == at, C.c.id > case_id)))
    async with deps.read_engine.begin() as conn:
        rows = (await conn.execute(query.order_by(C.c.csat_at, C.c.id).limit(limit))).all()
    return [
        RatedCase(r.id, r.number, r.conversation_id, r.created_at, r.csat_at, f"{r.csat_at.isoformat()}|{r.id}")
        for r in rows
    ]


async def readable_of_conversation(conn: AsyncConnection, p: Principal, conversation_id: str) -> list[dict[str, Any]]:
    """The cases a conversation opened that `p` may read: {id, number}, newest first."""
    rows = (
        await conn.execute(select(C).where(C.c.conversation_id == conversation_id).order_by(C.c.id.desc()).limit(20))
    ).all()
    readable = []
    for r in rows:
        if p.is_supervisor or policy.may_read(p, r, await staff.teams_of(conn, {r.owner_id, r.handler_id})):
            readable.append({"id": r.id, "number": r.number})
    return readable


async def get_case_by_number(deps: Deps, number: str, *, conversation_id: str | None = None) -> dict[str, Any]:
    """The case; with `conversation_id`, only if that conversation opened it: another conversation's case
    is 404 `case_not_found`, the same answer as for a number that does not exist (nothing leaks)."""
    async with deps.read_engine.begin() as conn:
        row = await load_by_number(conn, number)
        if conversation_id is not None and not hmac.compare_digest(
            row.conversation_id.encode(), conversation_id.encode()
        ):
            raise NotFound(f"case {number} does not exist", code="case_not_found")
        await load_names(deps, conn, [row])
    return case_json(deps, row)


async def queue(deps: Deps, p: Principal, *, team: str | None, limit: int) -> list[dict[str, Any]]:
    """Waiting cases ordered by tier, then first-response deadline."""
    q = select(*CARD_COLS).where(C.c.status.in_(IN_QUEUE))
    if not p.is_supervisor:
        # agents see the open queue plus what was transferred to their team
        q = q.where((C.c.status == QUEUED) | (C.c.handler_team == (p.team or "")))
    if team is not None:
        q = q.where(C.c.handler_team == team)
    q = q.order_by(C.c.tier_rank, C.c.first_response_due, C.c.id).limit(limit)
    async with deps.read_engine.begin() as conn:
        rows = (await conn.execute(q)).all()
        await load_names(deps, conn, rows)
    return [dict(case_card(deps, r), position=i + 1) for i, r in enumerate(rows)]


async def list_cases(
    deps: Deps, p: Principal, *, status: str | None, mine: bool, limit: int, offset: int
) -> list[dict[str, Any]]:
    q = select(*CARD_COLS)
    if status is not None:
        q = q.where(C.c.status == status)
    if mine:
        q = q.where((C.c.owner_id == p.user_id) | (C.c.handler_id == p.user_id))
    elif not p.is_supervisor:  # what policy.may_read lets an agent read
        readable = (C.c.status == QUEUED) | (C.c.owner_id == p.user_id) | (C.c.handler_id == p.user_id)
        if p.team is not None:
            members = staff.team_members(p.team)
            readable |= (C.c.handler_team == p.team) | C.c.owner_id.in_(members) | C.c.handler_id.in_(members)
        q = q.where(readable)
    q = q.order_by(C.c.id.desc()).limit(limit).offset(offset)
    async with deps.read_engine.begin() as conn:
        rows = (await conn.execute(q)).all()
        await load_names(deps, conn, rows)
    return [case_card(deps, r) for r in rows]


async def timeline(deps: Deps, p: Principal, case_id: int) -> list[dict[str, Any]]:
    async with deps.read_engine.begin() as conn:
        await load_readable(conn, p, case_id)
        rows = (await conn.execute(select(EV).where(EV.c.case_id == case_id).order_by(EV.c.id))).all()
        await load_names(deps, conn, rows)
    return [
        {
            "id": r.id,
            "at": iso(r.at),
            "actor_kind": r.actor_kind,
            "actor_id": r.actor_id,
            "action": r.action,
            "status_from": r.status_from,
            "status_to": r.status_to,
            "owner": deps.users.get(r.owner_id),
            "handler": deps.users.get(r.handler_id),
            "details": r.details,
        }
        for r in rows
    ]
