"""Reads of outage notices: the list, one notice with its updates and linked cases, and the notices
in force that the bot reads (optionally for one topic)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.cases.models import Case
from handoff_service.core.deps import Deps
from handoff_service.core.errors import NotFound
from handoff_service.core.orm import table_of

from . import states
from .models import OutageLink, OutageNotice, OutageUpdate

N = table_of(OutageNotice)
U = table_of(OutageUpdate)
L = table_of(OutageLink)
C = table_of(Case)
LIST_FILTERS = ("in_force", "resolved", "all")


def iso(v: Any) -> str | None:
    return v.isoformat() if v else None


async def load_notice(conn: AsyncConnection, notice_id: int) -> Any:
    row = (await conn.execute(select(N).where(N.c.id == notice_id))).first()
    if row is None:
        raise NotFound(f"outage notice {notice_id} does not exist", code="outage_not_found")
    return row


async def latest_updates(conn: AsyncConnection, notice_ids: Iterable[int]) -> dict[int, Any]:
    ids = list(notice_ids)
    if not ids:
        return {}
    last = select(func.max(U.c.id)).where(U.c.notice_id.in_(ids)).group_by(U.c.notice_id)
    rows = (await conn.execute(select(U).where(U.c.id.in_(last)))).all()
    return {r.notice_id: r for r in rows}


async def link_counts(conn: AsyncConnection, notice_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """notice id -> (linked cases, customers who reported it: distinct conversations)."""
    ids = list(notice_ids)
    if not ids:
        return {}
    q = (
        select(L.c.notice_id, func.count(L.c.id), func.count(func.distinct(L.c.conversation_id)))
        .where(L.c.notice_id.in_(ids))
        .group_by(L.c.notice_id)
    )
    return {r[0]: (int(r[1]), int(r[2])) for r in (await conn.execute(q)).all()}


def update_json(deps: Deps, u: Any) -> dict[str, Any]:
    return {
        "id": u.id,
        "at": iso(u.at),
        "author": deps.users.get(u.author_id),
        "status": u.status,
        "message": {"zh": u.message_zh, "en": u.message_en},
        "expected_recovery_at": iso(u.expected_recovery_at),
        "notified": u.notified,
        "details": u.details,
    }


def notice_json(deps: Deps, n: Any, latest: Any | None, counts: tuple[int, int] | None) -> dict[str, Any]:
    cases, reports = counts or (0, 0)
    review = None
    if n.status == states.RESOLVED:
        review = {"cause": n.review_cause, "fix": n.review_fix, "prevention": n.review_prevention}
    return {
        "id": n.id,
        "title": {"zh": n.title_zh, "en": n.title_en},
        "topics": list(n.topics),
        "status": n.status,
        "in_force": n.status in states.IN_FORCE,
        "expected_recovery_at": iso(n.expected_recovery_at),
        "created_at": iso(n.created_at),
        "created_by": deps.users.get(n.created_by),
        "updated_at": iso(n.updated_at),
        "resolved_at": iso(n.resolved_at),
        "latest": update_json(deps, latest) if latest is not None else None,
        "linked_cases": cases,
        "reports": reports,
        "review": review,
        "version": n.version,
    }


async def _notices_json(deps: Deps, conn: AsyncConnection, rows: list[Any]) -> list[dict[str, Any]]:
    ids = [r.id for r in rows]
    latest = await latest_updates(conn, ids)
    counts = await link_counts(conn, ids)
    await deps.users.load(conn, {r.created_by for r in rows} | {u.author_id for u in latest.values()})
    return [notice_json(deps, r, latest.get(r.id), counts.get(r.id)) for r in rows]


async def notice_in(deps: Deps, conn: AsyncConnection, notice_id: int) -> dict[str, Any]:
    """One notice as listed (inside the caller's transaction)."""
    return (await _notices_json(deps, conn, [await load_notice(conn, notice_id)]))[0]


async def list_notices(deps: Deps, *, which: str, limit: int) -> list[dict[str, Any]]:
    q = select(N).order_by(N.c.id.desc()).limit(limit)
    if which == "in_force":
        q = q.where(N.c.status.in_(states.IN_FORCE))
    elif which == "resolved":
        q = q.where(N.c.status == states.RESOLVED)
    async with deps.read_engine.begin() as conn:
        return await _notices_json(deps, conn, list((await conn.execute(q)).all()))


async def get_notice(deps: Deps, notice_id: int) -> dict[str, Any]:
    """A notice with all its updates (oldest first) and its linked cases."""
    async with deps.read_engine.begin() as conn:
        out = await notice_in(deps, conn, notice_id)
        updates = (await conn.execute(select(U).where(U.c.notice_id == notice_id).order_by(U.c.id))).all()
        links = (
            await conn.execute(
                select(
                    C.c.id,
                    C.c.number,
                    C.c.status,
                    C.c.language,
                    C.c.category,
                    L.c.linked_at,
                    L.c.linked_by,
                )
                .select_from(L.join(C, C.c.id == L.c.case_id))
                .where(L.c.notice_id == notice_id)
                .order_by(L.c.id)
            )
        ).all()
        await deps.users.load(conn, {u.author_id for u in updates})
    out["updates"] = [update_json(deps, u) for u in updates]
    out["cases"] = [
        {
            "id": r.id,
            "number": r.number,
            "status": r.status,
            "language": r.language,
            "category": r.category,
            "linked_at": iso(r.linked_at),
            "linked_by": r.linked_by,
        }
        for r in links
    ]
    return out


async def in_force(deps: Deps, topic: str | None) -> list[dict[str, Any]]:
    """The notices in force (newest first), those affecting `topic` when given: what the bot tells."""
    q = select(N).where(N.c.status.in_(states.IN_FORCE)).order_by(N.c.id.desc()).limit(20)
    async with deps.read_engine.begin() as conn:
        rows = [r for r in (await conn.execute(q)).all() if topic is None or topic in r.topics]
        latest = await latest_updates(conn, [r.id for r in rows])
        counts = await link_counts(conn, [r.id for r in rows])
    return [
        {
            "id": r.id,
            "title": {"zh": r.title_zh, "en": r.title_en},
            "topics": list(r.topics),
            "status": r.status,
            "status_label": states.STATUS_LABELS[r.status],
            "expected_recovery_at": iso(r.expected_recovery_at),
            "latest": {"zh": latest[r.id].message_zh, "en": latest[r.id].message_en, "at": iso(latest[r.id].at)}
            if r.id in latest
            else None,
            "reports": counts.get(r.id, (0, 0))[1],
        }
        for r in rows
    ]
