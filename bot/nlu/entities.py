"""Rule-based entity extraction with a blank spaCy pipeline (no model download).

Order numbers, mobile numbers and e-mails come from token patterns; product names
from the catalogue's phrase patterns in `entity_patterns.yml`. Tokens come from the
project's own segmenter, so Chinese, English and mixed text are matched alike.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import yaml
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu._base import MessageProcessor
from bot.text import segment

PATTERNS_FILE = Path(__file__).with_name("entity_patterns.yml")
MOBILE = r"1[3-9]\d{9}"
TOKEN_PATTERNS = [
    {"label": "email", "pattern": [{"LIKE_EMAIL": True}]},
    {"label": "phone", "pattern": [{"TEXT": {"REGEX": rf"^(?:\+?86)?{MOBILE}$"}}]},
    {"label": "phone", "pattern": [{"TEXT": {"REGEX": r"^1[3-9]\d-\d{4}-\d{4}$"}}]},
    {
        "label": "phone",
        "pattern": [
            {"TEXT": {"REGEX": r"^1[3-9]\d$"}},
            {"TEXT": {"REGEX": r"^\d{4}$"}},
            {"TEXT": {"REGEX": r"^\d{4}$"}},
        ],
    },
    {"label": "order_number", "pattern": [{"TEXT": {"REGEX": rf"^(?!{MOBILE}$)\d{{5,20}}$"}}]},
    {"label": "case_number", "pattern": [{"TEXT": {"REGEX": r"^[Cc]\d{8}-\d{4,6}$"}}]},
]


class _SegmentTokenizer:
    """spaCy tokenizer built on `bot.text.segment` (jieba for Chinese runs)."""

    def __init__(self, vocab):
        self.vocab = vocab

    def __call__(self, text: str):
        from spacy.tokens import Doc

        pieces = segment(text)
        words = [word for word, _ in pieces]
        spaces = [start + len(word) < len(text) and text[start + len(word)].isspace() for word, start in pieces]
        return Doc(self.vocab, words=words, spaces=spaces)


@functools.lru_cache(maxsize=1)
def build_pipeline():
    """The blank spaCy pipeline with the entity ruler; built once, on first use."""
    import spacy

    nlp = spacy.blank("xx")
    nlp.tokenizer = _SegmentTokenizer(nlp.vocab)
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    products = yaml.safe_load(PATTERNS_FILE.read_text(encoding="utf-8"))["products"]
    phrase_patterns = [
        {"label": "product", "id": sku, "pattern": alias} for sku, aliases in products.items() for alias in aliases
    ]
    ruler.add_patterns(TOKEN_PATTERNS + phrase_patterns)
    return nlp


def normalise(label: str, span) -> str:
    if label == "product":
        return span.ent_id_
    if label == "phone":
        return re.sub(r"\D", "", span.text)[-11:]
    if label == "email":
        return span.text.lower()
    if label == "case_number":
        return span.text.upper()
    return span.text


def extract(text: str) -> list[dict[str, Any]]:
    """Entities in `text` as dicts with entity, value, start and end."""
    found, seen = [], set()
    for span in build_pipeline()(text).ents:
        value = normalise(span.label_, span)
        if (span.label_, value) not in seen:
            seen.add((span.label_, value))
            found.append({"entity": span.label_, "value": value, "start": span.start_char, "end": span.end_char})
    return found


def add_entity(message: Message, entity: str, value: Any, extractor: str, start: int = 0, end: int = 0) -> None:
    entities = list(message.get(ENTITIES, []))
    entities.append(
        {"entity": entity, "value": value, "start": start, "end": end, "confidence_entity": 1.0, "extractor": extractor}
    )
    message.set(ENTITIES, entities, add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class SpacyRuleEntityExtractor(MessageProcessor, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @staticmethod
    def required_packages() -> list[str]:
        return ["spacy"]

    def process_message(self, message: Message) -> None:
        for found in extract(message.get(TEXT) or ""):
            add_entity(message, found["entity"], found["value"], self.__class__.__name__, found["start"], found["end"])
