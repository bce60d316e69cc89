"""Outage notices' use cases: publish, update, resolve with a review, link a case, resolve the
linked cases together. One transaction each, audited with before and after.

Telling affected customers: an update that changes the status or the expected recovery time, and
always the resolution, queues one delivery-outbox row per conversation with an open linked case,
in the update's own transaction, with the idempotency key `outage_key(update, conversation)`. The
outbox's unique key makes a second row for the same (update, conversation) impossible, and its
worker never sends a key Rasa's tracker already holds: one message per customer per update."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.audit import service as audit
from handoff_service.cases import service as cases
from handoff_service.cases.states import ACTIVE
from handoff_service.core.bus import record
from handoff_service.core.deps import Deps
from handoff_service.core.errors import Conflict, NotFound, ValidationFailed
from handoff_service.core.principal import STAFF, Principal
from handoff_service.delivery import service as delivery
from handoff_service.delivery.states import OUTAGE_NOTICE

from . import states
from .events import OutageChanged
from .queries import C, L, N, U, load_notice, notice_in

# cases whose customer is told of a notice's progress
OPEN_CASES = ACTIVE
RESOLVABLE_CASES = ("open", "in_progress")  # cases.states: where "resolve" is allowed


def outage_key(update_id: int, conversation_id: str) -> str:
    """The outbox key of update `update_id` for one conversation: deterministic, so the database's unique
    index refuses a second message of the same update to the same customer."""
    return hashlib.sha256(f"outage-update:{update_id}:{conversation_id}".encode()).hexdigest()


def _when(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)


def _text(value: str) -> str:
    return value.strip()


def eta_text(eta: datetime | None, lang: str, zone: str) -> str:
    """The expected recovery time as a customer reads it, in the service zone."""
    if eta is None:
        return states.ETA_UNKNOWN[lang]
    local = eta.astimezone(ZoneInfo(zone))
    if lang == "en":
        return local.strftime("%d %b %Y, %H:%M").lstrip("0") + " (Beijing time)"
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def customer_message(notice: Any, upd: Any, lang: str, zone: str) -> str:
    """What a customer of language `lang` is sent for update `upd` (standard phrasing)."""
    lang = "en" if lang.startswith("en") else "zh"
    kind = "resolved" if upd.status == states.RESOLVED else "update"
    return states.MESSAGES[kind][lang].format(
        title=notice.title_en if lang == "en" else notice.title_zh,
        status=states.STATUS_LABELS[upd.status][lang],
        message=upd.message_en if lang == "en" else upd.message_zh,
        eta=eta_text(upd.expected_recovery_at, lang, zone),
    )


def message_steps(
    text: str, notice_id: int, update_id: int, case_number: str, link_hosts: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """A bot event with text only (Markdown made inert), as an agent's reply is sent."""
    event = {
        "event": "bot",
        "text": delivery.inert(text, link_hosts),
        "metadata": {"outage_notice": notice_id, "outage_update": update_id, "case": case_number},
    }
    return [{"type": "events", "events": [event]}]


async def _targets(conn: AsyncConnection, notice_id: int) -> list[Any]:
    """One open linked case per conversation (its oldest): who is told of the notice's progress."""
    rows = (
        await conn.execute(
            select(C)
            .select_from(L.join(C, C.c.id == L.c.case_id))
            .where(L.c.notice_id == notice_id, C.c.status.in_(OPEN_CASES))
            .order_by(C.c.id)
        )
    ).all()
    seen: dict[str, Any] = {}
    for r in rows:
        seen.setdefault(r.conversation_id, r)
    return list(seen.values())


async def fan_out_in(conn: AsyncConnection, deps: Deps, notice: Any, upd: Any, targets: list[Any]) -> int:
    """Queues the update's message for each target conversation that does not have it yet (so running it
    again adds nothing); returns how many were queued."""
    keys = {t.conversation_id: outage_key(upd.id, t.conversation_id) for t in targets}
    have = await delivery.queued_keys(conn, keys.values())
    now, zone, queued = deps.clock.now(), deps.settings.case_number_tz, 0
    for case in targets:
        key = keys[case.conversation_id]
        if key in have:
            continue
        text = customer_message(notice, upd, case.language, zone)
        steps = message_steps(text, notice.id, upd.id, case.number, deps.settings.link_hosts)
        await delivery.queue_delivery(conn, deps.settings, case=case, kind=OUTAGE_NOTICE, steps=steps, now=now, key=key)
        queued += 1
    return queued


async def fan_out(deps: Deps, update_id: int) -> int:
    """Runs an update's fan-out again (repair, tests): customers who have it are not sent it twice."""
    async with deps.tx() as conn:
        upd = (await conn.execute(select(U).where(U.c.id == update_id))).first()
        if upd is None:
            raise NotFound(f"outage update {update_id} does not exist", code="outage_update_not_found")
        notice = await load_notice(conn, upd.notice_id)
        return await fan_out_in(conn, deps, notice, upd, await _targets(conn, notice.id))


