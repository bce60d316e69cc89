"""Case use cases: one transaction each, status changes through the state machine,
every change appended to the timeline (and, for staff, to the audit log)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import Row, bindparam, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from . import audit
from .context import Deps, Principal
from .errors import Conflict, Forbidden, NotFound
from .models import Case, CaseCounter, CaseEvent, Delivery, StaffUser
from .outbox import Claim, new_delivery
from .states import (
    ACTIVE,
    CLOSED,
    IN_PROGRESS,
    IN_QUEUE,
    OPEN,
    QUEUED,
    RESOLVED,
    TRANSFERRED,
    allowed_actions,
    next_status,
)

C = Case.__table__
EV = CaseEvent.__table__
CNT = CaseCounter.__table__
U = StaffUser.__table__
D = Delivery.__table__
# statements built once (executing with a parameter dict skips per-call coercion)
INSERT_CASE = insert(C).returning(*C.c)
INSERT_EVENT = insert(EV)
STAFF_ROLES = frozenset({"agent", "supervisor"})
SUPERVISORS = frozenset({"supervisor"})


# ---------------------------------------------------------------- helpers


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v else None


def case_json(deps: Deps, r: Row[Any] | Any) -> dict[str, Any]:
    csat = None
    if r.csat_overall is not None:
        csat = {
            "overall": r.csat_overall,
            "attitude": r.csat_attitude,
            "speed": r.csat_speed,
            "solved": r.csat_solved,
            "comment": r.csat_comment,
            "at": _iso(r.csat_at),
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
        "created_at": _iso(r.created_at),
        "updated_at": _iso(r.updated_at),
        "handoff_requested_at": _iso(r.handoff_requested_at),
        "first_response_at": _iso(r.first_response_at),
        "resolved_at": _iso(r.resolved_at),
        "closed_at": _iso(r.closed_at),
        "sla": {
            "first_response": {"due": _iso(r.first_response_due), "state": r.sla_first_response},
            "result": {"due": _iso(r.result_due), "state": r.sla_result},
            "follow_up": {"due": _iso(r.follow_up_due), "state": r.sla_follow_up},
        },
        "follow_up": {"at": _iso(r.follow_up_at), "solved": r.follow_up_solved},
        "csat": csat,
        "idempotency_key": r.idempotency_key,
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
        "first_response_due": _iso(r.first_response_due),
        "result_due": _iso(r.result_due),
        "created_at": _iso(r.created_at),
    }


# the columns a case card needs (fewer values to decode per row in lists)
CARD_COLS = [
    C.c[n]
    for n in (
        "id", "number", "status", "tier", "category", "language", "channel", "summary", "owner_id",
        "handler_id", "handler_team", "first_response_due", "result_due", "created_at",
    )
]


_NAME_COLS = ("owner_id", "handler_id", "csat_owner_id", "csat_handler_id")


async def _names(deps: Deps, conn: AsyncConnection, rows: Iterable[Any]) -> None:
    """Load the usernames the rows refer to into the cache."""
    rows = list(rows)
    if not rows:
        return
    cols = [c for c in _NAME_COLS if c in rows[0]._fields]
    ids: set[int | None] = {getattr(r, c) for r in rows for c in cols}
    await deps.users.load(conn, ids)


async def _event(
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
) -> None:
    """Append a timeline entry; owner and handler are those after the step."""
    extra = {} if idempotency_key is None else {"idempotency_key": idempotency_key}
    await conn.execute(
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


async def _load(conn: AsyncConnection, case_id: int) -> Any:
    row = (await conn.execute(SELECT_BY_ID, {"case_id": case_id})).first()
    if row is None:
        raise NotFound(f"case {case_id} does not exist", code="case_not_found")
    return row


async def _load_number(conn: AsyncConnection, number: str) -> Any:
    row = (await conn.execute(SELECT_BY_NUMBER, {"number": number})).first()
    if row is None:
        raise NotFound(f"case {number} does not exist", code="case_not_found")
    return row


async def _update(conn: AsyncConnection, old: Any, now: datetime, **values: Any) -> Any:
    """Optimistic update: only if nobody changed the case since we read it."""
    values["updated_at"] = now
    params = {f"v_{k}": v for k, v in values.items()}
    params.update(w_id=old.id, w_version=old.version)
    row = (await conn.execute(_update_stmt(frozenset(values)), params)).first()
    if row is None:
        raise Conflict(f"case {old.number} was changed meanwhile; reload and retry", code="concurrent_change")
    return row


async def _transition(
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
    row = await _update(conn, old, now, status=new_status, **values)
    await _event(
        conn, row, at=now, actor_kind=actor.actor_kind, actor_id=actor.actor_id,
        action=event_action or action, status_from=old.status, details=details,
    )
    if actor.kind == "staff":
        await audit.record(
            conn, at=now, actor=actor, action=f"case.{event_action or action}",
            target_type="case", target_id=row.number, details=details,
        )
    return row


def _sla_done(state: str, at: datetime, due: datetime | None) -> str:
    """Final state of a deadline when its step is done."""
    if state == "breached" or (due is not None and at > due):
        return "breached"
    return "met"


def _stakeholders(row: Any) -> set[int | None]:
    return {row.owner_id, row.handler_id}


def _publish_case(deps: Deps, row: Any, kind: str = "case.updated", queue: bool = False) -> None:
    card = case_card(deps, row)
    deps.hub.publish({"type": kind, "case": card}, users=_stakeholders(row), roles=SUPERVISORS)
    if queue:
        deps.hub.publish({"type": "queue.changed", "case": card}, roles=STAFF_ROLES)


def _require_staff_on_case(p: Principal, row: Any, *, who: str = "handler, owner or a supervisor") -> None:
    if p.role == "supervisor" or p.user_id in (row.handler_id, row.owner_id):
        return
    raise Forbidden(f"only the case's {who} may do this", code="not_case_participant")


# ---------------------------------------------------------------- numbering


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


# ---------------------------------------------------------------- reads


async def get_case(deps: Deps, case_id: int) -> dict[str, Any]:
    async with deps.read_engine.begin() as conn:
        row = await _load(conn, case_id)
        await _names(deps, conn, [row])
    return case_json(deps, row)


async def get_case_by_number(deps: Deps, number: str) -> dict[str, Any]:
    async with deps.read_engine.begin() as conn:
        row = await _load_number(conn, number)
        await _names(deps, conn, [row])
    return case_json(deps, row)


async def queue(deps: Deps, p: Principal, *, team: str | None, limit: int) -> list[dict[str, Any]]:
    """Waiting cases ordered by tier, then first-response deadline."""
    q = select(*CARD_COLS).where(C.c.status.in_(IN_QUEUE))
    if p.role != "supervisor":
        # agents see the open queue plus what was transferred to their team
        q = q.where((C.c.status == QUEUED) | (C.c.handler_team == (p.team or "")))
    if team is not None:
        q = q.where(C.c.handler_team == team)
    q = q.order_by(C.c.tier_rank, C.c.first_response_due, C.c.id).limit(limit)
    async with deps.read_engine.begin() as conn:
        rows = (await conn.execute(q)).all()
        await _names(deps, conn, rows)
    return [dict(case_card(deps, r), position=i + 1) for i, r in enumerate(rows)]


async def list_cases(
    deps: Deps, p: Principal, *, status: str | None, mine: bool, limit: int, offset: int
) -> list[dict[str, Any]]:
    q = select(*CARD_COLS)
    if status is not None:
        q = q.where(C.c.status == status)
    if mine:
        q = q.where((C.c.owner_id == p.user_id) | (C.c.handler_id == p.user_id))
    q = q.order_by(C.c.id.desc()).limit(limit).offset(offset)
    async with deps.read_engine.begin() as conn:
        rows = (await conn.execute(q)).all()
        await _names(deps, conn, rows)
    return [case_card(deps, r) for r in rows]


async def timeline(deps: Deps, case_id: int) -> list[dict[str, Any]]:
    async with deps.read_engine.begin() as conn:
        await _load(conn, case_id)
        rows = (await conn.execute(select(EV).where(EV.c.case_id == case_id).order_by(EV.c.id))).all()
        await _names(deps, conn, rows)
    return [
        {
            "id": r.id,
            "at": _iso(r.at),
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


# ---------------------------------------------------------------- bot use cases


SELECT_BY_KEY = select(C).where(C.c.idempotency_key == bindparam("key"))
SELECT_EVENT_BY_KEY = select(EV.c.action, EV.c.at).where(
    EV.c.case_id == bindparam("case_id"), EV.c.idempotency_key == bindparam("key")
)


class _Existing(Exception):
    """Ends a creating transaction (rolled back) because the key was used before."""

    def __init__(self, row: Any) -> None:
        super().__init__("existing")
        self.row = row


async def _case_by_key(deps: Deps, key: str) -> Any:
    async with deps.read_engine.begin() as conn:
        return (await conn.execute(SELECT_BY_KEY, {"key": key})).first()


async def create_case(deps: Deps, data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Opens a case; returns (case, created). With an idempotency key used before,
    the case created then is returned (created=False) and nothing changes."""
    now = deps.clock.now()
    tier = deps.sla.tier(data.get("tier"))
    key = data.get("idempotency_key")
    day = now.astimezone(ZoneInfo(deps.settings.case_number_tz)).strftime("%Y%m%d")
    try:
        async with deps.tx() as conn:
            number = await next_case_number(conn, day)
            if key is not None:
                # after the counter row lock: a concurrent creator with this key has committed by now
                existing = (await conn.execute(SELECT_BY_KEY, {"key": key})).first()
                if existing is not None:
                    raise _Existing(existing)  # rolls the counter back: numbers stay gap-free
            res = await conn.execute(
                INSERT_CASE,
                {
                    "number": number,
                    "channel": data["channel"],
                    "conversation_id": data["conversation_id"],
                    "language": data["language"],
                    "category": data["category"],
                    "tier": tier.name,
                    "tier_rank": tier.rank,
                    "description": data.get("description", ""),
                    "summary": None,
                    "status": OPEN,
                    "links": data.get("links", []),
                    "outage_notice": data.get("outage_notice"),
                    "reopen_count": 0,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                    "first_response_due": now + tier.first_response,
                    "result_due": now + tier.result,
                    "sla_first_response": "pending",
                    "sla_result": "pending",
                    "sla_follow_up": "pending",
                    "idempotency_key": key,
                },
            )
            row = res.one()
            await _event(
                conn, row, at=now, actor_kind="bot", actor_id="bot", action="created",
                details={"channel": row.channel, "category": row.category, "tier": row.tier},
            )
    except _Existing as e:
        return await _existing_case(deps, e.row), False
    except IntegrityError:
        # the unique index caught a concurrent creator with the same key (e.g. across a day boundary)
        if key is None:
            raise
        found = await _case_by_key(deps, key)
        if found is None:
            raise
        return await _existing_case(deps, found), False
    deps.hub.publish({"type": "case.created", "case": case_card(deps, row)}, roles=SUPERVISORS)
    return case_json(deps, row), True


