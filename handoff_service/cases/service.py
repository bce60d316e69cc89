"""Case use cases of staff (accept, claim, transfer, resolve, reopen, close, follow-up,
notes, tier) and what other features may use of this one: one transaction each, status
changes through the state machine, who may act decided by `policy`, every change appended
to the timeline and the audit log, side effects announced as events after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, update
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.audit import service as audit
from handoff_service.core.bus import record
from handoff_service.core.deps import Deps
from handoff_service.core.errors import Conflict, Forbidden, NotFound
from handoff_service.core.principal import STAFF, Principal
from handoff_service.delivery import service as delivery
from handoff_service.delivery.states import END_HANDOFF, RESUME_HANDOFF
from handoff_service.sla import service as sla
from handoff_service.sla.states import BREACHED, MET, PENDING
from handoff_service.staff import service as staff

from . import policy
from ._store import (
    C,
    append_event,
    case_card,
    case_json,
    changed,
    load,
    load_by_number,
    load_names,
    transition,
    update_case,
)
from .events import NoteAdded
from .states import CLOSED, IN_PROGRESS, IN_QUEUE, QUEUED, RESOLVED, TRANSFERRED, next_status

# the use cases, those other features run inside their own transaction (`_in`), and for other
# features: a case's row by id or number (inside their transaction), its card, its view
__all__ = ["accept", "add_note", "change_tier", "claim", "close", "reopen", "resolve", "transfer", "follow_up_in"]
__all__ += ["resolve_in", "require_participant", "append_event", "case_card", "case_view", "load", "load_by_number"]

_WHO = {
    "reopen": "owner, last handler or a supervisor",
    "follow_up": "owner, last handler or a supervisor",
}


def require_participant(p: Principal, row: Any, action: str) -> None:
    if not policy.may(p, row, action):
        who = _WHO.get(action, "handler, owner or a supervisor")
        raise Forbidden(f"only the case's {who} may do this", code="not_case_participant")


_NOW = bindparam("now", type_=C.c.updated_at.type)
# the one conditional UPDATE that decides ownership
ACCEPT = (
    update(C)
    .where(C.c.id == bindparam("case_id"), C.c.owner_id.is_(None), C.c.status == QUEUED)
    .values(
        owner_id=bindparam("agent"),
        handler_id=bindparam("agent"),
        handler_team=None,
        status=IN_PROGRESS,
        first_response_at=_NOW,
        version=C.c.version + 1,
        updated_at=_NOW,
        sla_first_response=case(
            ((C.c.sla_first_response == BREACHED) | (C.c.first_response_due < _NOW), BREACHED),
            else_=MET,
        ),
    )
    .returning(*C.c)
)


async def accept(deps: Deps, p: Principal, case_id: int) -> dict[str, Any]:
    """First accept wins: a single conditional UPDATE decides the owner."""
    now = deps.clock.now()
    async with deps.tx() as conn:
        res = await conn.execute(ACCEPT, {"case_id": case_id, "agent": p.user_id, "now": now})
        row = res.first()
        if row is None:
            current = await load(conn, case_id)
            if current.owner_id is not None:
                await deps.users.load(conn, {current.owner_id})
                owner = deps.users.username(current.owner_id)
                raise Conflict(
                    f"case {current.number} is already taken by {owner}",
                    code="case_already_taken",
                    owner=owner,
                    case=case_card(deps, current),  # the loser leaves the case's readers: what it became
                )
            next_status(current.status, "accept")  # raises the 409 that explains why
            raise Conflict(f"case {current.number} cannot be accepted now", code="invalid_transition")
        await append_event(
            conn,
            row,
            at=now,
            actor_kind=p.actor_kind,
            actor_id=p.username,
            action="accept",
            status_from=QUEUED,
            details={"owner": p.username},
        )
        await audit.record_case_action(conn, at=now, actor=p, action="accept", case_number=row.number)
        await load_names(deps, conn, [row])
        changed(conn, deps, row, queue=True)
    return case_json(deps, row, p)


async def claim(deps: Deps, p: Principal, case_id: int) -> dict[str, Any]:
    """A member of the team a case was transferred to picks it up."""
    now = deps.clock.now()
    async with deps.tx() as conn:
        old = await load(conn, case_id)
        next_status(old.status, "claim")
        if not policy.may(p, old, "claim"):
            raise Forbidden(f"case {old.number} was transferred to team {old.handler_team}", code="not_in_team")
        row = await transition(
            conn,
            old,
            "claim",
            now,
            p,
            details={"team": old.handler_team, "handler": p.username},
            handler_id=p.user_id,
        )
        await load_names(deps, conn, [row])
        changed(conn, deps, row, queue=True)
    return case_json(deps, row, p)


async def transfer(deps: Deps, p: Principal, case_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Changes the current handler (an agent or a team); the owner stays."""
    now = deps.clock.now()
    note = data.get("note")
    async with deps.tx() as conn:
        old = await load(conn, case_id)
        await load_names(deps, conn, [old])
        to_agent = data.get("to_agent")
        if to_agent is not None:
            next_status(old.status, "transfer_agent")
            require_participant(p, old, "transfer")
            target = await staff.active_agent(conn, to_agent)
            if target is None:
                raise NotFound(f"no active agent {to_agent!r}", code="unknown_agent")
            if target == old.handler_id:
                raise Conflict(f"{to_agent} already handles case {old.number}", code="already_handler")
            row = await transition(
                conn,
                old,
                "transfer_agent",
                now,
                p,
                event_action="transfer",
                details={"to_agent": to_agent, "from_handler": deps.users.username(old.handler_id), "note": note},
                handler_id=target,
                handler_team=None,
            )
        else:
            to_team = data["to_team"]
            next_status(old.status, "transfer_team")
            require_participant(p, old, "transfer")
            if not await staff.team_exists(conn, to_team):
                raise NotFound(f"no team {to_team!r}", code="unknown_team")
            row = await transition(
                conn,
                old,
                "transfer_team",
                now,
                p,
                event_action="transfer",
                details={"to_team": to_team, "note": note},
                handler_id=None,
                handler_team=to_team,
            )
        await load_names(deps, conn, [old, row])
        taken_from = old.handler_id if old.handler_id and old.handler_id != row.handler_id else None
        changed(conn, deps, row, queue=row.status == TRANSFERRED, previous_handler_id=taken_from)
    return case_json(deps, row, p)


