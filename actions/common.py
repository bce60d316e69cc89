"""Small helpers shared by the actions: the customer's language and localized labels from the domain."""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa_sdk import Tracker

from bot.text import to_traditional


def _current(tracker: Tracker, key: Text) -> Any:
    # the latest message's detection wins; bot.policies.language copies it into the slot
    return tracker.latest_message.get(key) or tracker.get_slot(key)


def language(tracker: Tracker) -> Text:
    return "en" if _current(tracker, "language") == "en" else "zh"


def script(tracker: Tracker) -> Text:
    return "traditional" if _current(tracker, "script") == "traditional" else "simplified"


def latest_intent(tracker: Tracker) -> Optional[Text]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def label(domain: Dict[Text, Any], response: Text, tracker: Tracker) -> Text:
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
