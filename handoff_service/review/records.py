"""A customer message as the review list's collectors read it: the records of Rasa's review feed
(bot/bridge.py) and a conversation's tracker events, what the assistant made of them, and the
`Collected` message they become."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handoff_service.core.config import Settings

from . import states


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


CONTACT_GAP = timedelta(hours=24)  # a customer message this long after the last one starts a new contact
Contact = tuple[str, datetime, str | None, str | None]  # conversation, time, language, channel


def source_of(conversation_id: str, timestamp: float) -> str:
    """One customer message's identity, whoever collects it (the feed, a correction, a rating)."""
    return f"msg:{conversation_id}:{timestamp:.6f}"


def answered(records: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Each user record with the name of the first action after it in its conversation (None when
    none follows in `records`)."""
    waiting: dict[str, dict[str, Any]] = {}
    pairs: dict[int, str | None] = {}
    for r in records:
        sender = str(r.get("sender_id"))
        if r.get("type") == "user":
            waiting[sender] = r
            pairs[id(r)] = None
        elif r.get("type") == "action" and r.get("name") != states.LISTEN and sender in waiting:
            pairs[id(waiting.pop(sender))] = r.get("name")
    for r in records:
        if r.get("type") == "user":
            yield r, pairs[id(r)]


def week_of(at: datetime, zone: ZoneInfo) -> str:
    day = at.astimezone(zone).date()
    return (day - timedelta(days=day.weekday())).isoformat()


def judged(record: dict[str, Any], answer: str | None, settings: Settings) -> tuple[bool, tuple[str, ...]] | None:
    """(fallback?, reasons) of a customer message the bot answered; None when it does not count:
    a button's payload, the service's own EXTERNAL_ intent, unusable input (empty, symbols…), or a
    message relayed to an agent. A fallback is only that; low confidence and a small margin are
    the messages the model understood, but barely."""
    text, intent = record.get("text") or "", record.get("intent") or ""
    if not text.strip() or text.lstrip().startswith("/") or intent.startswith(states.EXTERNAL_PREFIX):
        return None
    if record.get("input_issue") in states.UNUSABLE_INPUT or answer == states.RELAY_ACTION:
        return None
    if intent == states.FALLBACK_INTENT or answer == states.CORE_FALLBACK_ACTION:
        return True, (states.FALLBACK,)
    confidences = [float(i.get("confidence") or 0.0) for i in record.get("ranking") or []]
    reasons = []
    if confidences and confidences[0] < settings.review_low_confidence:
        reasons.append(states.LOW_CONFIDENCE)
    if len(confidences) > 1 and confidences[0] - confidences[1] < settings.review_min_margin:
        reasons.append(states.SMALL_MARGIN)
    return False, tuple(reasons)


def collected(record: dict[str, Any], reasons: Iterable[str], at: datetime) -> Collected:
    return Collected(
        source=source_of(record["sender_id"], float(record["timestamp"])),
        conversation_id=str(record["sender_id"])[:128],
        at=at,
        text=record.get("text") or "",
        reasons=tuple(reasons),
        intents=tuple((str(i["name"]), float(i.get("confidence") or 0.0)) for i in record.get("ranking") or []),
        language=short(record.get("language"), 8),
        script=short(record.get("script"), 16),
        channel=short(record.get("channel"), 32),
    )


def short(value: Any, size: int) -> str | None:
    return value[:size] if isinstance(value, str) and value else None


RANKING = 4  # intents kept per message, as the bridge keeps them


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def tracker_records(events: list[dict[str, Any]], conversation_id: str) -> list[dict[str, Any]]:
    """A conversation's tracker events (GET …/tracker) as the feed's records (bot/bridge.py's
    feed_record reads the tracker store's rows the same way)."""
    out: list[dict[str, Any]] = []
    for e in events:
        if e.get("event") == "action":
            out.append({"type": "action", "sender_id": conversation_id, "name": e.get("name")})
        elif e.get("event") == "user" and isinstance(e.get("timestamp"), (int, float)):
            parse = mapping(e.get("parse_data"))
            intent = mapping(parse.get("intent"))
            ranking = [
                {"name": i["name"], "confidence": float(i.get("confidence") or 0.0)}
                for i in parse.get("intent_ranking") or []
                if isinstance(i, dict) and isinstance(i.get("name"), str) and i["name"] != states.FALLBACK_INTENT
            ][:RANKING]
            full = intent.get("full_retrieval_intent_name")
            if isinstance(full, str) and ranking and ranking[0]["name"] == intent.get("name"):
                ranking[0]["name"] = full  # faq -> faq/shipping
            out.append(
                {
                    "type": "user",
                    "id": 0,
                    "sender_id": conversation_id,
                    "timestamp": e["timestamp"],
                    "text": e.get("text") if isinstance(e.get("text"), str) else "",
                    "intent": intent.get("name"),
                    "ranking": ranking,
                    "language": parse.get("language"),
                    "script": parse.get("script"),
                    "input_issue": parse.get("input_issue"),
                    "channel": e.get("input_channel"),
                }
            )
    return out
