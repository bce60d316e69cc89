"""Row access of the cases feature: loading, optimistic updates, status transitions,
timeline entries, numbering and the JSON shapes of a case. Private to the feature:
other features use `cases.service`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.audit import service as audit
from handoff_service.core.bus import record
from handoff_service.core.deps import Deps
from handoff_service.core.errors import Conflict, NotFound
from handoff_service.core.orm import table_of
from handoff_service.core.principal import STAFF, Principal

from . import policy
from .events import CaseChanged
from .models import Case, CaseCounter, CaseEvent
from .states import allowed_actions, next_status

C = table_of(Case)
EV = table_of(CaseEvent)
CNT = table_of(CaseCounter)
# statements built once (executing with a parameter dict skips per-call coercion)
INSERT_EVENT = insert(EV).returning(EV.c.id)


# ---------------------------------------------------------------- JSON shapes


def iso(v: datetime | None) -> str | None:
    return v.isoformat() if v else None


def case_json(deps: Deps, r: Row[Any] | Any, viewer: Principal | None = None) -> dict[str, Any]:
    """The full case; for a staff viewer with what they may do on it now (`my_actions`)."""
    csat = None
    if r.csat_overall is not None:
        csat = {
            "overall": r.csat_overall,
            "attitude": r.csat_attitude,
            "speed": r.csat_speed,
            "solved": r.csat_solved,
            "comment": r.csat_comment,
            "at": iso(r.csat_at),
            "owner": deps.users.get(r.csat_owner_id),
            "handler": deps.users.get(r.csat_handler_id),
        }
    return {
        "id": r.id,
        "number": r.number,
        "channel": r.channel,
        "conversation_id": r.conversation_id,
        "language": r.language,
        "category": r.category,
        "tier": r.tier,
        "description": r.description,
        "summary": r.summary,
        "result": r.result,
        "status": r.status,
        "allowed_actions": allowed_actions(r.status),
        "owner": deps.users.get(r.owner_id),
        "handler": deps.users.get(r.handler_id),
        "handler_team": r.handler_team,
        "links": r.links,
        "outage_notice": r.outage_notice,
        "reopen_count": r.reopen_count,
        "version": r.version,
        "created_at": iso(r.created_at),
        "updated_at": iso(r.updated_at),
        "handoff_requested_at": iso(r.handoff_requested_at),
        "first_response_at": iso(r.first_response_at),
        "resolved_at": iso(r.resolved_at),
        "closed_at": iso(r.closed_at),
        "sla": {
            "first_response": {"due": iso(r.first_response_due), "state": r.sla_first_response},
            "result": {"due": iso(r.result_due), "state": r.sla_result},
            "follow_up": {"due": iso(r.follow_up_due), "state": r.sla_follow_up},
        },
        "follow_up": {"at": iso(r.follow_up_at), "solved": r.follow_up_solved},
        "csat": csat,
        "idempotency_key": r.idempotency_key,
        **({"my_actions": policy.my_actions(viewer, r)} if viewer is not None and viewer.kind == STAFF else {}),
    }


def case_card(deps: Deps, r: Any) -> dict[str, Any]:
    """The short form pushed on the websocket and listed in the queue."""
    return {
        "id": r.id,
        "number": r.number,
        "status": r.status,
        "tier": r.tier,
        "category": r.category,
        "language": r.language,
        "channel": r.channel,
        "summary": r.summary,
        "owner": deps.users.get(r.owner_id),
        "handler": deps.users.get(r.handler_id),
        "handler_team": r.handler_team,
        "first_response_due": iso(r.first_response_due),
        "result_due": iso(r.result_due),
        "created_at": iso(r.created_at),
    }


# the columns a case card needs (fewer values to decode per row in lists)
CARD_COLS = [
    C.c[n]
    for n in (
        "id",
        "number",
        "status",
        "tier",
        "category",
        "language",
        "channel",
        "summary",
        "owner_id",
        "handler_id",
        "handler_team",
        "first_response_due",
        "result_due",
        "created_at",
    )
]


_NAME_COLS = ("owner_id", "handler_id", "csat_owner_id", "csat_handler_id")


async def load_names(deps: Deps, conn: AsyncConnection, rows: Iterable[Any]) -> None:
    """Load the usernames the rows refer to into the cache."""
    rows = list(rows)
    if not rows:
        return
    cols = [c for c in _NAME_COLS if c in rows[0]._fields]
    ids: set[int | None] = {getattr(r, c) for r in rows for c in cols}
    await deps.users.load(conn, ids)


async def append_event(
    conn: AsyncConnection,
    row: Any,
    *,
    at: datetime,
    actor_kind: str,
    actor_id: str | None,
    action: str,
    status_from: str | None = None,
    details: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> int:
    """Append a timeline entry (returns its id); owner and handler are those after the step."""
    extra = {} if idempotency_key is None else {"idempotency_key": idempotency_key}
    res = await conn.execute(
        INSERT_EVENT,
        {
            **extra,
            "case_id": row.id,
            "at": at,
            "actor_kind": actor_kind,
            "actor_id": actor_id,
            "action": action,
            "status_from": status_from,
            "status_to": row.status,
            "owner_id": row.owner_id,
            "handler_id": row.handler_id,
            "details": details or {},
        },
    )
    return int(res.scalar_one())


SELECT_BY_ID = select(C).where(C.c.id == bindparam("case_id"))
SELECT_BY_NUMBER = select(C).where(C.c.number == bindparam("number"))
_UPDATES: dict[frozenset[str], Any] = {}


def _update_stmt(keys: frozenset[str]) -> Any:
    """UPDATE ... WHERE id AND version ... RETURNING *, built once per set of columns."""
    stmt = _UPDATES.get(keys)
    if stmt is None:
        stmt = (
            update(C)
            .where(C.c.id == bindparam("w_id"), C.c.version == bindparam("w_version"))
            .values(version=C.c.version + 1, **{k: bindparam(f"v_{k}", type_=C.c[k].type) for k in sorted(keys)})
            .returning(*C.c)
        )
        _UPDATES[keys] = stmt
    return stmt


async def load(conn: AsyncConnection, case_id: int) -> Any:
    row = (await conn.execute(SELECT_BY_ID, {"case_id": case_id})).first()
    if row is None:
        raise NotFound(f"case {case_id} does not exist", code="case_not_found")
    return row


async def load_by_number(conn: AsyncConnection, number: str) -> Any:
    row = (await conn.execute(SELECT_BY_NUMBER, {"number": number})).first()
    if row is None:
        raise NotFound(f"case {number} does not exist", code="case_not_found")
    return row


async def update_case(conn: AsyncConnection, old: Any, now: datetime, **values: Any) -> Any:
    """Optimistic update: only if nobody changed the case since we read it."""
    values["updated_at"] = now
    params = {f"v_{k}": v for k, v in values.items()}
    params.update(w_id=old.id, w_version=old.version)
    row = (await conn.execute(_update_stmt(frozenset(values)), params)).first()
    if row is None:
        raise Conflict(f"case {old.number} was changed meanwhile; reload and retry", code="concurrent_change")
    return row


async def transition(
    conn: AsyncConnection,
    old: Any,
    action: str,
    now: datetime,
    actor: Principal,
    details: dict[str, Any] | None = None,
    event_action: str | None = None,
    **values: Any,
) -> Any:
    new_status = next_status(old.status, action)
    row = await update_case(conn, old, now, status=new_status, **values)
    await append_event(
        conn,
        row,
        at=now,
        actor_kind=actor.actor_kind,
        actor_id=actor.actor_id,
        action=event_action or action,
        status_from=old.status,
        details=details,
    )
    if actor.kind == STAFF:
        await audit.record_case_action(
            conn, at=now, actor=actor, action=event_action or action, case_number=row.number, details=details
        )
    return row


async def next_case_number(conn: AsyncConnection, day: str) -> str:
    """Sequential per day; the counter row is locked until commit, so concurrent
    creators get distinct numbers (PostgreSQL row lock, SQLite write lock)."""
    ins = pg_insert(CNT) if conn.dialect.name == "postgresql" else sqlite_insert(CNT)
    stmt = (
        ins.values(day=day, last=1)
        .on_conflict_do_update(index_elements=[CNT.c.day], set_={"last": CNT.c.last + 1})
        .returning(CNT.c.last)
    )
    n = (await conn.execute(stmt)).scalar_one()
    return f"C{day}-{n:04d}"


def changed(
    conn: AsyncConnection,
    deps: Deps,
    row: Any,
    *,
    created: bool = False,
    queue: bool = False,
    previous_handler_id: int | None = None,
) -> None:
    """Announce (after commit) that the case in `row` changed; names must be loaded."""
    record(
        conn,
        CaseChanged(
            card=case_card(deps, row),
            owner_id=row.owner_id,
            handler_id=row.handler_id,
            created=created,
            queue_changed=queue,
            previous_handler_id=previous_handler_id,
        ),
    )
