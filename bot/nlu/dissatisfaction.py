"""Strong dissatisfaction inside another flow is a complaint (SPEC §2).

Runs after the classifiers: when `EmotionDetector` found a very upset customer
(level >= `min_level`, 3 by default: threats to report or leave, strong anger) and the message was understood as a service request (order
status, refund, a question...), the intent becomes `complain`; the original intent
stays in the parse result as `rerouted_from`, so the complaint script can guess the
category from it. Answers (affirm/deny), small talk, stop and asking for a person keep
their intent.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu._base import MessageProcessor
from bot.nlu.emotion import EMOTION_KEY

COMPLAIN = "complain"
REROUTED_KEY = "rerouted_from"
KEEP = {"complain", "request_human", "stop", "affirm", "deny", "greet", "goodbye", "thank", "bot_challenge"}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DissatisfactionRouter(MessageProcessor):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"min_level": 3}

    def process_message(self, message: Message) -> None:
        level = (message.get(EMOTION_KEY) or {}).get("level") or 0
        intent = message.get(INTENT) or {}
        if level < self.config.get("min_level", 3) or not intent.get("name") or intent["name"] in KEEP:
            return
        message.set(REROUTED_KEY, dict(intent), add_to_output=True)
        message.set(INTENT, {"name": COMPLAIN, "confidence": intent.get("confidence", 1.0)}, add_to_output=True)
