"""Keeps the `language` and `script` slots in step with the customer, inside Rasa.

`bot.nlu.language.LanguageDetector` puts `language`/`script` into each parse result
(None when a message does not tell, e.g. "12345"). After a user message this policy
emits SlotSet events for what changed. It never predicts an action (all zeros), and
its events apply whichever policy wins, so no action-server round trip is needed.

Rasa applies policy events after the first action of the turn, so the NLG and the
actions read the language through `effective_language` (latest message first, then
the slot) — the first reply already follows a switch.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies._base import TrackerRulePolicy

TRACKED_SLOTS = ("language", "script")


def detected(tracker: DialogueStateTracker) -> dict[str, Any]:
    """What the latest user message tells about language and script (missing keys: it does not tell)."""
    parse = tracker.latest_message.parse_data if tracker.latest_message else {}
    return {slot: parse[slot] for slot in TRACKED_SLOTS if parse.get(slot)}


def slot_updates(tracker: DialogueStateTracker) -> list[SlotSet]:
    if tracker.latest_action_name != ACTION_LISTEN_NAME:
        return []  # only the first prediction after a user message
    return [SlotSet(slot, value) for slot, value in detected(tracker).items() if tracker.get_slot(slot) != value]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class LanguageSlotPolicy(TrackerRulePolicy):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": 0}

    def decide(self, tracker: DialogueStateTracker, domain: Domain) -> PolicyPrediction:
        return self._prediction(self._default_predictions(domain), events=slot_updates(tracker))
