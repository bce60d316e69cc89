"""A ResponseSelector that only runs for messages whose intent is its retrieval intent.

Rasa's ResponseSelector scores every message, although its answer is only read when the
intent is `faq`; skipping the others saves a model call on most messages.
"""
from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FaqResponseSelector(ResponseSelector):
    def process(self, messages: List[Message]) -> List[Message]:
        wanted = [m for m in messages if self.is_retrieval_message(m)]
        if wanted:
            super().process(wanted)
        return messages

    def is_retrieval_message(self, message: Message) -> bool:
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        return self.retrieval_intent is None or intent == self.retrieval_intent