async def _existing_case(deps: Deps, row: Any) -> dict[str, Any]:
    async with deps.read_engine.begin() as conn:
        await _names(deps, conn, [row])
    return case_json(deps, row)


async def bot_timeline_entry(
    deps: Deps, number: str, action: str, details: dict[str, Any], key: str | None = None
) -> tuple[dict[str, Any], bool]:
    """Appends a bot step; returns (acknowledgement, created). A key already used on
    this case returns the original acknowledgement and adds nothing."""
    now = deps.clock.now()
    try:
        async with deps.tx() as conn:
            row = await _load_number(conn, number)
            if key is not None:
                seen = (await conn.execute(SELECT_EVENT_BY_KEY, {"case_id": row.id, "key": key})).first()
                if seen is not None:
                    return {"case": number, "action": seen.action, "at": seen.at.isoformat()}, False
            await _event(
                conn, row, at=now, actor_kind="bot", actor_id="bot", action=action, details=details,
                idempotency_key=key,
            )
    except IntegrityError:
        if key is None:
            raise
        async with deps.read_engine.begin() as conn:
            row = await _load_number(conn, number)
            seen = (await conn.execute(SELECT_EVENT_BY_KEY, {"case_id": row.id, "key": key})).first()
        if seen is None:
            raise
        return {"case": number, "action": seen.action, "at": seen.at.isoformat()}, False
    return {"case": number, "action": action, "at": now.isoformat()}, True


