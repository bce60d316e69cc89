"""Reads of the review list: the list itself, its export, the trainers' figures, an item's
context in its conversation and the intents a message may be labelled with."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.cases import queries as cases
from handoff_service.core.deps import Deps
from handoff_service.core.errors import NotFound
from handoff_service.core.orm import table_of
from handoff_service.core.pii import mask
from handoff_service.core.principal import Principal
from handoff_service.rasa.client import RasaClient, RasaError

from . import states
from .models import ReviewFeed, ReviewItem, ReviewOccurrence, ReviewTraffic
from .records import mapping

ITEMS = table_of(ReviewItem)
OCCURRENCES = table_of(ReviewOccurrence)
FEED = table_of(ReviewFeed)
TRAFFIC = table_of(ReviewTraffic)
CONTEXT_TURNS = 5  # before and after the message, in the review view
MAX_TEXT = 4000


async def feed_position(deps: Deps, name: str) -> str | None:
    """How far the importer `name` has read (review/scheduled.py); None before its first page."""
    async with deps.read_engine.begin() as conn:
        return (await conn.execute(select(FEED.c.position).where(FEED.c.name == name))).scalar_one_or_none()


def item_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "text": row.text,
        "language": row.language,
        "script": row.script,
        "status": row.status,
        "reasons": list(row.reasons),
        "intents": list(row.intents),
        "top_intent": row.top_intent,
        "top_confidence": row.top_confidence,
        "channel": row.channel,
        "count": row.count,
        "first_seen_at": row.first_seen_at.isoformat(),
        "last_seen_at": row.last_seen_at.isoformat(),
        "label": row.label,
        "comment": row.comment,
        "reviewed_at": row.reviewed_at.isoformat() if row.reviewed_at else None,
        "suggested_label": row.suggested_label,
    }


async def load_item(conn: AsyncConnection, item_id: int) -> Any:
    row = (await conn.execute(select(ITEMS).where(ITEMS.c.id == item_id))).first()
    if row is None:
        raise NotFound(f"review item {item_id} does not exist", code="review_item_not_found")
    return row


@dataclass(frozen=True)
class Filters:
    """What a trainer narrows the review list to (None: any)."""

    statuses: tuple[str, ...] = states.LISTED
    reason: str | None = None
    intent: str | None = None  # the top predicted intent
    language: str | None = None
    channel: str | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None
    since: datetime | None = None  # last seen at or after
    until: datetime | None = None  # last seen before


async def list_items(deps: Deps, f: Filters, *, limit: int, offset: int = 0) -> dict[str, Any]:
    """The review list, most pressing first (count x recency, `rank`)."""
    where: list[ColumnElement[bool]] = [ITEMS.c.status.in_(f.statuses)]
    if f.reason is not None:
        where.append(ITEMS.c.reason_bits.op("&")(states.REASON_BITS[f.reason]) != 0)
    for column, value in ((ITEMS.c.top_intent, f.intent), (ITEMS.c.language, f.language), (ITEMS.c.channel, f.channel)):
        if value is not None:
            where.append(column == value)
    if f.min_confidence is not None:
        where.append(ITEMS.c.top_confidence >= f.min_confidence)
    if f.max_confidence is not None:
        where.append(ITEMS.c.top_confidence <= f.max_confidence)
    if f.since is not None:
        where.append(ITEMS.c.last_seen_at >= f.since)
    if f.until is not None:
        where.append(ITEMS.c.last_seen_at < f.until)
    query = select(ITEMS).where(*where).order_by(ITEMS.c.rank.desc(), ITEMS.c.id.desc())
    async with deps.read_engine.begin() as conn:
        rows = (await conn.execute(query.limit(limit).offset(offset))).all()
    return {"items": [item_json(r) for r in rows], "limit": limit, "offset": offset}


EXPORTED = (states.LABELLED, states.APPLIED, states.IGNORED)


async def export_items(deps: Deps, statuses: tuple[str, ...], *, limit: int, after_id: int = 0) -> dict[str, Any]:
    """Reviewed items in the trainers' item format (bot/training/items.py), oldest first, a page at
    a time (`after_id`): what `python -m bot.training export --from <this service>` fetches."""
    query = (
        select(ITEMS)
        .where(ITEMS.c.status.in_(statuses), ITEMS.c.id > after_id, ITEMS.c.language.in_(("zh", "en")))
        .order_by(ITEMS.c.id)
        .limit(limit)
    )
    async with deps.read_engine.begin() as conn:
        rows = (await conn.execute(query)).all()
        await deps.users.load(conn, {r.reviewed_by for r in rows})
    items = [
        {
            "id": f"r-{r.id}",
            "text": r.text,
            "language": r.language,
            "label": r.label or "",
            "status": r.status,
            "count": r.count,
            "labelled_by": deps.users.username(r.reviewed_by) or "?",
            "labelled_at": (r.reviewed_at or r.last_seen_at).isoformat(),
        }
        for r in rows
        if r.status == states.IGNORED or r.label
    ]
    return {"items": items, "next_after_id": rows[-1].id if len(rows) == limit else None}


async def kpis(deps: Deps, *, days: int) -> dict[str, Any]:
    """The trainers' figures: the backlog now, and over the last `days` days (service zone) the
    items reviewed per day and the median hours from an item's first message to its review."""
    zone = ZoneInfo(deps.settings.case_number_tz)
    now = deps.clock.now()
    today = now.astimezone(zone).date()
    start = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), zone)
    async with deps.read_engine.begin() as conn:
        counted = await conn.execute(select(ITEMS.c.status, func.count()).group_by(ITEMS.c.status))
        by_status: dict[str, int] = {status: int(n) for status, n in counted.all()}
        reviewed = (
            await conn.execute(
                select(ITEMS.c.first_seen_at, ITEMS.c.reviewed_at).where(
                    ITEMS.c.reviewed_at >= start, ITEMS.c.status.in_((states.LABELLED, states.APPLIED))
                )
            )
        ).all()
    per_day = {today - timedelta(days=i): 0 for i in range(days)}
    for row in reviewed:
        day = row.reviewed_at.astimezone(zone).date()
        per_day[day] = per_day.get(day, 0) + 1
    waits = [(row.reviewed_at - row.first_seen_at).total_seconds() / 3600 for row in reviewed]
    return {
        "fallback_rate": await fallback_rate(deps, weeks=max(1, math.ceil(days / 7))),
        "backlog": sum(by_status.get(s, 0) for s in (states.OPEN, states.FLAGGED)),
        "by_status": {s: by_status.get(s, 0) for s in states.STATUSES},
        "labelled_per_day": [{"day": d.isoformat(), "count": per_day[d]} for d in sorted(per_day)],
        "median_hours_to_label": round(statistics.median(waits), 2) if waits else None,
        "zone": deps.settings.case_number_tz,
    }


