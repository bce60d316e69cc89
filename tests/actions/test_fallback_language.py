from actions.common import language, script
from actions.fallback import ActionHandleFallback, consecutive_misunderstandings
from tests.actions.conftest import make_tracker, responses


def user(intent, **parse):
    return {"event": "user", "parse_data": {"intent": {"name": intent}, **parse}}


RANKING = [
    {"name": "nlu_fallback", "confidence": 1.0},
    {"name": "refund", "confidence": 0.3},
    {"name": "greet", "confidence": 0.2},
    {"name": "return_exchange", "confidence": 0.2},
]


async def test_first_misunderstanding_asks_to_rephrase_with_suggestions(dispatcher, domain_dict):
    tracker = make_tracker(intent="nlu_fallback", events=[user("greet"), user("nlu_fallback")], intent_ranking=RANKING)
    await ActionHandleFallback().run(dispatcher, tracker, domain_dict)
    assert responses(dispatcher) == ["utter_ask_rephrase"]
    assert dispatcher.messages[0]["buttons"] == [
        {"title": "退款", "payload": "/refund"},
        {"title": "退货或换货", "payload": "/return_exchange"},
        {"title": "转人工客服", "payload": "/request_human"},
    ]


async def test_suggestions_follow_language_and_script(dispatcher, domain_dict):
    tracker = make_tracker(
        {"script": "traditional"}, intent="nlu_fallback", events=[user("nlu_fallback")], intent_ranking=RANKING
    )
    await ActionHandleFallback().run(dispatcher, tracker, domain_dict)
    assert dispatcher.messages[0]["buttons"][0]["title"] == "退款"
    assert dispatcher.messages[0]["buttons"][2]["title"] == "轉人工客服"
    english = make_tracker(
        {"language": "en"}, intent="nlu_fallback", events=[user("nlu_fallback")], intent_ranking=RANKING
    )
    dispatcher.messages.clear()
    await ActionHandleFallback().run(dispatcher, english, domain_dict)
    assert dispatcher.messages[0]["buttons"][0]["title"] == "Refunds"


async def test_second_misunderstanding_in_a_row_hands_over_to_a_person(dispatcher, domain_dict):
    tracker = make_tracker(intent="nlu_fallback", events=[user("nlu_fallback"), user("nlu_fallback")])
    events = await ActionHandleFallback().run(dispatcher, tracker, domain_dict)
    assert responses(dispatcher) == ["utter_offer_human"]
    assert events == [{"event": "followup", "timestamp": None, "name": "action_handoff"}]


def test_understood_message_resets_the_count_and_bad_input_does_not_count():
    events = [user("nlu_fallback"), user("refund"), user("nlu_fallback", input_issue="empty"), user("nlu_fallback")]
    assert consecutive_misunderstandings(make_tracker(events=events)) == 1


async def test_unusable_input_gets_its_own_answer(domain_dict):
    from rasa_sdk.executor import CollectingDispatcher

    expected = {
        "empty": "utter_input_empty",
        "symbols_only": "utter_input_symbols",
        "markup_only": "utter_input_markup",
        "too_long": "utter_input_too_long",
    }
    for issue, response in expected.items():
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(
            intent="nlu_fallback", events=[user("nlu_fallback", input_issue=issue)], input_issue=issue
        )
        await ActionHandleFallback().run(dispatcher, tracker, domain_dict)
        assert responses(dispatcher) == [response], issue


def test_actions_read_the_latest_message_language_before_the_slot_catches_up():
    tracker = make_tracker({"language": "zh", "script": "simplified"}, language="en", script=None)
    assert language(tracker) == "en" and script(tracker) == "simplified"
    tracker = make_tracker({"language": "en"}, language="zh", script="traditional")
    assert language(tracker) == "zh" and script(tracker) == "traditional"


def test_language_neutral_message_keeps_the_conversation_language():
    tracker = make_tracker({"language": "en"}, language=None, script=None, text="12345")
    assert language(tracker) == "en"


async def test_gibberish_counts_as_a_misunderstanding_with_common_suggestions(dispatcher, domain_dict):
    # the model's guesses stay in the ranking, but are not offered for gibberish
    gibberish = [
        {"name": "nlu_fallback", "confidence": 1.0},
        {"name": "invoice", "confidence": 0.6},
        {"name": "account_issue", "confidence": 0.3},
    ]
    tracker = make_tracker(
        intent="nlu_fallback",
        events=[user("greet"), user("nlu_fallback", input_issue="gibberish")],
        input_issue="gibberish",
        intent_ranking=gibberish,
    )
    await ActionHandleFallback().run(dispatcher, tracker, domain_dict)
    assert responses(dispatcher) == ["utter_ask_rephrase"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
        "/order_status",
        "/return_exchange",
        "/refund",
        "/request_human",
    ]
    twice = [user("nlu_fallback", input_issue="gibberish"), user("nlu_fallback", input_issue="gibberish")]
    assert consecutive_misunderstandings(make_tracker(events=twice)) == 2
