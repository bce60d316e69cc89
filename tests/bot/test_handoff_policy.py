"""bot.policies.handoff: while an agent has the conversation, only relay and listen are predicted."""

from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies.handoff import HandoffPolicy

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def predicted(tmp_path, *events):
    policy = HandoffPolicy.create(
        HandoffPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("h"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    tracker = DialogueStateTracker.from_events("t", list(events), DOMAIN.slots)
    prediction = policy.predict_action_probabilities(tracker, DOMAIN)
    best = max(prediction.probabilities)
    return DOMAIN.action_names_or_texts[prediction.probabilities.index(best)] if best > 0 else None


def said(intent):
    return UserUttered("x", {"name": intent, "confidence": 1.0})


def test_during_a_handoff_every_message_is_relayed_then_the_bot_listens(tmp_path):
    on = SlotSet("handoff_active", True)
    assert predicted(tmp_path, on, ActionExecuted("action_listen"), said("greet")) == "action_relay_to_agent"
    assert predicted(tmp_path, on, ActionExecuted("action_listen"), said("request_human")) == "action_relay_to_agent"
    assert (
        predicted(tmp_path, on, ActionExecuted("action_listen"), said("greet"), ActionExecuted("action_relay_to_agent"))
        == "action_listen"
    )


def test_outside_a_handoff_and_for_the_services_own_intents_it_stays_out(tmp_path):
    assert predicted(tmp_path, ActionExecuted("action_listen"), said("greet")) is None
    off = SlotSet("handoff_active", False)
    assert predicted(tmp_path, off, ActionExecuted("action_listen"), said("EXTERNAL_handoff_resolved")) is None
    on = SlotSet("handoff_active", True)
    assert predicted(tmp_path, on, ActionExecuted("action_listen"), said("EXTERNAL_handoff_resolved")) is None
    assert HandoffPolicy.get_default_config()["priority"] > 6  # above RulePolicy
