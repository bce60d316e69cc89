"""The review list's use cases: collect a misunderstood message into its item, an agent's
correction, and the trainers' actions on an item (label, ignore, flag, reopen), each audited with
before and after.

Collecting is done by one importer at a time (review/scheduled.py reads what Rasa recorded, in
order), so an item's row is created and counted without racing another writer; a source already
collected for the same reasons is skipped, so importing the same messages again changes nothing."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.audit import service as audit
from handoff_service.cases import queries as cases
from handoff_service.core.deps import Deps
from handoff_service.core.errors import Conflict, NotFound, Unavailable, ValidationFailed
from handoff_service.core.orm import table_of
from handoff_service.core.pii import mask
from handoff_service.core.principal import Principal
from handoff_service.rasa.client import RasaClient, RasaError

from . import states
from .models import ReviewContact
from .normalize import group_key
from .queries import FEED, ITEMS, MAX_TEXT, OCCURRENCES, REPORTS, TRAFFIC, item_json, load_item, report_json
from .records import CONTACT_GAP, Collected, Contact, collected, tracker_records

CONTACTS = table_of(ReviewContact)

TOP_INTENTS = 3


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
    was collected before for the same reasons. An ignored item counts it but stays ignored (the
    standing rule)."""
    async with deps.tx() as conn:
        return await collect_in(conn, c)


def _checked(c: Collected) -> tuple[tuple[str, ...], str]:
    reasons = tuple(dict.fromkeys(c.reasons))
    if not reasons or any(r not in states.REASONS for r in reasons):
        raise ValidationFailed(f"reasons must be some of {', '.join(states.REASONS)}")
    text = mask(c.text.strip())[:MAX_TEXT]
    if not text:
        raise ValidationFailed("an empty message is not collected")
    return reasons, text


async def collect_in(conn: AsyncConnection, c: Collected) -> int | None:
    """`collect` on the caller's transaction. A message collected before for other reasons (the feed
    found a fallback, then an agent corrected it) gains the new reasons and is not counted again."""
    reasons, text = _checked(c)
    ranking = _ranking(c.intents)
    top = ranking[0] if ranking else {"name": None, "confidence": None}
    seen = (
        await conn.execute(
            select(OCCURRENCES.c.id, OCCURRENCES.c.item_id, OCCURRENCES.c.reasons).where(
                OCCURRENCES.c.source == c.source
            )
        )
    ).first()
    if seen is not None:
        added = [r for r in reasons if r not in seen.reasons]
        if not added:
            return None
        await conn.execute(
            update(OCCURRENCES).where(OCCURRENCES.c.id == seen.id).values(reasons=[*seen.reasons, *added])
        )
        item = (await conn.execute(select(ITEMS.c.reasons).where(ITEMS.c.id == seen.item_id))).one()
        merged = list(dict.fromkeys([*item.reasons, *added]))
        await conn.execute(
            update(ITEMS).where(ITEMS.c.id == seen.item_id).values(reasons=merged, reason_bits=bits(merged))
        )
        return int(seen.item_id)
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


async def ingest(
    deps: Deps,
    feed: str,
    position: str,
    messages: Iterable[Collected],
    traffic: dict[tuple[str, str], list[int]],
    contacts: Iterable[Contact] = (),
) -> int:
    """One page of an importer, in one transaction: its collected messages, the week's traffic
    (messages and fallbacks per language), its customers' contacts and its new position. Returns
    how many were new."""
    async with deps.tx() as conn:
        await record_contacts(conn, contacts)
        new = 0
        for message in messages:
            new += int(await collect_in(conn, message) is not None)
        for (week, language), (count, fallbacks) in sorted(traffic.items()):
            where = (TRAFFIC.c.week == week, TRAFFIC.c.language == language)
            done = await conn.execute(
                update(TRAFFIC)
                .where(*where)
                .values(messages=TRAFFIC.c.messages + count, fallbacks=TRAFFIC.c.fallbacks + fallbacks)
            )
            if done.rowcount == 0:
                await conn.execute(
                    insert(TRAFFIC), {"week": week, "language": language, "messages": count, "fallbacks": fallbacks}
                )
        now = deps.clock.now()
        moved = await conn.execute(update(FEED).where(FEED.c.name == feed).values(position=position, updated_at=now))
        if moved.rowcount == 0:
            await conn.execute(insert(FEED), {"name": feed, "position": position, "updated_at": now})
    return new


