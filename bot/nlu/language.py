"""Language and script detection, and script normalisation before featurisation.

`LanguageDetector` adds `language` (zh/en) and `script` (simplified/traditional)
to the parse result when the message tells; `bot.policies.language.LanguageSlotPolicy`
copies them into the same-named slots, which keep them for the
conversation, so a switch by the customer switches the replies. They are not
entities, so they never disturb entity evaluation or dialogue features.
`ScriptNormalizer` then converts Traditional characters to Simplified, so one
model trained on Simplified data understands both.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import text as textlib
from bot.nlu._base import MessageProcessor

LANGUAGE_KEY = "language"  # parse-result keys; None when the message does not tell
SCRIPT_KEY = "script"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class LanguageDetector(MessageProcessor):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def process_message(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        message.set(LANGUAGE_KEY, textlib.detect_language(text), add_to_output=True)
        message.set(SCRIPT_KEY, textlib.detect_script(text), add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class ScriptNormalizer(MessageProcessor):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def process_message(self, message: Message) -> None:
        message.set(TEXT, textlib.to_simplified(message.get(TEXT) or ""))

    def process_training_example(self, example: Message) -> None:
        if example.get(TEXT):
            self.process_message(example)
