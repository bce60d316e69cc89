"""The review list's use cases: collect a misunderstood message into its item, and the trainers'
actions on an item (label, ignore, flag, reopen), each audited with before and after.

Collecting is done by one importer at a time (it reads what Rasa recorded, in order), so an item's
row is created and counted without racing another writer; a source already collected is skipped,
so importing the same messages again changes nothing."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.audit import service as audit
from handoff_service.core.deps import Deps
from handoff_service.core.errors import Conflict, NotFound, ValidationFailed
from handoff_service.core.orm import table_of
from handoff_service.core.pii import mask
from handoff_service.core.principal import Principal

from . import states
from .models import ReviewItem, ReviewOccurrence
from .normalize import group_key

ITEMS = table_of(ReviewItem)
OCCURRENCES = table_of(ReviewOccurrence)
MAX_TEXT = 4000
TOP_INTENTS = 3


@dataclass(frozen=True)
class Collected:
    """One customer message the assistant misunderstood, as the importer found it."""

    source: str  # unique per message (e.g. the tracker event's conversation and timestamp)
    conversation_id: str
    at: datetime
    text: str
    reasons: tuple[str, ...]
    intents: tuple[tuple[str, float], ...] = ()  # ranking, best first
    language: str | None = None
    script: str | None = None
    channel: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def next_rank(rank: float | None, at: datetime) -> float:
    """An item's rank after one more message at `at`. The rank is log2 of the item's weight, with
    every message weighing 1 when it comes and half as much each HALF_LIFE later, plus the time in
    half-lives: so ranks compare the items' weights at any moment, and `ORDER BY rank DESC` is the
    list ordered by count x recency without computing anything at read time."""
    now = at.timestamp() / states.HALF_LIFE_SECONDS
    weight = (2.0 ** (rank - now) if rank is not None else 0.0) + 1.0
    return math.log2(weight) + now


def bits(reasons: Iterable[str]) -> int:
    return sum(states.REASON_BITS[r] for r in set(reasons))


def _ranking(intents: tuple[tuple[str, float], ...]) -> list[dict[str, Any]]:
    return [{"name": name, "confidence": round(float(conf), 4)} for name, conf in intents[:TOP_INTENTS]]


async def collect(deps: Deps, c: Collected) -> int | None:
    """Adds the message to its item (made when new) and returns the item's id; None when this source
    was collected before. An ignored item counts it but stays ignored (the standing rule)."""
    reasons = tuple(dict.fromkeys(c.reasons))
    if not reasons or any(r not in states.REASONS for r in reasons):
        raise ValidationFailed(f"reasons must be some of {', '.join(states.REASONS)}")
    text = mask(c.text.strip())[:MAX_TEXT]
    if not text:
        raise ValidationFailed("an empty message is not collected")
    ranking = _ranking(c.intents)
    top = ranking[0] if ranking else {"name": None, "confidence": None}
    async with deps.tx() as conn:
        seen = await conn.execute(select(OCCURRENCES.c.id).where(OCCURRENCES.c.source == c.source))
        if seen.first() is not None:
            return None
        key = group_key(text)
        row = (await conn.execute(select(ITEMS.c.id, ITEMS.c.reasons, ITEMS.c.rank).where(ITEMS.c.key == key))).first()
        latest = {
            "text": text,
            "language": c.language,
            "script": c.script,
            "top_intent": top["name"],
            "top_confidence": top["confidence"],
            "intents": ranking,
            "channel": c.channel,
            "last_seen_at": c.at,
        }
        if row is None:
            item_id = (
                await conn.execute(
                    insert(ITEMS).returning(ITEMS.c.id),
                    {
                        **latest,
                        "key": key,
                        "status": states.OPEN,
                        "reasons": list(reasons),
                        "reason_bits": bits(reasons),
                        "count": 1,
                        "rank": next_rank(None, c.at),
                        "first_seen_at": c.at,
                    },
                )
            ).scalar_one()
        else:
            item_id = row.id
            merged = list(dict.fromkeys([*row.reasons, *reasons]))
            await conn.execute(
                update(ITEMS)
                .where(ITEMS.c.id == item_id)
                .values(
                    **latest,
                    reasons=merged,
                    reason_bits=bits(merged),
                    count=ITEMS.c.count + 1,
                    rank=next_rank(row.rank, c.at),
                )
            )
        await conn.execute(
            insert(OCCURRENCES),
            {
                "item_id": item_id,
                "source": c.source[:200],
                "conversation_id": c.conversation_id,
                "at": c.at,
                "text": text,
                "reasons": list(reasons),
                "intents": ranking,
                "channel": c.channel,
            },
        )
    return int(item_id)


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
    }


async def _load(conn: AsyncConnection, item_id: int) -> Any:
    row = (await conn.execute(select(ITEMS).where(ITEMS.c.id == item_id))).first()
    if row is None:
        raise NotFound(f"review item {item_id} does not exist", code="review_item_not_found")
    return row


async def review(
    deps: Deps, p: Principal, item_id: int, action: str, *, label: str | None = None, comment: str | None = None
) -> dict[str, Any]:
    """A trainer's action on an item (states.TRANSITIONS); audited with the item before and after."""
    if action not in states.TRANSITIONS:
        raise ValidationFailed(f"action must be one of {', '.join(states.TRANSITIONS)}")
    if action == states.LABEL and not (label and label.strip()):
        raise ValidationFailed("a label needs the intent the customer meant")
    if action == states.FLAG and not (comment and comment.strip()):
        raise ValidationFailed("a flag needs a comment for the discussion")
    allowed_from, to = states.TRANSITIONS[action]
    now = deps.clock.now()
    async with deps.tx() as conn:
        before = await _load(conn, item_id)
        if before.status not in allowed_from:
            raise Conflict(f"an item that is {before.status} cannot be given '{action}'", code="review_state_conflict")
        values: dict[str, Any] = {"status": to, "reviewed_by": p.user_id, "reviewed_at": now}
        if action == states.LABEL:
            values["label"] = label.strip() if label else None
        if action in (states.FLAG, states.LABEL) and comment is not None:
            values["comment"] = comment.strip() or None
        if action == states.REOPEN:
            values["label"] = None
        await conn.execute(update(ITEMS).where(ITEMS.c.id == item_id).values(**values))
        after = await _load(conn, item_id)
        await audit.record(
            conn,
            at=now,
            actor=p,
            action=f"review.{action}",
            target_type="review_item",
            target_id=item_id,
            details={
                "before": {"status": before.status, "label": before.label, "comment": before.comment},
                "after": {"status": after.status, "label": after.label, "comment": after.comment},
            },
        )
    return item_json(after)


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
        "backlog": sum(by_status.get(s, 0) for s in (states.OPEN, states.FLAGGED)),
        "by_status": {s: by_status.get(s, 0) for s in states.STATUSES},
        "labelled_per_day": [{"day": d.isoformat(), "count": per_day[d]} for d in sorted(per_day)],
        "median_hours_to_label": round(statistics.median(waits), 2) if waits else None,
        "zone": deps.settings.case_number_tz,
    }