UPDATABLE = ("category", "description", "tier", "language")


async def bot_update_case(deps: Deps, number: str, data: dict[str, Any]) -> dict[str, Any]:
    """The bot corrects or completes what it collected: category, description,
    tier (only upwards, to a more urgent tier) and language. One transaction; a
    bot `updated` timeline entry lists each changed field as {from, to}."""
    now = deps.clock.now()
    async with deps.tx() as conn:
        old = await _load_number(conn, number)
        if old.status == CLOSED:
            raise Conflict(f"case {number} is closed", code="case_closed")
        changes: dict[str, dict[str, Any]] = {}
        values: dict[str, Any] = {}
        for name in UPDATABLE:
            if name in data and data[name] != getattr(old, name):
                changes[name] = {"from": getattr(old, name), "to": data[name]}
        if "tier" in changes:
            new_tier = deps.sla.tier(data["tier"])
            if new_tier.rank > old.tier_rank:
                raise Conflict(
                    f"the bot may only raise the tier of case {number}: {data['tier']} is less urgent than {old.tier}",
                    code="tier_lowering_not_allowed", tier=old.tier,
                )
            values.update(_tier_values(deps, old, data["tier"]))
        for name in ("category", "description", "language"):
            if name in changes:
                values[name] = data[name]
        if not changes:
            await _names(deps, conn, [old])
            return case_json(deps, old)
        row = await _update(conn, old, now, **values)
        await _event(conn, row, at=now, actor_kind="bot", actor_id="bot", action="updated", details=changes)
        await _names(deps, conn, [row])
    _publish_case(deps, row, queue=row.status in IN_QUEUE and "tier" in changes)
    return case_json(deps, row)


