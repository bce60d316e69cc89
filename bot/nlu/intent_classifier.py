"""Rasa adapter of `bot.intent_model`: intents, and the answer for retrieval intents (faq/*).

`LinearIntentClassifier` trains one logistic regression on full retrieval intents and sets,
per message, `intent` and `intent_ranking` (a retrieval intent's confidence is the sum of
its sub-intents') and, when the intent is a retrieval intent, `response_selector` in the
form Rasa's ResponseSelector gives it (so `utter_faq` answers with the chosen sub-intent's
response). It replaces DIET and the ResponseSelector: training takes seconds, the same
examples give the same model on any machine, and no TensorFlow runs per message.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.nlu.training_data.util import intent_response_key_to_template_key

from bot.intent_model import Blocks, IntentModel, rank, split_label

logger = logging.getLogger(__name__)

RESPONSES_FILE = "responses.json"


def sentence_blocks(message: Message) -> Blocks:
    """The message's sentence-level features, one row per featurizer."""
    return {
        feature.origin: feature.features
        for feature in message.features
        if feature.attribute == TEXT and feature.type == FEATURE_TYPE_SENTENCE
    }


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> list[type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # counts_weight / dense_weight: length of each count block and each dense block in the
        # classifier's input; similarity_weight: scale of the nearest-example similarities (0: none);
        # C: inverse L2 regularisation strength; balanced: every intent weighs the same in training,
        # however many examples it has; max_iter: L-BFGS steps (100: the figures of 200 or a full
        # convergence, in a third of the time); ranking_length: intents kept in the ranking
        return {
            "counts_weight": 1.0,
            "dense_weight": 1.0,
            "similarity_weight": 1.0,
            "C": 30.0,
            "balanced": True,
            "max_iter": 100,
            "ranking_length": 10,
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        for key in ("counts_weight", "dense_weight", "C", "max_iter"):
            if not float(config[key]) > 0:
                raise ValueError(f"{cls.__name__}: `{key}` must be positive, got {config[key]!r}")
        if not float(config["similarity_weight"]) >= 0:
            raise ValueError(
                f"{cls.__name__}: `similarity_weight` must be 0 or more, got {config['similarity_weight']!r}"
            )

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: IntentModel | None = None,
        responses: dict[str, list[dict]] | None = None,
    ) -> None:
        self.validate_config(config)
        self.config = config
        self._model_storage, self._resource = model_storage, resource
        self.model = model
        self.responses = responses or {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        labels = [m.get_full_intent() for m in examples]
        if len(set(labels)) < 2:
            logger.warning(f"{type(self).__name__}: fewer than two intents in the training data; not trained")
            return self._resource
        self.model = IntentModel.fit(
            [sentence_blocks(m) for m in examples],
            labels,
            counts_weight=float(self.config["counts_weight"]),
            dense_weight=float(self.config["dense_weight"]),
            similarity_weight=float(self.config["similarity_weight"]),
            c=float(self.config["C"]),
            balanced=bool(self.config["balanced"]),
            max_iter=int(self.config["max_iter"]),
        )
        self.responses = {
            key: value
            for key, value in training_data.responses.items()
            if split_label(key.removeprefix("utter_"))[0] in self.model.retrieval_intents
        }
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory)
            (directory / RESPONSES_FILE).write_text(json.dumps(self.responses, ensure_ascii=False), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                model = IntentModel.load(directory)
                responses = json.loads((directory / RESPONSES_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):  # nothing trained: classify nothing, as DIET does
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, model, responses)

    def process(self, messages: list[Message]) -> list[Message]:
        wanted = [m for m in messages if m.get(TEXT)]
        if self.model is None or not wanted:
            return messages
        for message, row in zip(wanted, self.model.probabilities([sentence_blocks(m) for m in wanted]), strict=True):
            self.set_prediction(message, row)
        return messages

    def set_prediction(self, message: Message, probabilities: np.ndarray) -> None:
        intents, within = rank(self.model.labels, probabilities)
        length = int(self.config["ranking_length"])
        ranking = [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: p} for name, p in intents[: length or None]]
        message.set(INTENT, ranking[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        top = ranking[0][INTENT_NAME_KEY]
        if top in within:
            self.set_selection(message, top, within[top])

    def set_selection(self, message: Message, intent: str, subs: list) -> None:
        """The retrieval intent's answer, in the shape of Rasa's ResponseSelector output."""
        best, confidence = subs[0]
        utter_action = intent_response_key_to_template_key(best)
        selection = {
            RESPONSE_SELECTOR_PREDICTION_KEY: {
                RESPONSE_SELECTOR_RESPONSES_KEY: self.responses.get(utter_action, [{TEXT: best}]),
                PREDICTED_CONFIDENCE_KEY: confidence,
                INTENT_RESPONSE_KEY: best,
                RESPONSE_SELECTOR_UTTER_ACTION_KEY: utter_action,
            },
            RESPONSE_SELECTOR_RANKING_KEY: [
                {INTENT_RESPONSE_KEY: label, PREDICTED_CONFIDENCE_KEY: p} for label, p in subs
            ],
        }
        selector = {
            **(message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}),
            intent: selection,
            RESPONSE_SELECTOR_RETRIEVAL_INTENTS: self.model.retrieval_intents,
        }
        message.set(RESPONSE_SELECTOR_PROPERTY_NAME, selector, add_to_output=True)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
