"""The board's one use case: a supervisor acknowledges an escalated deadline of a case (one click).

The acknowledgement is a timeline entry (`escalation_acknowledged`, details {deadline, due, state}),
audited, announced after commit. One escalation is acknowledged once: the entry's idempotency key
names the deadline, its due time and the escalated state (states.ack_key), and the timeline's unique
(case, key) index keeps a second one out even when two supervisors click at the same moment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.audit import service as audit
from handoff_service.cases import service as cases
from handoff_service.cases.models import CaseEvent
from handoff_service.core.bus import record
from handoff_service.core.deps import Deps
from handoff_service.core.errors import Conflict
from handoff_service.core.orm import table_of
from handoff_service.core.principal import Principal
from handoff_service.staff import service as staff

from .events import EscalationAcknowledged
from .states import ACKNOWLEDGED, COLUMNS, ESCALATED, ack_key

EV = table_of(CaseEvent)
SELECT_ACK = select(EV).where(EV.c.case_id == bindparam("case_id"), EV.c.idempotency_key == bindparam("key"))


async def ack_json(deps: Deps, conn: AsyncConnection, number: str, event: Any) -> dict[str, Any]:
    """An acknowledgement as the API and the board show it (who: the entry's actor, by username)."""
    user_id = await staff.active_agent(conn, event.actor_id) if event.actor_id else None
    await deps.users.load(conn, {user_id})
    by = deps.users.get(user_id) or {"id": None, "username": event.actor_id, "display_name": event.actor_id}
    return {
        "case_id": event.case_id,
        "number": number,
        "deadline": event.details.get("deadline"),
        "due": event.details.get("due"),
        "state": event.details.get("state"),
        "by": by,
        "at": event.at.isoformat(),
        "event_id": event.id,
    }


async def _existing(deps: Deps, case_id: int, deadline: str) -> tuple[dict[str, Any], bool] | None:
    async with deps.read_engine.begin() as conn:
        row = await cases.load(conn, case_id)
        due_col, state_col = COLUMNS[deadline]
        due, state = getattr(row, due_col), getattr(row, state_col)
        if due is None or state not in ESCALATED:
            return None
        found = (await conn.execute(SELECT_ACK, {"case_id": case_id, "key": ack_key(deadline, due, state)})).first()
        return None if found is None else (await ack_json(deps, conn, row.number, found), False)


async def acknowledge(deps: Deps, p: Principal, case_id: int, deadline: str) -> tuple[dict[str, Any], bool]:
    """Acknowledge the current escalation of `deadline`: (the acknowledgement, whether it is new).
    The same escalation again: the first acknowledgement, nothing written. A deadline that is not
    escalated (pending or met): 409 `deadline_not_escalated`."""
    now = deps.clock.now()
    due_col, state_col = COLUMNS[deadline]
    try:
        async with deps.tx() as conn:
            row = await cases.load(conn, case_id)
            due, state = getattr(row, due_col), getattr(row, state_col)
            if due is None or state not in ESCALATED:
                raise Conflict(
                    f"the {deadline.replace('_', ' ')} deadline of case {row.number} is {state}, not escalated",
                    code="deadline_not_escalated",
                    deadline=deadline,
                    state=state,
                )
            key = ack_key(deadline, due, state)
            found = (await conn.execute(SELECT_ACK, {"case_id": case_id, "key": key})).first()
            if found is not None:  # acknowledged before: the first acknowledgement stands
                return await ack_json(deps, conn, row.number, found), False
            details = {"deadline": deadline, "due": due.isoformat(), "state": state}
            event_id = await cases.append_event(
                conn,
                row,
                at=now,
                actor_kind=p.actor_kind,
                actor_id=p.actor_id,
                action=ACKNOWLEDGED,
                details=details,
                idempotency_key=key,
            )
            await audit.record_case_action(
                conn,
                at=now,
                actor=p,
                action=ACKNOWLEDGED,
                case_number=row.number,
                details={**details, "event_id": event_id},
            )
            await deps.users.load(conn, {p.user_id})
            ack = {
                "case_id": row.id,
                "number": row.number,
                **details,
                "by": deps.users.get(p.user_id),
                "at": now.isoformat(),
                "event_id": event_id,
            }
            record(conn, EscalationAcknowledged(row.id, row.owner_id, row.handler_id, ack))
        return ack, True
    except IntegrityError:
        # another supervisor acknowledged the same escalation at the same moment: theirs stands
        existing = await _existing(deps, case_id, deadline)
        if existing is None:
            raise
        return existing
