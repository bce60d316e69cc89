"""Reading follow-up visits: the owner's list of visits to make, a case's visits, the vocabulary."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from handoff_service.cases.models import Case
from handoff_service.core.deps import Deps
from handoff_service.core.orm import table_of
from handoff_service.core.principal import Principal

from . import states
from .models import FollowUpVisit

V = table_of(FollowUpVisit)
C = table_of(Case)

MINE, ALL = "mine", "all"  # whose visits: the caller's cases (owner or last handler), or everyone's


def _iso(v: Any) -> str | None:
    return None if v is None else v.isoformat()


def visit_json(deps: Deps, r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "state": r.state,
        "cycle": r.cycle,
        "due_at": _iso(r.due_at),
        "attempts": r.attempts,
        "sent_at": _iso(r.sent_at),
        "answered_at": _iso(r.answered_at),
        "answer_channel": r.answer_channel,
        "answered_by": deps.users.get(r.answered_by),
        "rating": r.rating,
        "comment": r.comment,
        "cancel_reason": r.cancel_reason,
        "case": {
            "id": r.case_id,
            "number": r.number,
            "status": r.status,
            "channel": r.channel,
            "language": r.language,
            "category": r.category,
            "owner": deps.users.get(r.owner_id),
            "handler": deps.users.get(r.handler_id),
            # the deadline the visit must be made by (the tier's follow-up SLA)
            "follow_up_due": _iso(r.follow_up_due),
            "sla_follow_up": r.sla_follow_up,
        },
    }


LISTED = select(
    V,
    C.c.number,
    C.c.status,
    C.c.channel,
    C.c.language,
    C.c.category,
    C.c.owner_id,
    C.c.handler_id,
    C.c.follow_up_due,
    C.c.sla_follow_up,
).select_from(V.join(C, V.c.case_id == C.c.id))


async def list_visits(
    deps: Deps, p: Principal, *, scope: str, visit_states: tuple[str, ...], limit: int
) -> list[dict[str, Any]]:
    """Visits in `visit_states`, soonest due first: of the caller's cases (`mine`: owned or last
    handled), or, for a supervisor, of all cases."""
    query = LISTED.where(V.c.state.in_(visit_states))
    if scope == MINE or not p.is_supervisor:
        query = query.where(or_(C.c.owner_id == p.user_id, C.c.handler_id == p.user_id))
    async with deps.read_engine.begin() as conn:
        rows = (await conn.execute(query.order_by(V.c.due_at, V.c.id).limit(limit))).all()
        await deps.users.load(conn, {i for r in rows for i in (r.owner_id, r.handler_id, r.answered_by)})
    return [visit_json(deps, r) for r in rows]


def vocabulary() -> dict[str, Any]:
    transitions = {step: {"from": list(src), "to": to} for step, (src, to) in states.TRANSITIONS.items()}
    return {
        "states": list(states.STATES),
        "open": list(states.OPEN_STATES),
        "steps": transitions,
        "channels": list(states.CHANNELS),
    }
