"""Dense sentence features from a pretrained English encoder, Chinese read through glosses.

Each message's tokens (Chinese words glossed in English by `bot.gloss`, numbers read as 0)
go through all-MiniLM-L6-v2 (`bot.encoder`); the unit vector, times `scale`, is added as
a sentence feature. Pretrained meaning lets the intent classifier tell apart requests whose
words it has not seen in training. In training, vectors come through a `VectorCache` in Rasa's
training-cache directory: after an edit of a few examples only those are encoded again.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.encoder import SentenceEncoder, VectorCache, pretrained_dir
from bot.gloss import Glossary

ENCODER_DIR = "all-MiniLM-L6-v2"
DICTIONARY = "cedict.txt.gz"


@functools.lru_cache(maxsize=2)
def load_pretrained(directory: Path) -> tuple[SentenceEncoder, Glossary]:
    """The encoder and the glossary, loaded once per process."""
    return SentenceEncoder.load(directory / ENCODER_DIR), Glossary.load(directory / DICTIONARY)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class GlossedSentenceFeaturizer(DenseFeaturizer, GraphComponent):
    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # sqrt(384): a unit vector's entries on the scale of the count features next to it
        return {**DenseFeaturizer.get_default_config(), "scale": math.sqrt(384)}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if float(config.get("scale", 1.0)) <= 0:
            raise ValueError("GlossedSentenceFeaturizer: `scale` must be positive")

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        encoder: SentenceEncoder,
        glossary: Glossary,
        training_cache: VectorCache | None = None,
    ) -> None:
        super().__init__(name, config)
        self.encoder, self.glossary = encoder, glossary
        self.training_cache = training_cache

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GlossedSentenceFeaturizer:
        encoder, glossary = load_pretrained(pretrained_dir())
        return cls(config, execution_context.node_name, encoder, glossary)

    def english(self, message: Message) -> str:
        """What the encoder reads: the message's tokens, Chinese words as English glosses."""
        tokens = message.get(f"{TEXT}_tokens") or []
        return self.glossary.render(token.text for token in tokens)

    def vector_cache(self) -> VectorCache:
        """The cache of earlier trainings' vectors, in Rasa's training-cache directory."""
        if self.training_cache is None:
            from rasa.engine.caching import CACHE_LOCATION_ENV, DEFAULT_CACHE_LOCATION  # training only

            directory = Path(os.environ.get(CACHE_LOCATION_ENV, DEFAULT_CACHE_LOCATION))
            self.training_cache = VectorCache(directory, self.encoder, pretrained_dir() / ENCODER_DIR)
        return self.training_cache

    def features(self, messages: list[Message], training: bool = False) -> np.ndarray:
        encoder = self.vector_cache() if training else self.encoder
        return encoder.encode([self.english(m) for m in messages]) * float(self._config["scale"])

    def _add(self, messages: list[Message], training: bool = False) -> None:
        wanted = [m for m in messages if m.get(TEXT)]
        for message, vector in zip(wanted, self.features(wanted, training) if wanted else [], strict=True):
            self.add_features_to_message(None, vector[None, :], TEXT, message)

    def process(self, messages: list[Message]) -> list[Message]:
        self._add(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._add(training_data.training_examples, training=True)
        return training_data