async def resolve(deps: Deps, p: Principal, case_id: int, result: str) -> dict[str, Any]:
    now = deps.clock.now()
    async with deps.tx() as conn:
        row = await resolve_in(conn, deps, p, await load(conn, case_id), result, now)
    return case_json(deps, row, p)


async def resolve_in(conn: AsyncConnection, deps: Deps, p: Principal, old: Any, result: str, now: datetime) -> Any:
    """`resolve` inside the caller's transaction (e.g. the cases linked to an outage, together);
    returns the resolved row."""
    next_status(old.status, "resolve")
    if not policy.may(p, old, "resolve"):
        raise Forbidden(f"only the current handler of case {old.number} may resolve it", code="not_case_handler")
    row = await transition(
        conn,
        old,
        "resolve",
        now,
        p,
        details={"result": result},
        result=result,
        resolved_at=now,
        follow_up_due=sla.follow_up_due(deps.sla.tier(old.tier), now),
        sla_result=sla.done_state(old.sla_result, now, old.result_due),
        sla_follow_up=PENDING,
    )
    await delivery.queue_delivery(
        conn, deps.settings, case=row, kind=END_HANDOFF, steps=delivery.end_handoff_steps(row.number), now=now
    )
    await load_names(deps, conn, [row])
    changed(conn, deps, row)
    return row


async def _reopen_in(
    conn: AsyncConnection,
    deps: Deps,
    p: Principal,
    old: Any,
    now: datetime,
    details: dict[str, Any],
    *,
    to_team: str | None = None,
) -> Any:
    """A new care cycle (fresh deadlines): back to its owner (the handoff resumes), to the owner's
    team when `to_team` says the owner is away (the owner stays accountable), or to the queue if
    the bot had resolved it."""
    again = {"reopen_count": old.reopen_count + 1, **sla.new_cycle(deps.sla.tier(old.tier), now)}
    if old.owner_id is not None:
        if to_team is not None:
            row = await transition(
                conn,
                old,
                "reopen_to_team",
                now,
                p,
                event_action="reopen",
                details={**details, "to_team": to_team},
                handler_id=None,
                handler_team=to_team,
                **again,
            )
        else:
            row = await transition(
                conn, old, "reopen", now, p, details=details, handler_id=old.owner_id, handler_team=None, **again
            )
        await delivery.queue_delivery(
            conn, deps.settings, case=row, kind=RESUME_HANDOFF, steps=delivery.resume_handoff_steps(), now=now
        )
        return row
    return await transition(
        conn,
        old,
        "reopen_unowned",
        now,
        p,
        event_action="reopen",
        details=details,
        sla_first_response=PENDING,
        handoff_requested_at=now,
        **again,
    )


