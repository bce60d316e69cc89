"""Guards the pipeline against unusable input and routes it to a polite answer.

`InputSanitizer` runs first: it strips markup (so `<script>` never reaches the model
or a reply), truncates very long messages, and notes what was wrong with the input.
`GibberishDetector` learns the words of the training data and notes Latin-letter
text whose words it can hardly read ("qzxv bnmlk") as `gibberish`.
`InputIssueRouter` runs last: such input is sent to the fallback path, with
`input_issue` in the parse result, so the fallback action can answer to the point.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import text as textlib
from bot.nlu._base import MessageProcessor

SCAN_FACTOR = 4  # markup may take room: scan up to this many times max_chars
ISSUE_KEY = "input_issue"  # parse-result key: empty, symbols_only, markup_only, too_long, gibberish
FALLBACK_INTENT = "nlu_fallback"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class InputSanitizer(MessageProcessor):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"max_chars": 500}

    def process_message(self, message: Message) -> None:
        full = message.get(TEXT) or ""
        limit = self.config["max_chars"]
        # the checks below scan at most this much of a message, however long it is
        raw = full[: limit * SCAN_FACTOR]
        clean = textlib.strip_markup(raw)
        issue = None
        if not clean:
            issue = "markup_only" if raw.strip() else "empty"
        elif textlib.is_symbols_only(clean):
            issue = "symbols_only"
        elif len(clean) > limit or len(full) > len(raw):
            issue = "too_long"
            clean = clean[:limit]
        if issue:
            message.set(ISSUE_KEY, issue)
        # the tokenizer needs at least one character
        message.set(TEXT, clean or " ")


_LATIN_WORD = re.compile(r"[a-z]{3,}")
_LETTERS = re.compile(r"[^\W\d_]+")


def trigrams(word: str) -> list[str]:
    padded = f"#{word}#"
    return [padded[i : i + 3] for i in range(len(padded) - 2)]


def known_trigrams(vocabulary: Iterable[str]) -> set[str]:
    """Letter trigrams of the vocabulary's Latin words (3+ letters)."""
    return {g for word in vocabulary if _LATIN_WORD.fullmatch(word) for g in trigrams(word)}


def is_gibberish(
    words: Iterable[str], vocabulary: set[str], vocabulary_trigrams: set[str], max_known_share: float
) -> bool:
    """Letters-only words (lower case) are mostly unreadable, and a Latin word of 3+ letters is among them.

    A word is readable when the vocabulary has it, or when most of its letter trigrams occur in
    the vocabulary (a typo such as "shippinh", a name such as "valencia"). The readable share counts
    characters, so a Chinese particle around a keyboard mash ("的 qzxv 吧") does not make it readable.
    Words with digits are not judged.
    """
    words = [w for w in words if _LETTERS.fullmatch(w)]

    def readable(word: str) -> bool:
        if word in vocabulary:
            return True
        grams = trigrams(word)
        return sum(g in vocabulary_trigrams for g in grams) >= 0.5 * len(grams)

    unreadable = [w for w in words if not readable(w)]
    if not any(_LATIN_WORD.fullmatch(w) for w in unreadable):
        return False
    readable_chars = sum(len(w) for w in words) - sum(len(w) for w in unreadable)
    return readable_chars < max_known_share * sum(len(w) for w in words)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class GibberishDetector(GraphComponent):
    """Notes `gibberish` for text whose words, and their letter trigrams, the training data has (almost) never seen."""

    VOCABULARY_FILE = "vocabulary.json"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # out_of_scope examples include keyboard mashes; their words must not count as known
        return {"max_known_share": 0.25, "ignore_intents": ["out_of_scope"]}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: set[str] | None = None,
    ) -> None:
        self.config = config
        self._model_storage, self._resource = model_storage, resource
        self._learn(vocabulary or set())

    def _learn(self, vocabulary: set[str]) -> None:
        self.vocabulary = vocabulary
        self.trigrams = known_trigrams(vocabulary)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GibberishDetector:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> GibberishDetector:
        with model_storage.read_from(resource) as directory:
            words = json.loads((directory / cls.VOCABULARY_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, set(words))

    def train(self, training_data: TrainingData) -> Resource:
        ignored = set(self.config["ignore_intents"])
        self._learn(
            {
                w
                for example in training_data.training_examples
                if example.get(INTENT) not in ignored
                for w in _words(example)
            }
        )
        with self._model_storage.write_to(self._resource) as directory:
            (directory / self.VOCABULARY_FILE).write_text(
                json.dumps(sorted(self.vocabulary), ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if not message.get(ISSUE_KEY) and is_gibberish(
                _words(message), self.vocabulary, self.trigrams, self.config["max_known_share"]
            ):
                message.set(ISSUE_KEY, "gibberish")
        return messages


def _words(message: Message) -> list[str]:
    return [token.text.lower() for token in message.get(TOKENS_NAMES[TEXT]) or []]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class InputIssueRouter(MessageProcessor):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def process_message(self, message: Message) -> None:
        issue = message.get(ISSUE_KEY)
        if not issue:
            return
        message.set(ISSUE_KEY, issue, add_to_output=True)
        fallback = {"name": FALLBACK_INTENT, "confidence": 1.0}
        # like the FallbackClassifier: what the model read stays in the ranking, below the fallback
        ranking = [item for item in message.get(INTENT_RANKING_KEY) or [] if item.get("name") != FALLBACK_INTENT]
        message.set(INTENT, fallback, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [fallback] + ranking, add_to_output=True)
