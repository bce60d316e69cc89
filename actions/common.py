"""Small helpers shared by the actions: the customer's language, localized labels from the domain, deadlines
in the shop's time zone."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker

from bot.text import to_traditional

SHOP_TZ = ZoneInfo("Asia/Shanghai")


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
