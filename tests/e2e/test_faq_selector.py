"""FAQ answers in the trained model: the intent classifier selects a faq sub-intent for faq messages only."""

import asyncio

import pytest

from tests.e2e.conftest import current_model


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import load_agent

    return asyncio.run(load_agent(model_path=str(current_model())))


def parse(agent, text):
    return asyncio.run(agent.parse_message(text))


@pytest.mark.parametrize(
    "text, answer", [("do you ship abroad", "faq/shipping"), ("你们客服电话是多少", "faq/contact")]
)
def test_faq_messages_get_their_answer(agent, text, answer):
    parsed = parse(agent, text)
    assert parsed["intent"]["name"] == "faq"
    assert parsed["response_selector"]["faq"]["response"]["intent_response_key"] == answer


@pytest.mark.parametrize("text", ["where is my order", "我要退款"])
def test_other_messages_are_not_scored_by_the_selector(agent, text):
    parsed = parse(agent, text)
    assert parsed["intent"]["name"] != "faq"
    assert "faq" not in parsed.get("response_selector", {})
