"""Keeps the `language` and `script` slots in step with the customer (custom slot mapping)."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionDetectLanguage(Action):
    """Copies what bot.nlu.language.LanguageDetector found in the latest message into the slots."""

    def name(self) -> Text:
        return "action_detect_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        events = []
        for slot in ("language", "script"):
            detected = tracker.latest_message.get(slot)
            if detected and detected != tracker.get_slot(slot):
                events.append(SlotSet(slot, detected))
        return events