async def _done(
    conn: AsyncConnection, p: Principal, now: datetime, action: str, notice_id: int, details: dict[str, Any], what: str
) -> None:
    """A staff member's change is audited (outage.<action>, before and after); the console hears of it."""
    if p.kind == STAFF:
        await audit.record(
            conn, at=now, actor=p, action=f"outage.{action}", target_type="outage", target_id=notice_id, details=details
        )
    record(conn, OutageChanged(notice_id, what))


def _snapshot(n: Any) -> dict[str, Any]:
    return {
        "status": n.status,
        "expected_recovery_at": n.expected_recovery_at.isoformat() if n.expected_recovery_at else None,
        "title": {"zh": n.title_zh, "en": n.title_en},
        "topics": list(n.topics),
        "version": n.version,
    }


async def _append(
    conn: AsyncConnection,
    deps: Deps,
    p: Principal,
    notice: Any,
    *,
    status: str,
    messages: Mapping[str, str],
    eta: datetime | None,
    now: datetime,
    details: dict[str, Any],
) -> tuple[Any, int]:
    """Adds an update (and its customers' messages when it says something new to them)."""
    tell = status == states.RESOLVED or bool(set(details) & set(states.NOTIFY_ON))
    targets = await _targets(conn, notice.id) if tell else []
    upd = (
        await conn.execute(
            insert(U).returning(*U.c),
            {
                "notice_id": notice.id,
                "at": now,
                "author_id": p.user_id,
                "status": status,
                "message_zh": messages["zh"],
                "message_en": messages["en"],
                "expected_recovery_at": eta,
                "notified": len(targets),
                "details": details,
            },
        )
    ).one()
    queued = await fan_out_in(conn, deps, notice, upd, targets) if targets else 0
    return upd, queued


