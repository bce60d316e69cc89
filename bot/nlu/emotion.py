"""How upset the customer is: `emotion` = {"level": 0-3, "cues": [...]} in the parse result.

`EmotionDetector` runs `bot.emotion.detect_emotion` on each message. It belongs right
after `LanguageDetector`: the text has had its markup stripped by `InputSanitizer`
but is still in the customer's own script, capitals and punctuation (the detector
converts Traditional characters itself). Like `language`, the result is a parse key,
not an entity, so it never disturbs entity evaluation or dialogue features; the
complaint actions read it from `tracker.latest_message["emotion"]`.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.emotion import detect_emotion
from bot.nlu._base import MessageProcessor

EMOTION_KEY = "emotion"  # parse-result key


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class EmotionDetector(MessageProcessor):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def process_message(self, message: Message) -> None:
        emotion = detect_emotion(message.get(TEXT) or "")
        message.set(EMOTION_KEY, emotion.as_dict(), add_to_output=True)