async def fallback_rate(deps: Deps, *, weeks: int) -> list[dict[str, Any]]:
    """Customer messages the bot answered and the share answered with the fallback, per week
    (Mondays in the service zone) and language, the last `weeks` weeks, newest first."""
    zone = ZoneInfo(deps.settings.case_number_tz)
    today = deps.clock.now().astimezone(zone).date()
    first = (today - timedelta(days=today.weekday() + 7 * (weeks - 1))).isoformat()
    async with deps.read_engine.begin() as conn:
        rows = (
            await conn.execute(
                select(TRAFFIC).where(TRAFFIC.c.week >= first).order_by(TRAFFIC.c.week.desc(), TRAFFIC.c.language)
            )
        ).all()
    return [
        {
            "week": r.week,
            "language": r.language,
            "messages": r.messages,
            "fallbacks": r.fallbacks,
            "rate": round(r.fallbacks / r.messages, 4) if r.messages else None,
        }
        for r in rows
    ]


def _turns(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A conversation's customer, bot and agent messages, masked, with their Unix times."""
    turns = []
    for e in events:
        text, kind = e.get("text"), e.get("event")
        if kind not in ("user", "bot") or not isinstance(text, str) or not text.strip():
            continue
        if not isinstance(e.get("timestamp"), (int, float)):
            continue
        if kind == "user":
            intent = mapping(mapping(e.get("parse_data")).get("intent")).get("name") or ""
            if str(intent).startswith(states.EXTERNAL_PREFIX):
                continue
            who = "customer"
        else:
            who = "agent" if mapping(e.get("metadata")).get("agent") else "bot"
        turns.append({"kind": who, "text": mask(text)[:MAX_TEXT], "ts": float(e["timestamp"])})
    return turns


async def context(deps: Deps, rasa: RasaClient, p: Principal, item_id: int) -> dict[str, Any]:
    """The item's latest message in its conversation: the turns before and after it (masked), and
    the conversation's cases the caller may open."""
    async with deps.read_engine.begin() as conn:
        await load_item(conn, item_id)
        latest = (
            await conn.execute(
                select(OCCURRENCES.c.conversation_id, OCCURRENCES.c.at)
                .where(OCCURRENCES.c.item_id == item_id)
                .order_by(OCCURRENCES.c.at.desc(), OCCURRENCES.c.id.desc())
                .limit(1)
            )
        ).one()
        readable = await cases.readable_of_conversation(conn, p, latest.conversation_id)
    answer: dict[str, Any] = {
        "conversation_id": latest.conversation_id,
        "at": latest.at.isoformat(),
        "available": True,
        "error": None,
        "turns": [],
        "cases": readable,
    }
    try:
        events = await rasa.tracker_events(latest.conversation_id, timeout=deps.settings.transcript_timeout_seconds)
    except RasaError as e:
        return {**answer, "available": False, "error": f"the conversation could not be read from Rasa: {e.reason}"}
    turns = _turns(events)
    customer = [i for i, t in enumerate(turns) if t["kind"] == "customer"]
    if not customer:
        return answer
    at = latest.at.timestamp()
    here = min(customer, key=lambda i: abs(turns[i]["ts"] - at))
    window = turns[max(0, here - CONTEXT_TURNS) : here + CONTEXT_TURNS + 1]
    answer["turns"] = [
        {
            "kind": t["kind"],
            "text": t["text"],
            "at": datetime.fromtimestamp(t["ts"], tz=UTC).isoformat(),
            "current": t is turns[here],
        }
        for t in window
    ]
    return answer


async def intents(deps: Deps, rasa: RasaClient) -> dict[str, Any]:
    """What a message may be labelled with: the loaded model's intents and FAQ answers."""
    try:
        names = await rasa.intents(timeout=deps.settings.transcript_timeout_seconds)
    except RasaError as e:
        return {"intents": [], "available": False, "error": f"the model's intents could not be read: {e.reason}"}
    return {"intents": names, "available": True, "error": None}
