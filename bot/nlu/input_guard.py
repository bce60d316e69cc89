"""Guards the pipeline against unusable input and routes it to a polite answer.

`InputSanitizer` runs first: it strips markup (so `<script>` never reaches the model
or a reply), truncates very long messages, and notes what was wrong with the input.
`InputIssueRouter` runs last: such input is sent to the fallback path, with
`input_issue` in the parse result, so the fallback action can answer to the point.
"""
from __future__ import annotations

from typing import Any, Dict, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import text as textlib
from bot.nlu._base import MessageProcessor

ISSUE_KEY = "input_issue"  # parse-result key: empty, symbols_only, markup_only or too_long
FALLBACK_INTENT = "nlu_fallback"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class InputSanitizer(MessageProcessor):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_chars": 500}

    def process_message(self, message: Message) -> None:
        raw = message.get(TEXT) or ""
        clean = textlib.strip_markup(raw)
        issue = None
        if not clean:
            issue = "markup_only" if raw.strip() else "empty"
        elif textlib.is_symbols_only(clean):
            issue = "symbols_only"
        elif len(clean) > self.config["max_chars"]:
            issue = "too_long"
            clean = clean[: self.config["max_chars"]]
        if issue:
            message.set(ISSUE_KEY, issue)
        # the tokenizer needs at least one character
        message.set(TEXT, clean or " ")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class InputIssueRouter(MessageProcessor):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    def process_message(self, message: Message) -> None:
        issue = message.get(ISSUE_KEY)
        if not issue:
            return
        message.set(ISSUE_KEY, issue, add_to_output=True)
        message.set(INTENT, {"name": FALLBACK_INTENT, "confidence": 1.0}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [{"name": FALLBACK_INTENT, "confidence": 1.0}], add_to_output=True)
