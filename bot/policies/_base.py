"""A base for policies that learn nothing: they decide from the tracker alone."""

from __future__ import annotations

import abc
from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker


class TrackerRulePolicy(Policy, abc.ABC):
    def train(self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource  # nothing to learn

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        return self.decide(tracker, domain)

    @abc.abstractmethod
    def decide(self, tracker: DialogueStateTracker, domain: Domain) -> PolicyPrediction: ...
