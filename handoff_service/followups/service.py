"""Follow-up visit use cases: plan a visit for every resolved care cycle, ask it, record its answer.

Durability: a visit is a row, planned from the cases table itself (a resolved case whose current
cycle has no visit gets one), so a visit cannot be lost between a resolution and a listener. The
scheduler claims a due visit with a lease (`next_attempt_at`); asking it is one transaction that
moves the visit to `sent` and queues the question in the delivery outbox under a key of the visit
and attempt, so a killed process leaves either nothing done (the lease ends, it is claimed again)
or a committed send that the outbox delivers exactly once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.audit import service as audit
from handoff_service.cases import intake
from handoff_service.cases import service as cases
from handoff_service.cases.models import Case
from handoff_service.cases.states import RESOLVED
from handoff_service.core.bus import record
from handoff_service.core.config import Settings
from handoff_service.core.deps import Deps
from handoff_service.core.errors import Conflict, NotFound
from handoff_service.core.orm import table_of
from handoff_service.core.principal import STAFF, Principal
from handoff_service.delivery import service as delivery
from handoff_service.delivery.states import FOLLOW_UP
from handoff_service.staff import service as staff

from . import states, timing
from .events import VisitChanged
from .models import FollowUpVisit

V = table_of(FollowUpVisit)
C = table_of(Case)
SCHEDULER = ("system", "follow_up")  # who the scheduler's steps are on the timeline


def _due_for(settings: Settings, resolved_at: datetime, deadline: datetime | None) -> datetime:
    return timing.visit_due(
        resolved_at,
        delay=timedelta(hours=settings.follow_up_delay_hours),
        deadline=deadline,
        quiet=timing.quiet_hours(settings.follow_up_quiet_hours),
        zone=ZoneInfo(settings.case_number_tz),
    )


# ---------------------------------------------------------------- planning


def _insert_ignoring_duplicates(conn: AsyncConnection) -> Any:
    ins = pg_insert(V) if conn.dialect.name == "postgresql" else sqlite_insert(V)
    return ins.on_conflict_do_nothing(index_elements=[V.c.case_id, V.c.cycle]).returning(V.c.id, V.c.case_id)


UNPLANNED = (
    select(C.c.id, C.c.number, C.c.status, C.c.owner_id, C.c.handler_id, C.c.reopen_count)
    .add_columns(C.c.resolved_at, C.c.follow_up_due)
    .where(
        C.c.status == RESOLVED,
        C.c.resolved_at.is_not(None),
        ~exists().where(V.c.case_id == C.c.id, V.c.cycle == C.c.reopen_count),
    )
    .order_by(C.c.resolved_at)
    .limit(bindparam("limit"))
)


async def plan_visits(deps: Deps, limit: int = 500) -> int:
    """One transaction: a visit for each resolved case whose current care cycle has none, each
    with a `follow_up_scheduled` step on its case's timeline. Returns how many were planned."""
    now = deps.clock.now()
    async with deps.tx() as conn:
        rows = (await conn.execute(UNPLANNED, {"limit": limit})).all()
        if not rows:
            return 0
        values = [
            {
                "case_id": r.id,
                "cycle": r.reopen_count,
                "state": states.SCHEDULED,
                "due_at": (due := _due_for(deps.settings, r.resolved_at, r.follow_up_due)),
                "next_attempt_at": due,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for r in rows
        ]
        planned = {row.case_id: row.id for row in await conn.execute(_insert_ignoring_duplicates(conn), values)}
        due_of = {v["case_id"]: v["due_at"] for v in values}
        for r in rows:
            if r.id in planned:
                record(conn, VisitChanged(planned[r.id], r.id, states.SCHEDULED, r.owner_id, r.handler_id))
                await cases.append_event(
                    conn,
                    r,
                    at=now,
                    actor_kind=SCHEDULER[0],
                    actor_id=SCHEDULER[1],
                    action=states.TIMELINE["scheduled"],
                    details={"visit": planned[r.id], "due": due_of[r.id].isoformat()},
                )
    return len(planned)


# ---------------------------------------------------------------- asking


async def claim_due(deps: Deps, lease: timedelta, limit: int = 100) -> list[Any]:
    """The visits due now, each leased to this process (a conditional update per visit, so two
    processes never take the same one)."""
    now = deps.clock.now()
    async with deps.tx() as conn:
        due = (
            await conn.execute(
                select(V.c.id, V.c.next_attempt_at)
                .where(V.c.state.in_((states.SCHEDULED, states.SENT)), V.c.next_attempt_at <= now)
                .order_by(V.c.next_attempt_at)
                .limit(limit)
            )
        ).all()
        claimed = []
        for d in due:
            res = await conn.execute(
                update(V)
                .where(V.c.id == d.id, V.c.next_attempt_at == d.next_attempt_at)
                .values(next_attempt_at=now + lease)
                .returning(*V.c)
            )
            row = res.first()
            if row is not None:
                claimed.append(row)
    return claimed


async def next_due(deps: Deps) -> datetime | None:
    """When the scheduler has something to do next (the soonest visit due or waiting for an answer)."""
    async with deps.read_engine.begin() as conn:
        soonest = select(V.c.next_attempt_at).where(V.c.state.in_((states.SCHEDULED, states.SENT)))
        row = (await conn.execute(soonest.order_by(V.c.next_attempt_at).limit(1))).first()
    return None if row is None else row.next_attempt_at


async def context_of(deps: Deps, visit: Any) -> tuple[Any, bool]:
    """The visit's case, and whether the customer wrote in again (a newer case of the same
    conversation since the resolution)."""
    async with deps.read_engine.begin() as conn:
        case = (await conn.execute(select(C).where(C.c.id == visit.case_id))).one()
        wrote_in = False
        if case.resolved_at is not None:
            newer = select(C.c.id).where(
                C.c.conversation_id == case.conversation_id, C.c.id != case.id, C.c.created_at > case.resolved_at
            )
            wrote_in = (await conn.execute(newer.limit(1))).first() is not None
    return case, wrote_in


async def _step(
    conn: AsyncConnection,
    visit: Any,
    step: str,
    now: datetime,
    *,
    case: Any,
    actor: tuple[str, str] = SCHEDULER,
    details: dict[str, Any] | None = None,
    **values: Any,
) -> Any:
    """Moves the visit by `step` if it is still where `visit` saw it; None if someone was faster."""
    came_from, to = states.TRANSITIONS[step]
    res = await conn.execute(
        update(V)
        .where(
            V.c.id == visit.id,
            V.c.state == visit.state,
            V.c.attempts == visit.attempts,
            V.c.state.in_(came_from),
        )
        .values(state=to, updated_at=now, **values)
        .returning(*V.c)
    )
    row = res.first()
    if row is not None:
        record(conn, VisitChanged(row.id, row.case_id, row.state, case.owner_id, case.handler_id))
    if row is not None and step in states.TIMELINE:
        await cases.append_event(
            conn,
            case,
            at=now,
            actor_kind=actor[0],
            actor_id=actor[1],
            action=states.TIMELINE[step],
            details={"visit": visit.id, **(details or {})},
        )
    return row


async def cancel(deps: Deps, visit: Any, case: Any, reason: str) -> Any:
    now = deps.clock.now()
    async with deps.tx() as conn:
        return await _step(
            conn,
            visit,
            states.CANCEL,
            now,
            case=case,
            details={"reason": reason},
            cancel_reason=reason,
            next_attempt_at=None,
        )


async def give_up(deps: Deps, visit: Any, case: Any) -> Any:
    now = deps.clock.now()
    async with deps.tx() as conn:
        return await _step(
            conn, visit, states.GIVE_UP, now, case=case, details={"attempts": visit.attempts}, next_attempt_at=None
        )


async def to_call(deps: Deps, visit: Any, case: Any) -> Any:
    """The customer cannot be reached in a chat: the visit goes to the owner's list."""
    now = deps.clock.now()
    async with deps.tx() as conn:
        return await _step(conn, visit, states.CALL, now, case=case, next_attempt_at=None)


async def send(deps: Deps, visit: Any, case: Any) -> Any:
    """Asks the customer in their chat: the visit is `sent` and the question is in the outbox,
    in one transaction (the outbox delivers it once, after commit)."""
    now = deps.clock.now()
    attempt = visit.attempts + 1
    settings = deps.settings
    async with deps.tx() as conn:
        row = await _step(
            conn,
            visit,
            states.SEND,
            now,
            case=case,
            details={"attempt": attempt},
            attempts=attempt,
            sent_at=now,
            next_attempt_at=now + timedelta(hours=settings.follow_up_answer_hours),
        )
        if row is None:
            return None
        entities = {"case_number": case.number, "ask_rating": case.csat_overall is None}
        await delivery.queue_delivery(
            conn,
            settings,
            case=case,
            kind=FOLLOW_UP,
            steps=[{"type": "intent", "name": states.ASK_INTENT, "entities": entities}],
            now=now,
            key=f"visit-{visit.id}-{attempt}",
        )
    return row


async def release(deps: Deps, visit: Any, retry: timedelta) -> None:
    """Rasa could not be asked: the visit is looked at again after `retry`."""
    async with deps.tx() as conn:
        await conn.execute(
            update(V)
            .where(V.c.id == visit.id, V.c.state == visit.state, V.c.attempts == visit.attempts)
            .values(next_attempt_at=deps.clock.now() + retry)
        )


# ---------------------------------------------------------------- answers


async def _owner_away_team(conn: AsyncConnection, deps: Deps, owner_id: int | None) -> str | None:
    """The owner's team when the owner is away (not in the console, or no longer active); None
    when the owner takes the case back (or has no team to stand in)."""
    if owner_id is None:
        return None
    member = await staff.member(conn, owner_id)
    if member is None or member.team is None:
        return None
    if member.active and deps.hub.is_online(owner_id):
        return None
    return member.team


async def answer(deps: Deps, p: Principal, number_or_id: int | str, data: dict[str, Any]) -> dict[str, Any]:
    """The answer of a follow-up visit, from the customer (the bot) or from an agent's phone call:
    solved closes the case, not solved reopens it to its owner (or the owner's team, the owner
    away) as a new care cycle. The case's open visit records it; a rating is kept as the case's
    satisfaction when the survey was not answered. One transaction."""
    now = deps.clock.now()
    solved = bool(data["solved"])
    channel = states.PHONE if p.kind == STAFF else states.CHAT
    details = {"solved": solved, "comment": data.get("comment"), "channel": channel}
    async with deps.tx() as conn:
        old = await (
            cases.load(conn, number_or_id)
            if isinstance(number_or_id, int)
            else cases.load_by_number(conn, number_or_id)
        )
        visit = (await conn.execute(select(V).where(V.c.case_id == old.id, V.c.cycle == old.reopen_count))).first()
        if data.get("rating") is not None and old.csat_overall is None and old.status == RESOLVED:
            old = await intake.rate_in(conn, old, now, {"overall": data["rating"]})
        row = await cases.follow_up_in(
            conn,
            deps,
            p,
            old,
            now,
            solved=solved,
            details=details,
            to_team=None if solved else await _owner_away_team(conn, deps, old.owner_id),
        )
        if visit is not None and visit.state in states.OPEN_STATES:
            await _step(
                conn,
                visit,
                states.ANSWER_SOLVED if solved else states.ANSWER_NOT_SOLVED,
                now,
                case=row,
                answered_at=now,
                answer_channel=channel,
                answered_by=p.user_id if p.kind == STAFF else None,
                rating=data.get("rating"),
                comment=data.get("comment"),
                next_attempt_at=None,
            )
    return cases.case_view(deps, row, p)


async def no_answer_by_phone(deps: Deps, p: Principal, visit_id: int, comment: str | None) -> dict[str, Any]:
    """An agent called and nobody answered: the visit closes as no answer (the case stays resolved)."""
    now = deps.clock.now()
    async with deps.tx() as conn:
        visit = (await conn.execute(select(V).where(V.c.id == visit_id))).first()
        if visit is None:
            raise NotFound(f"no follow-up visit {visit_id}", code="visit_not_found")
        case = await cases.load(conn, visit.case_id)
        cases.require_participant(p, case, "follow_up")
        if not states.allowed(states.GIVE_UP, visit.state):
            raise Conflict(f"the visit is {visit.state}", code="visit_not_open", state=visit.state)
        row = await _step(
            conn,
            visit,
            states.GIVE_UP,
            now,
            case=case,
            actor=(p.actor_kind, p.actor_id),
            details={"channel": states.PHONE, "comment": comment},
            answer_channel=states.PHONE,
            answered_by=p.user_id,
            comment=comment,
            next_attempt_at=None,
        )
        if row is None:
            raise Conflict("the visit changed meanwhile; reload it", code="concurrent_change")
        await audit.record_case_action(
            conn, at=now, actor=p, action="follow_up_no_answer", case_number=case.number, details={"visit": visit.id}
        )
    return {"id": row.id, "state": row.state}


__all__ = [
    "answer",
    "cancel",
    "claim_due",
    "context_of",
    "give_up",
    "next_due",
    "no_answer_by_phone",
    "plan_visits",
    "release",
    "send",
    "to_call",
]
