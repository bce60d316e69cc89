"""While an agent has the conversation (`handoff_active`), the bot says nothing of its own.

After each customer message this policy predicts `action_relay_to_agent` (which passes the
message to handoff_service), then `action_listen`. Its priority is above RulePolicy's, so no
rule, form or fallback can answer in between. Intents triggered by handoff_service itself
(`EXTERNAL_*`, e.g. the agent resolved the case) are left to the other policies.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies._base import TrackerRulePolicy

RELAY_ACTION = "action_relay_to_agent"
HANDOFF_SLOT = "handoff_active"


def next_action(tracker: DialogueStateTracker) -> str | None:
    if not tracker.get_slot(HANDOFF_SLOT):
        return None
    if tracker.latest_action_name == RELAY_ACTION:
        return ACTION_LISTEN_NAME
    intent = (tracker.latest_message.intent or {}).get("name") or "" if tracker.latest_message else ""
    if tracker.latest_action_name == ACTION_LISTEN_NAME and intent and not intent.startswith("EXTERNAL_"):
        return RELAY_ACTION
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class HandoffPolicy(TrackerRulePolicy):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": 7}  # above RulePolicy (6)

    def decide(self, tracker: DialogueStateTracker, domain: Domain) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = next_action(tracker)
        if action is not None:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)
