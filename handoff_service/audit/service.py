"""Audit log of staff actions (合规检查台账): one row per action, append-only."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, insert, select
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


async def record_case_action(
    conn: AsyncConnection,
    *,
    at: datetime,
    actor: Principal,
    action: str,
    case_number: str,
    details: dict[str, Any] | None = None,
) -> None:
    """A staff action on a case (`case.<action>`), inside the use case's transaction."""
    await record(
        conn, at=at, actor=actor, action=f"case.{action}", target_type="case", target_id=case_number, details=details
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


@dataclass(frozen=True)
class Filters:
    """What a supervisor narrows the log to (the list, its pages and the CSV export take the same)."""

    actor: str | None = None  # username
    action: str | None = None  # exact, or a prefix ending in "." (case.)
    outcome: str | None = None  # ok | denied
    target: str | None = None  # a case number, a request path…
    since: datetime | None = None
    until: datetime | None = None  # exclusive


def _where(q: Select[Any], f: Filters) -> Select[Any]:
    if f.actor is not None:
        q = q.where(T.c.actor_name == f.actor)
    if f.action is not None:
        q = q.where(
            T.c.action.startswith(f.action, autoescape=True) if f.action.endswith(".") else T.c.action == f.action
        )
    if f.outcome is not None:
        q = q.where(T.c.outcome == f.outcome)
    if f.target is not None:
        q = q.where(T.c.target_id == f.target)
    if f.since is not None:
        q = q.where(T.c.at >= f.since)
    if f.until is not None:
        q = q.where(T.c.at < f.until)
    return q


def entry_json(r: Any) -> dict[str, Any]:
    return {
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


async def list_entries(
    deps: Deps, *, limit: int, before_id: int | None, filters: Filters = Filters()
) -> list[dict[str, Any]]:
    """Newest first; the next page is `before_id` = the last id of this one."""
    q = _where(select(T).order_by(T.c.id.desc()).limit(limit), filters)
    if before_id is not None:
        q = q.where(T.c.id < before_id)
    async with deps.read_engine.begin() as conn:
        rows = (await conn.execute(q)).all()
    return [entry_json(r) for r in rows]


EXPORT_HEADER = ("id", "at", "actor_kind", "actor", "action", "outcome", "target_type", "target_id", "ip", "details")


async def export(deps: Deps, p: Principal, filters: Filters, limit: int) -> list[tuple[Any, ...]]:
    """The rows of a CSV export, newest first; the export itself is audited (with its filters)."""
    q = _where(select(T).order_by(T.c.id.desc()).limit(limit), filters)
    async with deps.tx() as conn:
        rows = (await conn.execute(q)).all()
        wanted = {
            k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(filters).items() if v is not None
        }
        await record(
            conn, at=deps.clock.now(), actor=p, action="audit.export", details={"filters": wanted, "rows": len(rows)}
        )
    return [
        (
            r.id,
            r.at,
            r.actor_kind,
            r.actor_name,
            r.action,
            r.outcome,
            r.target_type,
            r.target_id,
            r.ip,
            json.dumps(r.details, ensure_ascii=False, sort_keys=True, default=str),
        )
        for r in rows
    ]