async def publish(deps: Deps, p: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """A new notice, in force, with its first update (the publication)."""
    topics = list(dict.fromkeys(data["topics"]))
    status = data.get("status") or states.INVESTIGATING
    if status not in states.IN_FORCE:
        raise ValidationFailed("a notice is published investigating, identified or monitoring", code="invalid_field")
    eta = _when(data.get("expected_recovery_at"))
    now = deps.clock.now()
    async with deps.tx() as conn:
        notice = (
            await conn.execute(
                insert(N).returning(*N.c),
                {
                    "title_zh": _text(data["title"]["zh"]),
                    "title_en": _text(data["title"]["en"]),
                    "topics": topics,
                    "status": status,
                    "expected_recovery_at": eta,
                    "created_at": now,
                    "created_by": p.user_id,
                    "updated_at": now,
                    "version": 1,
                },
            )
        ).one()
        messages = {k: _text(v) for k, v in data["message"].items()}
        await _append(conn, deps, p, notice, status=status, messages=messages, eta=eta, now=now, details={})
        out = await notice_in(deps, conn, notice.id)
        await _done(conn, p, now, "publish", notice.id, {"before": None, "after": _snapshot(notice)}, "published")
    return out


async def _change(conn: AsyncConnection, old: Any, now: datetime, version: int | None, **values: Any) -> Any:
    if version is not None and version != old.version:
        raise Conflict(f"outage notice {old.id} was changed meanwhile; reload and retry", code="concurrent_change")
    row = (
        await conn.execute(
            update(N)
            .where(N.c.id == old.id, N.c.version == old.version)
            .values(updated_at=now, version=old.version + 1, **values)
            .returning(*N.c)
        )
    ).first()
    if row is None:
        raise Conflict(f"outage notice {old.id} was changed meanwhile; reload and retry", code="concurrent_change")
    return row


def _differences(old: Any, status: str, eta: datetime | None) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if status != old.status:
        details["status"] = {"from": old.status, "to": status}
    if eta != old.expected_recovery_at:
        details["expected_recovery_at"] = {
            "from": old.expected_recovery_at.isoformat() if old.expected_recovery_at else None,
            "to": eta.isoformat() if eta else None,
        }
    return details


async def add_update(deps: Deps, p: Principal, notice_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """An update of a notice in force: progress, maybe a new status (states.TRANSITIONS) or a new expected
    recovery time (absent: unchanged; null: not known). Customers with an open linked case are told when the
    status or the recovery time changed."""
    now = deps.clock.now()
    async with deps.tx() as conn:
        old = await load_notice(conn, notice_id)
        status = data.get("status") or old.status
        allowed = states.TRANSITIONS[old.status]
        if status not in allowed:
            where = "; allowed: " + ", ".join(allowed) if allowed else "; the notice is resolved"
            extra = " (resolve it with POST /api/outages/{id}/resolve)" if status == states.RESOLVED else ""
            raise Conflict(
                f"cannot go from {old.status} to {status}{where}{extra}",
                code="invalid_transition",
                status=old.status,
                allowed=list(allowed),
            )
        eta = _when(data["expected_recovery_at"]) if "expected_recovery_at" in data else old.expected_recovery_at
        details = _differences(old, status, eta)
        row = await _change(conn, old, now, data.get("version"), status=status, expected_recovery_at=eta)
        messages = {k: _text(v) for k, v in data["message"].items()}
        upd, queued = await _append(
            conn, deps, p, row, status=status, messages=messages, eta=eta, now=now, details=details
        )
        out = await notice_in(deps, conn, notice_id)
        await _done(
            conn,
            p,
            now,
            "update",
            notice_id,
            {"before": _snapshot(old), "after": _snapshot(row), "update": upd.id, "notified": queued},
            "updated",
        )
    return out


async def resolve(deps: Deps, p: Principal, notice_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Service is back: the last update (always sent to the customers of open linked cases) and the short
    review (cause, fix, prevention) kept with the notice."""
    now = deps.clock.now()
    review = {k: _text(data["review"][k]) for k in ("cause", "fix", "prevention")}
    async with deps.tx() as conn:
        old = await load_notice(conn, notice_id)
        if old.status not in states.RESOLVABLE:
            raise Conflict(
                f"outage notice {notice_id} is already resolved", code="invalid_transition", status=old.status
            )
        details = {"status": {"from": old.status, "to": states.RESOLVED}}
        row = await _change(
            conn,
            old,
            now,
            data.get("version"),
            status=states.RESOLVED,
            resolved_at=now,
            review_cause=review["cause"],
            review_fix=review["fix"],
            review_prevention=review["prevention"],
        )
        messages = {k: _text(v) for k, v in data["message"].items()}
        eta = old.expected_recovery_at
        upd, queued = await _append(
            conn, deps, p, row, status=states.RESOLVED, messages=messages, eta=eta, now=now, details=details
        )
        out = await notice_in(deps, conn, notice_id)
        await _done(
            conn,
            p,
            now,
            "resolve",
            notice_id,
            {
                "before": _snapshot(old),
                "after": {**_snapshot(row), "review": review},
                "update": upd.id,
                "notified": queued,
            },
            "resolved",
        )
    return out


async def link_case(
    deps: Deps, p: Principal, notice_id: int, number: str, conversation_id: str | None = None
) -> tuple[dict[str, Any], bool]:
    """Links the case `number` to a notice in force: its customer reported the outage and will hear of its
    progress. Returns (notice, created); linking again changes nothing. The bot names the conversation
    asking: a case of another conversation is 404, like one that does not exist."""
    now = deps.clock.now()
    try:
        async with deps.tx() as conn:
            notice = await load_notice(conn, notice_id)
            case = await cases.load_by_number(conn, number)
            if conversation_id is not None and case.conversation_id != conversation_id:
                raise NotFound(f"case {number} does not exist", code="case_not_found")
            seen = (
                await conn.execute(select(L.c.id).where(L.c.notice_id == notice_id, L.c.case_id == case.id))
            ).first()
            if seen is not None:
                return await notice_in(deps, conn, notice_id), False
            if notice.status not in states.IN_FORCE:
                raise Conflict(f"outage notice {notice_id} is resolved", code="outage_resolved")
            await conn.execute(
                insert(L),
                {
                    "notice_id": notice_id,
                    "case_id": case.id,
                    "conversation_id": case.conversation_id,
                    "linked_at": now,
                    "linked_by": p.actor_id,
                },
            )
            await _done(conn, p, now, "link_case", notice_id, {"before": None, "after": {"case": number}}, "linked")
            out = await notice_in(deps, conn, notice_id)
    except IntegrityError:
        # a concurrent link of the same case won the unique index: it is linked
        async with deps.read_engine.begin() as conn:
            return await notice_in(deps, conn, notice_id), False
    return out, True


async def resolve_cases(deps: Deps, p: Principal, notice_id: int, result: str) -> dict[str, Any]:
    """Resolves together, in one transaction, the linked cases that may be resolved now (bot-handled or in
    progress; each gets its follow-up deadline and the survey, like any resolved case); cases waiting in a
    queue, and those already resolved or closed, are listed as skipped."""
    now = deps.clock.now()
    result = result.strip()
    async with deps.tx() as conn:
        await load_notice(conn, notice_id)
        rows = (
            await conn.execute(
                select(C)
                .select_from(L.join(C, C.c.id == L.c.case_id))
                .where(L.c.notice_id == notice_id)
                .order_by(C.c.id)
            )
        ).all()
        resolved, skipped = [], []
        for old in rows:
            if old.status in RESOLVABLE_CASES:
                row = await cases.resolve_in(conn, deps, p, old, result, now)
                resolved.append(row.number)
            else:
                skipped.append({"number": old.number, "status": old.status})
        before = {"statuses": {r.number: r.status for r in rows}}
        details = {"before": before, "after": {"resolved": resolved}}
        await _done(conn, p, now, "resolve_cases", notice_id, details, "cases_resolved")
    return {"resolved": resolved, "skipped": skipped}