async def reopen(deps: Deps, p: Principal, case_id: int, reason: str | None) -> dict[str, Any]:
    now = deps.clock.now()
    async with deps.tx() as conn:
        old = await load(conn, case_id)
        if old.owner_id is not None:
            next_status(old.status, "reopen")
        else:
            next_status(old.status, "reopen_unowned")
        require_participant(p, old, "reopen")
        row = await _reopen_in(conn, deps, p, old, now, {"reason": reason})
        await load_names(deps, conn, [row])
        changed(conn, deps, row, queue=row.status == QUEUED)
    return case_json(deps, row, p)


async def close(deps: Deps, p: Principal, case_id: int, note: str | None) -> dict[str, Any]:
    now = deps.clock.now()
    async with deps.tx() as conn:
        old = await load(conn, case_id)
        next_status(old.status, "close")
        if not policy.may(p, old, "close"):
            raise Forbidden(f"only the owner of case {old.number} or a supervisor may close it", code="not_case_owner")
        row = await transition(conn, old, "close", now, p, details={"note": note}, closed_at=now)
        await load_names(deps, conn, [row])
        changed(conn, deps, row)
    return case_json(deps, row, p)


async def follow_up_in(
    conn: AsyncConnection,
    deps: Deps,
    p: Principal,
    old: Any,
    now: datetime,
    *,
    solved: bool,
    details: dict[str, Any],
    to_team: str | None = None,
) -> Any:
    """The answer of a follow-up visit, inside the caller's transaction: solved closes the case,
    not solved reopens it as a new care cycle to its owner (or, `to_team`, to the owner's team).
    Returns the case's row; announced after commit."""
    if p.kind == STAFF:
        require_participant(p, old, "follow_up")
    if old.status != RESOLVED:
        next_status(old.status, "close" if solved else "reopen")
    state = sla.done_state(old.sla_follow_up, now, old.follow_up_due)
    await append_event(
        conn, old, at=now, actor_kind=p.actor_kind, actor_id=p.actor_id, action="follow_up", details=details
    )
    if solved:
        row = await transition(
            conn,
            old,
            "close",
            now,
            p,
            details=details,
            closed_at=now,
            follow_up_at=now,
            follow_up_solved=True,
            sla_follow_up=state,
        )
    else:
        mid = await update_case(conn, old, now, follow_up_at=now, follow_up_solved=False, sla_follow_up=state)
        reason = {"reason": "follow-up: not solved", **details}
        row = await _reopen_in(conn, deps, p, mid, now, reason, to_team=to_team)
    await load_names(deps, conn, [row])
    changed(conn, deps, row, queue=row.status in IN_QUEUE)
    return row


def case_view(deps: Deps, row: Any, p: Principal) -> dict[str, Any]:
    """A case as `p` sees it (staff get what they may do on it; the bot the plain case)."""
    return case_json(deps, row, p if p.kind == STAFF else None)


async def add_note(deps: Deps, p: Principal, case_id: int, text: str) -> dict[str, Any]:
    """A private note (staff only, never sent to the customer): a timeline entry."""
    now = deps.clock.now()
    async with deps.tx() as conn:
        row = await load(conn, case_id)
        require_participant(p, row, "note")
        note_id = await append_event(
            conn, row, at=now, actor_kind=p.actor_kind, actor_id=p.actor_id, action="note", details={"text": text}
        )
        await audit.record_case_action(
            conn, at=now, actor=p, action="note", case_number=row.number, details={"event_id": note_id}
        )
        await deps.users.load(conn, {p.user_id})
        note = {
            "id": note_id,
            "case_id": row.id,
            "at": now.isoformat(),
            "author": deps.users.get(p.user_id),
            "text": text,
        }
        record(conn, NoteAdded(case_id=row.id, owner_id=row.owner_id, handler_id=row.handler_id, note=note))
    return note


async def change_tier(deps: Deps, p: Principal, case_id: int, tier_name: str, reason: str | None) -> dict[str, Any]:
    now = deps.clock.now()
    async with deps.tx() as conn:
        old = await load(conn, case_id)
        if old.status == CLOSED:
            raise Conflict(f"case {old.number} is closed", code="case_closed")
        require_participant(p, old, "change_tier")
        if tier_name == old.tier:
            raise Conflict(f"case {old.number} is already tier {tier_name}", code="tier_unchanged")
        row = await update_case(conn, old, now, **sla.retiered(deps.sla.tier(tier_name), old))
        details = {"from": old.tier, "to": tier_name, "reason": reason}
        await append_event(
            conn, row, at=now, actor_kind=p.actor_kind, actor_id=p.actor_id, action="tier_changed", details=details
        )
        await audit.record_case_action(
            conn, at=now, actor=p, action="tier_changed", case_number=row.number, details=details
        )
        await load_names(deps, conn, [row])
        changed(conn, deps, row, queue=row.status in IN_QUEUE)
    return case_json(deps, row, p)
