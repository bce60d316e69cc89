"""Case use cases of the bot (service token): open a case, add script steps to its
timeline, correct what it collected, request a human, settle it, record satisfaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.core.deps import Deps
from handoff_service.core.errors import Conflict
from handoff_service.core.principal import BOT_PRINCIPAL
from handoff_service.sla import service as sla
from handoff_service.sla.states import PENDING

from ._store import (
    EV,
    C,
    append_event,
    case_json,
    changed,
    iso,
    load_by_number,
    load_names,
    next_case_number,
    transition,
    update_case,
)
from .states import CLOSED, IN_QUEUE, OPEN, QUEUED, RESOLVED

INSERT_CASE = insert(C).returning(*C.c)


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
                    **sla.opening_dues(tier, now),
                    "sla_first_response": PENDING,
                    "sla_result": PENDING,
                    "sla_follow_up": PENDING,
                    "idempotency_key": key,
                },
            )
            row = res.one()
            await append_event(
                conn,
                row,
                at=now,
                actor_kind="bot",
                actor_id="bot",
                action="created",
                details={"channel": row.channel, "category": row.category, "tier": row.tier},
            )
            changed(conn, deps, row, created=True)
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
    return case_json(deps, row), True


async def _existing_case(deps: Deps, row: Any) -> dict[str, Any]:
    async with deps.read_engine.begin() as conn:
        await load_names(deps, conn, [row])
    return case_json(deps, row)


async def bot_timeline_entry(
    deps: Deps, number: str, action: str, details: dict[str, Any], key: str | None = None
) -> tuple[dict[str, Any], bool]:
    """Appends a bot step; returns (acknowledgement, created). A key already used on
    this case returns the original acknowledgement and adds nothing."""
    now = deps.clock.now()
    try:
        async with deps.tx() as conn:
            row = await load_by_number(conn, number)
            if key is not None:
                seen = (await conn.execute(SELECT_EVENT_BY_KEY, {"case_id": row.id, "key": key})).first()
                if seen is not None:
                    return {"case": number, "action": seen.action, "at": seen.at.isoformat()}, False
            await append_event(
                conn,
                row,
                at=now,
                actor_kind="bot",
                actor_id="bot",
                action=action,
                details=details,
                idempotency_key=key,
            )
    except IntegrityError:
        if key is None:
            raise
        async with deps.read_engine.begin() as conn:
            row = await load_by_number(conn, number)
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
        old = await load_by_number(conn, number)
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
                    code="tier_lowering_not_allowed",
                    tier=old.tier,
                )
            values.update(sla.retiered(new_tier, old))
        for name in ("category", "description", "language"):
            if name in changes:
                values[name] = data[name]
        if not changes:
            await load_names(deps, conn, [old])
            return case_json(deps, old)
        row = await update_case(conn, old, now, **values)
        await append_event(conn, row, at=now, actor_kind="bot", actor_id="bot", action="updated", details=changes)
        await load_names(deps, conn, [row])
        changed(conn, deps, row, queue=row.status in IN_QUEUE and "tier" in changes)
    return case_json(deps, row)


_RANK: BindParameter[Any] = bindparam("rank")
_DUE: BindParameter[Any] = bindparam("due", type_=C.c.first_response_due.type)
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
    async with deps.tx() as conn:
        old = await load_by_number(conn, number)
        extra: dict[str, Any] = {}
        if data.get("tier") and data["tier"] != old.tier:
            extra = sla.retiered(deps.sla.tier(data["tier"]), old)
        row = await transition(
            conn,
            old,
            "request_handoff",
            now,
            BOT_PRINCIPAL,
            details={"summary": data["summary"], **({"tier": data["tier"]} if extra else {})},
            summary=data["summary"],
            handoff_requested_at=now,
            **extra,
        )
        ahead = (
            await conn.execute(QUEUE_AHEAD, {"rank": row.tier_rank, "due": row.first_response_due, "case_id": row.id})
        ).scalar_one()
        changed(conn, deps, row, queue=True)
    return {
        "case": case_json(deps, row),
        "queue_position": ahead + 1,
        "agents_online": deps.hub.online_agents(),
        "first_response_due": iso(row.first_response_due),
    }


async def bot_resolve(deps: Deps, number: str, result: str) -> dict[str, Any]:
    now = deps.clock.now()
    async with deps.tx() as conn:
        old = await load_by_number(conn, number)
        tier = deps.sla.tier(old.tier)
        row = await transition(
            conn,
            old,
            "resolve",
            now,
            BOT_PRINCIPAL,
            details={"result": result},
            result=result,
            resolved_at=now,
            follow_up_due=sla.follow_up_due(tier, now),
            sla_first_response=sla.done_state(old.sla_first_response, now, old.first_response_due),
            sla_result=sla.done_state(old.sla_result, now, old.result_due),
            sla_follow_up=PENDING,
        )
        await load_names(deps, conn, [row])
        changed(conn, deps, row)
    return case_json(deps, row)


async def rate_in(conn: AsyncConnection, old: Any, now: datetime, data: dict[str, Any]) -> Any:
    """Keeps a satisfaction answer on a resolved (or closed) case, inside the caller's transaction,
    credited to its owner and last handler; once."""
    if old.status not in (RESOLVED, CLOSED):
        raise Conflict(
            f"case {old.number} is {old.status}; satisfaction is recorded after it is resolved",
            code="case_not_resolved",
        )
    if old.csat_overall is not None:
        raise Conflict(f"case {old.number} already has a satisfaction answer", code="csat_already_recorded")
    row = await update_case(
        conn,
        old,
        now,
        csat_overall=data["overall"],
        csat_attitude=data.get("attitude"),
        csat_speed=data.get("speed"),
        csat_solved=data.get("solved"),
        csat_comment=data.get("comment"),
        csat_at=now,
        csat_owner_id=old.owner_id,
        csat_handler_id=old.handler_id,
    )
    await append_event(conn, row, at=now, actor_kind="bot", actor_id="bot", action="csat_recorded", details=data)
    return row


async def record_csat(deps: Deps, number: str, data: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock.now()
    async with deps.tx() as conn:
        row = await rate_in(conn, await load_by_number(conn, number), now, data)
        await load_names(deps, conn, [row])
        changed(conn, deps, row)
    return case_json(deps, row)
