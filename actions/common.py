"""Small helpers shared by the actions: the customer's language, localized labels from the domain, deadlines
in the shop's time zone."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker

from bot.text import to_traditional

SHOP_TZ = ZoneInfo("Asia/Shanghai")
MAX_ENTITY_CHARS = 64  # longer than any order, case, phone number or catalogue key


def bounded_text(value: Any, max_chars: int = MAX_ENTITY_CHARS) -> str | None:
    """An entity or slot value as a short string, whatever shape it came in: a list (a typed
    `/intent{"order_number": ["1", "2"]}`, or two entities of one kind) gives its last item, an integer its
    digits; anything else (dicts, booleans, floats, empty or over-long text) gives None."""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if 0 < len(value) <= max_chars else None


def entity_text(tracker: Tracker, name: str) -> str | None:
    """The latest message's entity `name` as bounded text (see bounded_text), or None."""
    return bounded_text(next(tracker.get_latest_entity_values(name), None))


def _current(tracker: Tracker, key: str) -> Any:
    # the latest message's detection wins; bot.policies.language copies it into the slot
    return tracker.latest_message.get(key) or tracker.get_slot(key)


def language(tracker: Tracker) -> str:
    return "en" if _current(tracker, "language") == "en" else "zh"


def script(tracker: Tracker) -> str:
    return "traditional" if _current(tracker, "script") == "traditional" else "simplified"


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def label(domain: dict[str, Any], response: str, tracker: Tracker) -> str:
    """The text of a short response (e.g. a button label) in the customer's language and script."""
    lang = language(tracker)
    for variation in domain.get("responses", {}).get(response, []):
        conditions = variation.get("condition") or []
        if any(c.get("name") == "language" and c.get("value") == lang for c in conditions):
            text = variation.get("text", "")
            if lang == "zh" and script(tracker) == "traditional":
                text = to_traditional(text)
            return text
    return response


def format_deadline(when: dt.datetime, lang: str) -> str:
    """A deadline as the customer reads it, in the shop's time zone."""
    local = when.astimezone(SHOP_TZ)
    if lang == "en":
        return local.strftime("%d %b %Y, %H:%M").lstrip("0") + " (Beijing time)"
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
