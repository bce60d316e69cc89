"""The whole conversation of a case for the agent console: the bot's part from
Rasa's tracker (GET /conversations/{id}/tracker) merged with the case's own
customer and agent messages. If Rasa cannot be read, the case's messages alone,
with the reason, so the console can say so."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from handoff_service.cases.queries import load_readable
from handoff_service.core.deps import Deps
from handoff_service.core.principal import Principal
from handoff_service.messages.service import case_messages
from handoff_service.rasa.client import RasaClient, RasaError

MAX_ITEMS = 1000


def _ts(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), tz=timezone.utc).isoformat()
        except (OverflowError, OSError, ValueError):
            return None
    return None


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _sort_key(item: dict[str, Any]) -> datetime:
    at = item.get("at")
    return datetime.fromisoformat(at) if at else _EPOCH


def _from_tracker(
    events: list[dict[str, Any]], agent_keys: set[str], customer_texts: list[str]
) -> list[dict[str, Any]]:
    """User and bot events; what the case's own messages already show is left out:
    agent replies (bot events carrying an agent or one of the replies' keys) and
    customer messages that were relayed to the case (matched by text, once each)."""
    relayed: dict[str, int] = {}
    for t in customer_texts:
        relayed[t] = relayed.get(t, 0) + 1
    out: list[dict[str, Any]] = []
    for ev in events:
        kind = ev.get("event")
        text = ev.get("text")
        if kind not in ("user", "bot") or not isinstance(text, str) or not text.strip():
            continue
        md: dict[str, Any] = ev["metadata"] if isinstance(ev.get("metadata"), dict) else {}
        if kind == "bot":
            if md.get("agent") or md.get("idempotency_key") in agent_keys:
                continue
            out.append({"source": "rasa", "kind": "bot", "text": text, "at": _ts(ev.get("timestamp"))})
            continue
        intent = ((ev.get("parse_data") or {}).get("intent") or {}).get("name") or ""
        if isinstance(intent, str) and intent.startswith("EXTERNAL_"):
            continue  # the service's own trigger (end of handoff), not the customer
        if relayed.get(text):
            relayed[text] -= 1
            continue
        out.append({"source": "rasa", "kind": "customer", "text": text, "at": _ts(ev.get("timestamp"))})
    return out


async def transcript(deps: Deps, rasa: RasaClient, p: Principal, case_id: int) -> dict[str, Any]:
    async with deps.read_engine.begin() as conn:
        case = await load_readable(conn, p, case_id)
        messages = await case_messages(deps, conn, case, after_id=None, limit=MAX_ITEMS)
    own = [
        {
            "source": "case",
            "kind": m["direction"],
            "text": m["text"],
            "at": m["created_at"],
            "message_id": m["id"],
            "author": m["author"],
            "delivery": m["delivery"],
        }
        for m in messages
    ]
    source: dict[str, Any] = {"available": True, "error": None}
    items = list(own)
    try:
        events = await rasa.tracker_events(case.conversation_id, timeout=deps.settings.transcript_timeout_seconds)
    except RasaError as e:
        reason = f"Rasa answered HTTP {e.status}" if e.status is not None else type(e.cause).__name__
        source = {"available": False, "error": f"the bot's part of the conversation could not be read: {reason}"}
    else:
        keys = {m["delivery"]["idempotency_key"] for m in messages if m["delivery"]}
        customer_texts = [m["text"] for m in messages if m["direction"] == "customer"]
        items.extend(_from_tracker(events, keys, customer_texts))
    items.sort(key=_sort_key)  # stable: equal times keep their order
    return {
        "case": case.number,
        "conversation_id": case.conversation_id,
        "rasa": source,
        "items": items[-MAX_ITEMS:],
    }
