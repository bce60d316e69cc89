"""Conversation messages: customer messages relayed by the bot, agent replies
(delivered to the customer through Rasa by the delivery worker)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.audit import service as audit
from handoff_service.cases import policy
from handoff_service.cases.models import Case
from handoff_service.cases.queries import load_readable
from handoff_service.cases.service import load, load_by_number
from handoff_service.cases.states import CLOSED, IN_PROGRESS
from handoff_service.core.bus import record
from handoff_service.core.deps import Deps
from handoff_service.core.errors import Conflict, Forbidden, NotFound
from handoff_service.core.orm import table_of
from handoff_service.core.principal import Principal
from handoff_service.delivery import service as delivery
from handoff_service.delivery.models import Delivery
from handoff_service.delivery.states import REPLY

from .events import MessageAdded
from .models import Message

M = table_of(Message)
C = table_of(Case)
D = table_of(Delivery)
CUSTOMER = "customer"  # message directions
AGENT = "agent"


def delivery_json(d: Any) -> dict[str, Any] | None:
    if d is None or d.d_id is None:
        return None
    return {
        "id": d.d_id,
        "status": d.d_status,
        "attempts": d.d_attempts,
        "last_error": d.d_last_error,
        "idempotency_key": d.d_key,
        "delivered_at": d.d_delivered_at.isoformat() if d.d_delivered_at else None,
    }


def message_json(deps: Deps, r: Any, number: str) -> dict[str, Any]:
    return {
        "id": r.id,
        "case": number,
        "conversation_id": r.conversation_id,
        "direction": r.direction,
        "author": deps.users.get(r.author_id),
        "text": r.text,
        "metadata": r.meta,
        "created_at": r.created_at.isoformat(),
        "delivery": delivery_json(r),
    }


_COLS = (
    *M.c,
    D.c.id.label("d_id"),
    D.c.status.label("d_status"),
    D.c.attempts.label("d_attempts"),
    D.c.last_error.label("d_last_error"),
    D.c.idempotency_key.label("d_key"),
    D.c.delivered_at.label("d_delivered_at"),
)


SELECT_MESSAGE = select(*_COLS).select_from(M.outerjoin(D, M.c.delivery_id == D.c.id)).where(M.c.id == bindparam("mid"))
INSERT_MESSAGE = insert(M).returning(M.c.id)


async def _message(conn: AsyncConnection, message_id: int) -> Any:
    return (await conn.execute(SELECT_MESSAGE, {"mid": message_id})).one()


async def relay_customer_message(deps: Deps, number: str, text: str, metadata: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock.now()
    async with deps.tx() as conn:
        case = await load_by_number(conn, number)
        if case.status == CLOSED:
            raise Conflict(f"case {number} is closed", code="case_closed")
        res = await conn.execute(
            INSERT_MESSAGE,
            {
                "case_id": case.id,
                "conversation_id": case.conversation_id,
                "direction": CUSTOMER,
                "author_id": None,
                "text": text,
                "meta": metadata,
                "delivery_id": None,
                "created_at": now,
            },
        )
        msg = await _message(conn, res.scalar_one())
        out = message_json(deps, msg, number)
        record(conn, MessageAdded(case_id=case.id, owner_id=case.owner_id, handler_id=case.handler_id, message=out))
    return out


async def agent_reply(deps: Deps, p: Principal, case_id: int, text: str) -> dict[str, Any]:
    """Stores the reply and its delivery (same transaction), then hands it to the worker."""
    now = deps.clock.now()
    key = uuid.uuid4().hex
    async with deps.tx() as conn:
        case = await load(conn, case_id)
        if case.status != IN_PROGRESS or not policy.may(p, case, "reply"):
            raise Forbidden(
                f"you are not the current handler of case {case.number}; only the handler may reply",
                code="not_case_handler",
            )
        await deps.users.load(conn, {p.user_id})
        steps = delivery.reply_steps(
            text, agent=p.username, case_number=case.number, key=key, link_hosts=deps.settings.link_hosts
        )
        claim = await delivery.queue_delivery(conn, deps.settings, case=case, kind=REPLY, steps=steps, now=now, key=key)
        res = await conn.execute(
            INSERT_MESSAGE,
            {
                "case_id": case.id,
                "conversation_id": case.conversation_id,
                "direction": AGENT,
                "author_id": p.user_id,
                "text": text,
                "meta": {},
                "delivery_id": claim.id,
                "created_at": now,
            },
        )
        msg = await _message(conn, res.scalar_one())
        claim.message_id = msg.id
        await audit.record_case_action(
            conn,
            at=now,
            actor=p,
            action="reply",
            case_number=case.number,
            details={"message_id": msg.id, "idempotency_key": key},
        )
        out = message_json(deps, msg, case.number)
        record(conn, MessageAdded(case_id=case.id, owner_id=case.owner_id, handler_id=case.handler_id, message=out))
    return out


async def list_messages(
    deps: Deps, p: Principal, case_id: int, *, after_id: int | None, limit: int
) -> list[dict[str, Any]]:
    async with deps.read_engine.begin() as conn:
        case = await load_readable(conn, p, case_id)
        return await case_messages(deps, conn, case, after_id=after_id, limit=limit)


async def case_messages(
    deps: Deps, conn: AsyncConnection, case: Any, *, after_id: int | None, limit: int
) -> list[dict[str, Any]]:
    """The messages of a case already loaded (and checked) by the caller, in order."""
    q = (
        select(*_COLS)
        .select_from(M.outerjoin(D, M.c.delivery_id == D.c.id))
        .where(M.c.case_id == case.id)
        .order_by(M.c.id)
        .limit(limit)
    )
    if after_id is not None:
        q = q.where(M.c.id > after_id)
    rows = (await conn.execute(q)).all()
    await deps.users.load(conn, {r.author_id for r in rows})
    return [message_json(deps, r, case.number) for r in rows]


async def retry_delivery(deps: Deps, p: Principal, case_id: int, message_id: int) -> dict[str, Any]:
    """Puts a failed reply back in the outbox (same idempotency key, so no duplicate)."""
    now = deps.clock.now()
    async with deps.tx() as conn:
        case = await load(conn, case_id)
        msg = (await conn.execute(select(M).where(M.c.id == message_id, M.c.case_id == case_id))).first()
        if msg is None or msg.delivery_id is None:
            raise NotFound(f"case {case.number} has no agent reply {message_id}", code="message_not_found")
        if case.handler_id != p.user_id and not p.is_supervisor:
            raise Forbidden(f"you are not the current handler of case {case.number}", code="not_case_handler")
        if not await delivery.retry_failed(conn, msg.delivery_id):
            raise Conflict("only a failed delivery can be retried", code="delivery_not_failed")
        await audit.record_case_action(
            conn, at=now, actor=p, action="retry_delivery", case_number=case.number, details={"message_id": message_id}
        )
        out = await _message(conn, message_id)
        await deps.users.load(conn, {out.author_id})
    return message_json(deps, out, case.number)


async def delivery_audience(deps: Deps, delivery_id: int) -> tuple[tuple[int | None, int | None], int | None] | None:
    """((owner, handler) of the delivery's case, id of the reply it carries), or None if it is gone."""
    async with deps.read_engine.begin() as conn:
        r = (
            await conn.execute(
                select(C.c.owner_id, C.c.handler_id, M.c.id.label("message_id"))
                .select_from(D.join(C, D.c.case_id == C.c.id).outerjoin(M, M.c.delivery_id == D.c.id))
                .where(D.c.id == delivery_id)
            )
        ).first()
    return None if r is None else ((r.owner_id, r.handler_id), r.message_id)