async def record_contacts(conn: AsyncConnection, contacts: Iterable[Contact]) -> None:
    """Each customer message extends its conversation's contact (the last one, if this message
    comes less than CONTACT_GAP after it) or starts a new one."""
    for conversation, at, language, channel in contacts:
        last = (
            await conn.execute(
                select(CONTACTS.c.id, CONTACTS.c.last_at)
                .where(CONTACTS.c.conversation_id == conversation, CONTACTS.c.last_at > at - CONTACT_GAP)
                .order_by(CONTACTS.c.last_at.desc())
                .limit(1)
            )
        ).first()
        if last is None:
            values = {"conversation_id": conversation, "started_at": at, "last_at": at, "messages": 1}
            await conn.execute(insert(CONTACTS), {**values, "language": language, "channel": channel})
        else:
            await conn.execute(
                update(CONTACTS)
                .where(CONTACTS.c.id == last.id)
                .values(last_at=max(at, last.last_at), messages=CONTACTS.c.messages + 1)
            )


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
        before = await load_item(conn, item_id)
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
        after = await load_item(conn, item_id)
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


async def correct(
    deps: Deps, rasa: RasaClient, p: Principal, case_id: int, text: str, at: str | None, intent: str
) -> dict[str, Any]:
    """An agent says what the customer meant by a message of a case they may read: the message
    joins the review list (reason agent_correction) with the agent's intent as the suggested label.
    Audited with the suggestion before and after."""
    when = _instant(at)
    async with deps.read_engine.begin() as conn:
        case = await cases.load_readable(conn, p, case_id)
    try:
        known = await rasa.intents(timeout=deps.settings.transcript_timeout_seconds)
        events = await rasa.tracker_events(case.conversation_id, timeout=deps.settings.transcript_timeout_seconds)
    except RasaError as e:
        raise Unavailable(
            f"the conversation could not be read from Rasa ({e.reason}); try again", code="rasa_unavailable"
        ) from None
    message = _the_message(events, text, when)
    if message is None:
        raise NotFound("that text is not a customer message of this case", code="correction_message_not_found")
    if intent not in known:  # a name that refers to nothing, as an unknown id
        raise NotFound(f"{intent!r} is not an intent of the assistant", code="unknown_intent")
    [record] = tracker_records([message], case.conversation_id)
    sent_at = datetime.fromtimestamp(float(message["timestamp"]), tz=UTC)
    now = deps.clock.now()
    async with deps.tx() as conn:
        item_id = await collect_in(conn, collected(record, (states.AGENT_CORRECTION,), sent_at))
        if item_id is None:  # corrected before: the same message, the same item
            source = collected(record, (), sent_at).source
            item_id = (
                await conn.execute(select(OCCURRENCES.c.item_id).where(OCCURRENCES.c.source == source))
            ).scalar_one()
        before = await load_item(conn, item_id)
        await conn.execute(update(ITEMS).where(ITEMS.c.id == item_id).values(suggested_label=intent))
        await audit.record(
            conn,
            at=now,
            actor=p,
            action="review.correct",
            target_type="review_item",
            target_id=item_id,
            details={
                "case_id": case_id,
                "before": {"suggested_label": before.suggested_label},
                "after": {"suggested_label": intent},
            },
        )
    return {"item_id": int(item_id), "status": before.status}


def _instant(at: str | None) -> float | None:
    if at is None:
        return None
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        raise ValidationFailed("at must be an ISO 8601 time", code="bad_time") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _the_message(events: list[dict[str, Any]], text: str, at: float | None) -> dict[str, Any] | None:
    """The customer's message with this text (as the transcript shows it), nearest to `at`."""
    wanted = text.strip()
    found = [
        e
        for e in events
        if e.get("event") == "user"
        and isinstance(e.get("text"), str)
        and e["text"].strip() == wanted
        and isinstance(e.get("timestamp"), (int, float))
    ]
    if not found:
        return None
    return min(found, key=lambda e: abs(float(e["timestamp"]) - at)) if at is not None else found[-1]


async def publish_report(deps: Deps, p: Principal, title: str, passed: bool, markdown: str) -> dict[str, Any]:
    """Keeps an evaluation report for the console (bot.training evaluate --publish); audited."""
    now = deps.clock.now()
    async with deps.tx() as conn:
        report_id = (
            await conn.execute(
                insert(REPORTS).returning(REPORTS.c.id),
                {"created_at": now, "created_by": p.user_id, "title": title, "passed": passed, "markdown": markdown},
            )
        ).scalar_one()
        await audit.record(
            conn,
            at=now,
            actor=p,
            action="review.report",
            target_type="review_report",
            target_id=report_id,
            details={"title": title, "passed": passed},
        )
        row = (await conn.execute(select(REPORTS).where(REPORTS.c.id == report_id))).one()
        await deps.users.load(conn, {p.user_id})
    return report_json(deps, row, with_markdown=False)