_RANK, _DUE = bindparam("rank"), bindparam("due", type_=C.c.first_response_due.type)
# how many queued cases come before this one (queue order: tier, deadline, id)
QUEUE_AHEAD = (
    select(func.count())
    .select_from(C)
    .where(
        C.c.status == QUEUED,
        (C.c.tier_rank < _RANK)
        | ((C.c.tier_rank == _RANK) & (C.c.first_response_due < _DUE))
        | ((C.c.tier_rank == _RANK) & (C.c.first_response_due == _DUE) & (C.c.id < bindparam("case_id"))),
    )
)


async def request_handoff(deps: Deps, number: str, data: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock.now()
    bot = Principal(kind="bot")
    async with deps.tx() as conn:
        old = await _load_number(conn, number)
        extra: dict[str, Any] = {}
        if data.get("tier") and data["tier"] != old.tier:
            extra = _tier_values(deps, old, data["tier"])
        row = await _transition(
            conn, old, "request_handoff", now, bot,
            details={"summary": data["summary"], **({"tier": data["tier"]} if extra else {})},
            summary=data["summary"], handoff_requested_at=now, **extra,
        )
        ahead = (
            await conn.execute(
                QUEUE_AHEAD, {"rank": row.tier_rank, "due": row.first_response_due, "case_id": row.id}
            )
        ).scalar_one()
    _publish_case(deps, row, queue=True)
    return {
        "case": case_json(deps, row),
        "queue_position": ahead + 1,
        "agents_online": deps.hub.online_agents(),
        "first_response_due": _iso(row.first_response_due),
    }


async def bot_resolve(deps: Deps, number: str, result: str) -> dict[str, Any]:
    now = deps.clock.now()
    async with deps.tx() as conn:
        old = await _load_number(conn, number)
        tier = deps.sla.tier(old.tier)
        row = await _transition(
            conn, old, "resolve", now, Principal(kind="bot"), details={"result": result},
            result=result, resolved_at=now, follow_up_due=now + tier.follow_up,
            sla_first_response=_sla_done(old.sla_first_response, now, old.first_response_due),
            sla_result=_sla_done(old.sla_result, now, old.result_due), sla_follow_up="pending",
        )
        await _names(deps, conn, [row])
    return case_json(deps, row)


async def record_csat(deps: Deps, number: str, data: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock.now()
    async with deps.tx() as conn:
        old = await _load_number(conn, number)
        if old.status not in (RESOLVED, CLOSED):
            raise Conflict(
                f"case {number} is {old.status}; satisfaction is recorded after it is resolved",
                code="case_not_resolved",
            )
        if old.csat_overall is not None:
            raise Conflict(f"case {number} already has a satisfaction answer", code="csat_already_recorded")
        row = await _update(
            conn, old, now,
            csat_overall=data["overall"], csat_attitude=data.get("attitude"), csat_speed=data.get("speed"),
            csat_solved=data.get("solved"), csat_comment=data.get("comment"), csat_at=now,
            csat_owner_id=old.owner_id, csat_handler_id=old.handler_id,
        )
        await _event(conn, row, at=now, actor_kind="bot", actor_id="bot", action="csat_recorded", details=data)
        await _names(deps, conn, [row])
    _publish_case(deps, row)
    return case_json(deps, row)


# ---------------------------------------------------------------- staff use cases


_NOW = bindparam("now", type_=C.c.updated_at.type)
# the one conditional UPDATE that decides ownership
ACCEPT = (
    update(C)
    .where(C.c.id == bindparam("case_id"), C.c.owner_id.is_(None), C.c.status == QUEUED)
    .values(
        owner_id=bindparam("agent"), handler_id=bindparam("agent"), handler_team=None, status=IN_PROGRESS,
        first_response_at=_NOW, version=C.c.version + 1, updated_at=_NOW,
        sla_first_response=case(
            ((C.c.sla_first_response == "breached") | (C.c.first_response_due < _NOW), "breached"),
            else_="met",
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
            current = await _load(conn, case_id)
            if current.owner_id is not None:
                await deps.users.load(conn, {current.owner_id})
                owner = deps.users.get(current.owner_id) or {}
                raise Conflict(
                    f"case {current.number} is already taken by {owner.get('username')}",
                    code="case_already_taken",
                    owner=owner.get("username"),
                )
            next_status(current.status, "accept")  # raises the 409 that explains why
            raise Conflict(f"case {current.number} cannot be accepted now", code="invalid_transition")
        await _event(
            conn, row, at=now, actor_kind="agent", actor_id=p.username, action="accept", status_from=QUEUED,
            details={"owner": p.username},
        )
        await audit.record(conn, at=now, actor=p, action="case.accept", target_type="case", target_id=row.number)
        await _names(deps, conn, [row])
    _publish_case(deps, row, queue=True)
    return case_json(deps, row)


async def claim(deps: Deps, p: Principal, case_id: int) -> dict[str, Any]:
    """A member of the team a case was transferred to picks it up."""
    now = deps.clock.now()
    async with deps.tx() as conn:
        old = await _load(conn, case_id)
        next_status(old.status, "claim")
        if p.role != "supervisor" and (p.team is None or p.team != old.handler_team):
            raise Forbidden(f"case {old.number} was transferred to team {old.handler_team}", code="not_in_team")
        row = await _transition(
            conn, old, "claim", now, p, details={"team": old.handler_team, "handler": p.username},
            handler_id=p.user_id,
        )
        await _names(deps, conn, [row])
    _publish_case(deps, row, queue=True)
    return case_json(deps, row)


async def transfer(deps: Deps, p: Principal, case_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Changes the current handler (an agent or a team); the owner stays."""
    now = deps.clock.now()
    note = data.get("note")
    async with deps.tx() as conn:
        old = await _load(conn, case_id)
        await _names(deps, conn, [old])
        to_agent, to_team = data.get("to_agent"), data.get("to_team")
        if to_agent is not None:
            next_status(old.status, "transfer_agent")
            _require_staff_on_case(p, old)
            target = (
                await conn.execute(select(U).where(U.c.username == to_agent, U.c.active.is_(True)))
            ).first()
            if target is None or target.role not in STAFF_ROLES:
                raise NotFound(f"no active agent {to_agent!r}", code="unknown_agent")
            if target.id == old.handler_id:
                raise Conflict(f"{to_agent} already handles case {old.number}", code="already_handler")
            row = await _transition(
                conn, old, "transfer_agent", now, p, event_action="transfer",
                details={"to_agent": to_agent, "from_handler": (deps.users.get(old.handler_id) or {}).get("username"), "note": note},
                handler_id=target.id, handler_team=None,
            )
        else:
            next_status(old.status, "transfer_team")
            _require_staff_on_case(p, old)
            exists = (
                await conn.execute(select(U.c.id).where(U.c.team == to_team, U.c.active.is_(True)).limit(1))
            ).first()
            if exists is None:
                raise NotFound(f"no team {to_team!r}", code="unknown_team")
            row = await _transition(
                conn, old, "transfer_team", now, p, event_action="transfer",
                details={"to_team": to_team, "note": note},
                handler_id=None, handler_team=to_team,
            )
        await _names(deps, conn, [old, row])
    _publish_case(deps, row, queue=row.status == TRANSFERRED)
    if old.handler_id and old.handler_id != row.handler_id:
        deps.hub.publish({"type": "case.updated", "case": case_card(deps, row)}, users={old.handler_id})
    return case_json(deps, row)


def _end_handoff_payload(row: Any) -> dict[str, Any]:
    return {
        "steps": [
            {"type": "events", "events": [{"event": "slot", "name": "handoff_active", "value": False}]},
            {"type": "intent", "name": "EXTERNAL_handoff_resolved", "entities": {"case_number": row.number}},
        ],
        "done": 0,
    }


def _resume_handoff_payload(row: Any) -> dict[str, Any]:
    return {
        "steps": [{"type": "events", "events": [{"event": "slot", "name": "handoff_active", "value": True}]}],
        "done": 0,
    }


def _kick(deps: Deps, claim: Claim | None) -> None:
    if claim is not None and deps.on_delivery is not None:
        deps.on_delivery(claim.id, claim)


async def resolve(deps: Deps, p: Principal, case_id: int, result: str) -> dict[str, Any]:
    now = deps.clock.now()
    async with deps.tx() as conn:
        old = await _load(conn, case_id)
        next_status(old.status, "resolve")
        if p.role != "supervisor" and p.user_id != old.handler_id:
            raise Forbidden(f"only the current handler of case {old.number} may resolve it", code="not_case_handler")
        tier = deps.sla.tier(old.tier)
        row = await _transition(
            conn, old, "resolve", now, p, details={"result": result},
            result=result, resolved_at=now, follow_up_due=now + tier.follow_up,
            sla_result=_sla_done(old.sla_result, now, old.result_due), sla_follow_up="pending",
        )
        delivery = await new_delivery(
            conn, deps.settings, case=row, kind="end_handoff", payload=_end_handoff_payload(row), now=now
        )
        await _names(deps, conn, [row])
    _kick(deps, delivery)
    _publish_case(deps, row)
    return case_json(deps, row)


async def _reopen_in(
    conn: AsyncConnection, deps: Deps, p: Principal, old: Any, now: datetime, details: dict[str, Any]
) -> tuple[Any, Claim | None]:
    if old.owner_id is not None:
        row = await _transition(
            conn, old, "reopen", now, p, details=details,
            handler_id=old.owner_id, handler_team=None, reopen_count=old.reopen_count + 1,
            follow_up_due=None, sla_follow_up="pending",
            sla_result="pending" if old.sla_result == "met" else old.sla_result,
        )
        delivery = await new_delivery(
            conn, deps.settings, case=row, kind="resume_handoff", payload=_resume_handoff_payload(row), now=now
        )
        return row, delivery
    row = await _transition(
        conn, old, "reopen_unowned", now, p, event_action="reopen", details=details,
        reopen_count=old.reopen_count + 1, follow_up_due=None, sla_follow_up="pending",
        sla_result="pending" if old.sla_result == "met" else old.sla_result,
        sla_first_response="pending", handoff_requested_at=now,
    )
    return row, None


async def reopen(deps: Deps, p: Principal, case_id: int, reason: str | None) -> dict[str, Any]:
    now = deps.clock.now()
    async with deps.tx() as conn:
        old = await _load(conn, case_id)
        if old.owner_id is not None:
            next_status(old.status, "reopen")
        else:
            next_status(old.status, "reopen_unowned")
        _require_staff_on_case(p, old, who="owner, last handler or a supervisor")
        row, delivery = await _reopen_in(conn, deps, p, old, now, {"reason": reason})
        await _names(deps, conn, [row])
    _kick(deps, delivery)
    _publish_case(deps, row, queue=row.status == QUEUED)
    return case_json(deps, row)


async def close(deps: Deps, p: Principal, case_id: int, note: str | None) -> dict[str, Any]:
    now = deps.clock.now()
    async with deps.tx() as conn:
        old = await _load(conn, case_id)
        next_status(old.status, "close")
        if p.role != "supervisor" and p.user_id != old.owner_id:
            raise Forbidden(f"only the owner of case {old.number} or a supervisor may close it", code="not_case_owner")
        row = await _transition(conn, old, "close", now, p, details={"note": note}, closed_at=now)
        await _names(deps, conn, [row])
    _publish_case(deps, row)
    return case_json(deps, row)


async def follow_up(deps: Deps, p: Principal, number_or_id: int | str, data: dict[str, Any]) -> dict[str, Any]:
    """Records the follow-up visit: solved closes the case, not solved reopens it to its owner."""
    now = deps.clock.now()
    solved = bool(data["solved"])
    details = {"solved": solved, "comment": data.get("comment")}
    delivery = None
    async with deps.tx() as conn:
        old = await (_load(conn, number_or_id) if isinstance(number_or_id, int) else _load_number(conn, number_or_id))
        if p.kind == "staff":
            _require_staff_on_case(p, old, who="owner, last handler or a supervisor")
        if old.status != RESOLVED:
            next_status(old.status, "close" if solved else "reopen")
        state = _sla_done(old.sla_follow_up, now, old.follow_up_due)
        await _event(
            conn, old, at=now, actor_kind=p.actor_kind, actor_id=p.actor_id, action="follow_up", details=details,
        )
        if solved:
            row = await _transition(
                conn, old, "close", now, p, details=details, closed_at=now,
                follow_up_at=now, follow_up_solved=True, sla_follow_up=state,
            )
        else:
            mid = await _update(conn, old, now, follow_up_at=now, follow_up_solved=False, sla_follow_up=state)
            row, delivery = await _reopen_in(conn, deps, p, mid, now, {"reason": "follow-up: not solved", **details})
        await _names(deps, conn, [row])
    _kick(deps, delivery)
    _publish_case(deps, row, queue=row.status == QUEUED)
    return case_json(deps, row)


async def add_note(deps: Deps, p: Principal, case_id: int, text: str) -> dict[str, Any]:
    """A private note (staff only, never sent to the customer): a timeline entry."""
    now = deps.clock.now()
    async with deps.tx() as conn:
        row = await _load(conn, case_id)
        _require_staff_on_case(p, row)
        res = await conn.execute(
            insert(EV).returning(EV.c.id),
            {
                "case_id": row.id, "at": now, "actor_kind": "agent", "actor_id": p.username, "action": "note",
                "status_from": None, "status_to": row.status, "owner_id": row.owner_id, "handler_id": row.handler_id,
                "details": {"text": text},
            },
        )
        note_id = res.scalar_one()
        await audit.record(
            conn, at=now, actor=p, action="case.note", target_type="case", target_id=row.number,
            details={"event_id": note_id},
        )
        await deps.users.load(conn, {p.user_id})
    note = {"id": note_id, "case_id": row.id, "at": now.isoformat(), "author": deps.users.get(p.user_id), "text": text}
    deps.hub.publish({"type": "note.new", "case_id": row.id, "note": note}, users=_stakeholders(row), roles=SUPERVISORS)
    return note


def _tier_values(deps: Deps, old: Any, tier_name: str) -> dict[str, Any]:
    tier = deps.sla.tier(tier_name)
    values: dict[str, Any] = {
        "tier": tier.name,
        "tier_rank": tier.rank,
        "first_response_due": old.created_at + tier.first_response,
        "result_due": old.created_at + tier.result,
    }
    for col in ("sla_first_response", "sla_result", "sla_follow_up"):
        if getattr(old, col) == "warning":
            values[col] = "pending"  # re-evaluated against the new deadline
    if old.resolved_at is not None and old.follow_up_due is not None:
        values["follow_up_due"] = old.resolved_at + tier.follow_up
    return values


async def change_tier(deps: Deps, p: Principal, case_id: int, tier_name: str, reason: str | None) -> dict[str, Any]:
    now = deps.clock.now()
    async with deps.tx() as conn:
        old = await _load(conn, case_id)
        if old.status == CLOSED:
            raise Conflict(f"case {old.number} is closed", code="case_closed")
        _require_staff_on_case(p, old)
        if tier_name == old.tier:
            raise Conflict(f"case {old.number} is already tier {tier_name}", code="tier_unchanged")
        row = await _update(conn, old, now, **_tier_values(deps, old, tier_name))
        details = {"from": old.tier, "to": tier_name, "reason": reason}
        await _event(conn, row, at=now, actor_kind="agent", actor_id=p.username, action="tier_changed", details=details)
        await audit.record(conn, at=now, actor=p, action="case.tier_changed", target_type="case", target_id=row.number, details=details)
        await _names(deps, conn, [row])
    _publish_case(deps, row, queue=row.status in IN_QUEUE)
    return case_json(deps, row)


__all__ = [
    "ACTIVE",
    "OPEN",
    "accept",
    "add_note",
    "bot_resolve",
    "bot_timeline_entry",
    "bot_update_case",
    "change_tier",
    "claim",
    "close",
    "create_case",
    "follow_up",
    "get_case",
    "get_case_by_number",
    "list_cases",
    "queue",
    "record_csat",
    "reopen",
    "request_handoff",
    "resolve",
    "timeline",
    "transfer",
]
