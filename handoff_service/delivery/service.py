"""The outbox: rows created inside a use case's transaction, handed to the worker after commit.

A new row is created already claimed (attempt 1 leased to this process), so the
worker can send it right after the commit without another transaction. If the
process dies first, another one takes the row over when the lease expires, and
since attempts > 0 it checks Rasa's tracker before sending (see scheduled.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.core.bus import record
from handoff_service.core.config import Settings
from handoff_service.core.orm import table_of

from .events import DeliveryQueued, DeliveryRetried
from .models import Claim, Delivery
from .states import FAILED, PENDING

D = table_of(Delivery)
INSERT_DELIVERY = insert(D).returning(D.c.id)


def lease_seconds(settings: Settings) -> float:
    # one attempt = at most a tracker read and a send, each bounded by the timeout
    return settings.delivery_timeout_seconds * 2 + 1


def step_key(key: str, i: int) -> str:
    """Idempotency key of step i of a delivery (sent in the event's metadata)."""
    return key if i == 0 else f"{key}:{i}"


async def queue_delivery(
    conn: AsyncConnection,
    settings: Settings,
    *,
    case: Any,
    kind: str,
    steps: list[dict[str, Any]],
    now: datetime,
    key: str | None = None,
) -> Claim:
    """Adds an outbox row for `case`; after commit the worker attempts it at once."""
    key = key or uuid.uuid4().hex
    payload: dict[str, Any] = {"steps": steps, "done": 0}
    lease = datetime.now(timezone.utc) + timedelta(seconds=lease_seconds(settings))
    res = await conn.execute(
        INSERT_DELIVERY,
        {
            "case_id": case.id,
            "kind": kind,
            "conversation_id": case.conversation_id,
            "idempotency_key": key,
            "payload": payload,
            "status": PENDING,
            "attempts": 1,
            "next_attempt_at": lease,
            "created_at": now,
        },
    )
    claim = Claim(
        id=res.scalar_one(),
        case_id=case.id,
        kind=kind,
        conversation_id=case.conversation_id,
        idempotency_key=key,
        payload=payload,
        attempts=1,
        audience=(case.owner_id, case.handler_id),
    )
    record(conn, DeliveryQueued(claim))
    return claim


async def queued_keys(conn: AsyncConnection, keys: Collection[str]) -> set[str]:
    """Those of `keys` that already have an outbox row (a use case queuing with deterministic keys skips them)."""
    have: set[str] = set()
    wanted = list(keys)
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        have |= set((await conn.execute(select(D.c.idempotency_key).where(D.c.idempotency_key.in_(chunk)))).scalars())
    return have


async def retry_failed(conn: AsyncConnection, delivery_id: int) -> bool:
    """Puts a failed row back to pending (same idempotency key, so no duplicate);
    False if it is not failed."""
    res = await conn.execute(
        update(D)
        .where(D.c.id == delivery_id, D.c.status == FAILED)
        .values(status=PENDING, next_attempt_at=None, last_error=None)
    )
    if res.rowcount != 1:
        return False
    record(conn, DeliveryRetried(delivery_id))
    return True


# ---------------------------------------------------------------- the steps of each kind


def end_handoff_steps(case_number: str) -> list[dict[str, Any]]:
    """The bot takes the conversation back and tells the customer (EXTERNAL_handoff_resolved)."""
    return [
        {"type": "events", "events": [{"event": "slot", "name": "handoff_active", "value": False}]},
        {"type": "intent", "name": "EXTERNAL_handoff_resolved", "entities": {"case_number": case_number}},
    ]


def resume_handoff_steps() -> list[dict[str, Any]]:
    """The customer's messages go to the agent again."""
    return [{"type": "events", "events": [{"event": "slot", "name": "handoff_active", "value": True}]}]


# The chat widget renders Markdown (and links bare http(s):// and mailto: addresses): these
# become their full-width forms in what reaches the customer, so a pasted `[text](url)`,
# `<url>`, `**x**` or backticks cannot be a link or markup, and the colon of a link's scheme
# becomes full-width unless its host is one the shop allows (HANDOFF_LINK_HOSTS). The same rule
# as bot/nlg.py's for values filled into the bot's responses.
INERT_MARKDOWN = str.maketrans({"[": "［", "]": "］", "*": "＊", "`": "｀", "<": "＜", ">": "＞"})
LINK = re.compile(r"(?i)\b(https?|mailto|ftp|file)(:)(//[^\s/?#]*)?")


def inert(text: str, link_hosts: Collection[str] = ()) -> str:
    """Text that shows as written in the widget: no markup, links only to `link_hosts`."""

    def scheme(match: re.Match[str]) -> str:
        authority = (match.group(3) or "")[2:]
        host = authority.rsplit("@", 1)[-1].split(":", 1)[0].lower()
        if host and host in link_hosts:
            return match.group(0)
        return match.group(1) + "：" + (match.group(3) or "")

    return LINK.sub(scheme, text.translate(INERT_MARKDOWN))


def reply_steps(
    text: str, *, agent: str | None, case_number: str, key: str, link_hosts: Collection[str] = ()
) -> list[dict[str, Any]]:
    """An agent's reply, shown to the customer as a bot message (Markdown made inert)."""
    text = inert(text, link_hosts)
    return [
        {
            "type": "events",
            "events": [
                {
                    "event": "bot",
                    "text": text,
                    "metadata": {"agent": agent, "case": case_number, "idempotency_key": key},
                }
            ],
        }
    ]
