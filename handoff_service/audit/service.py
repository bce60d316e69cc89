"""Audit log of staff actions (合规检查台账): one row per action, append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.core.deps import Deps
from handoff_service.core.orm import table_of
from handoff_service.core.principal import STAFF, Principal

from .models import AuditEntry

T = table_of(AuditEntry)
INSERT = insert(T)


async def record(
    conn: AsyncConnection,
    *,
    at: datetime,
    actor: Principal | None,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    outcome: str = "ok",
    details: dict[str, Any] | None = None,
    actor_kind: str | None = None,
    ip: str | None = None,
) -> None:
    await conn.execute(
        INSERT,
        {
            "at": at,
            "actor_kind": actor_kind or (STAFF if actor and actor.kind == STAFF else "anonymous"),
            "actor_id": actor.user_id if actor else None,
            "actor_name": actor.username if actor else None,
            "action": action,
            "outcome": outcome,
            "target_type": target_type,
            "target_id": None if target_id is None else str(target_id),
            "ip": ip or (actor.ip if actor else None),
            "details": details or {},
        },
    )


async def record_denied(deps: Deps, actor: Principal, action: str, code: str, target: str | None) -> None:
    """A refused staff action, in its own transaction (the use case rolled back)."""
    async with deps.tx() as conn:
        await record(
            conn,
            at=deps.clock.now(),
            actor=actor,
            action=action,
            target_type="request",
            target_id=target,
            outcome="denied",
            details={"code": code},
        )


async def list_entries(
    deps: Deps, *, limit: int, before_id: int | None, actor: str | None, action: str | None
) -> list[dict[str, Any]]:
    q = select(T).order_by(T.c.id.desc()).limit(limit)
    if before_id is not None:
        q = q.where(T.c.id < before_id)
    if actor is not None:
        q = q.where(T.c.actor_name == actor)
    if action is not None:
        q = q.where(T.c.action == action)
    async with deps.read_engine.begin() as conn:
        rows = (await conn.execute(q)).all()
    return [
        {
            "id": r.id,
            "at": r.at.isoformat(),
            "actor_kind": r.actor_kind,
            "actor_id": r.actor_id,
            "actor": r.actor_name,
            "action": r.action,
            "outcome": r.outcome,
            "target_type": r.target_type,
            "target_id": r.target_id,
            "ip": r.ip,
            "details": r.details,
        }
        for r in rows
    ]
