"""bot.policies.language: the language/script slots follow the customer, inside Rasa."""

from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.nlg import LocalizedNLG
from bot.policies.language import LanguageSlotPolicy

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def policy(tmp_path):
    return LanguageSlotPolicy.create(
        LanguageSlotPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("lang"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def tracker(*events):
    return DialogueStateTracker.from_events("t", list(events), DOMAIN.slots)


def said(text, **parse):
    return UserUttered(text, {"name": "greet", "confidence": 1.0}, parse_data={"text": text, **parse})


def test_switch_to_english_sets_the_slot(tmp_path):
    t = tracker(SlotSet("language", "zh"), ActionExecuted("action_listen"), said("hello", language="en", script=None))
    prediction = policy(tmp_path).predict_action_probabilities(t, DOMAIN)
    assert prediction.events == [SlotSet("language", "en")]
    assert max(prediction.probabilities) == 0.0  # never chooses an action


def test_traditional_script_is_remembered(tmp_path):
    t = tracker(ActionExecuted("action_listen"), said("我的訂單", language="zh", script="traditional"))
    assert policy(tmp_path).predict_action_probabilities(t, DOMAIN).events == [SlotSet("script", "traditional")]


def test_language_neutral_message_and_later_predictions_change_nothing(tmp_path):
    t = tracker(SlotSet("language", "en"), ActionExecuted("action_listen"), said("12345", language=None, script=None))
    assert policy(tmp_path).predict_action_probabilities(t, DOMAIN).events == []
    t = tracker(ActionExecuted("action_listen"), said("hello", language="en"), ActionExecuted("utter_greet"))
    assert policy(tmp_path).predict_action_probabilities(t, DOMAIN).events == []


async def test_first_reply_after_a_switch_is_already_in_the_new_language():
    t = tracker(SlotSet("language", "zh"), ActionExecuted("action_listen"), said("hello", language="en"))
    response = await LocalizedNLG(domain=DOMAIN).generate("utter_greet", t, "rest")
    assert response["text"].startswith("Hello, welcome")
