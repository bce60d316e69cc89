"""Rows of the delivery outbox, created inside a use case's transaction.

A new row is created already claimed (attempt 1 leased to this process), so the
worker can send it right after the commit without another transaction. If the
process dies first, another one takes the row over when the lease expires, and
since attempts > 0 it checks Rasa's tracker before sending (see delivery.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from .config import Settings
from .models import Delivery

D = Delivery.__table__
INSERT_DELIVERY = insert(D).returning(D.c.id)


@dataclass
class Claim:
    """A delivery this process may attempt now."""

    id: int
    case_id: int
    kind: str
    conversation_id: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int
    audience: set[int | None] | None = None  # staff to notify; None = look it up
    message_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def lease_seconds(settings: Settings) -> float:
    # one attempt = at most a tracker read and a send, each bounded by the timeout
    return settings.delivery_timeout_seconds * 2 + 1


async def new_delivery(
    conn: AsyncConnection,
    settings: Settings,
    *,
    case: Any,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    key: str | None = None,
) -> Claim:
    key = key or uuid.uuid4().hex
    lease = datetime.now(timezone.utc) + timedelta(seconds=lease_seconds(settings))
    res = await conn.execute(
        INSERT_DELIVERY,
        {
            "case_id": case.id, "kind": kind, "conversation_id": case.conversation_id, "idempotency_key": key,
            "payload": payload, "status": "pending", "attempts": 1, "next_attempt_at": lease, "created_at": now,
        },
    )
    return Claim(
        id=res.scalar_one(), case_id=case.id, kind=kind, conversation_id=case.conversation_id,
        idempotency_key=key, payload=payload, attempts=1, audience={case.owner_id, case.handler_id},
    )
