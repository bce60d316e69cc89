"""Satisfaction survey: typed ratings in both languages, skipping, and the answers sent to the case."""

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.clients.handoff import HandoffClient
from actions.survey import ActionSurveySubmit, ValidateSurveyForm, parse_rating
from tests.actions.conftest import make_tracker, responses
from tests.actions.handoff_standin import NUMBER, running_standin


@pytest.mark.parametrize(
    "text, expected",
    [
        ("5", 5),
        ("5分", 5),
        ("给5分吧", 5),
        ("五星", 5),
        ("四颗星", 4),
        ("非常满意", 5),
        ("非常不满意", 1),
        ("不满意", 2),
        ("一般般", 3),
        ("滿意", 4),
        ("4 stars", 4),
        ("3/5", 3),
        ("very satisfied", 5),
        ("it was ok", 3),
        ("terrible", 1),
        ("good", 4),
        ("I'd give it 2 out of 5", 2),
        ("", None),
        ("今天天气怎么样", None),
        ("10", None),
        ("2.5", None),
        ("<b>5</b>", 5),
    ],
)
def test_typed_ratings(text, expected):
    assert parse_rating(text) == expected


def test_solved_accepts_yes_and_no():
    assert parse_rating("解决了", yes_no=True) == 5
    assert parse_rating("还没解决", yes_no=True) == 1
    assert parse_rating("no", yes_no=True) == 1


def test_form_takes_buttons_typed_answers_and_skipping(domain_dict):
    form, dispatcher = ValidateSurveyForm(), CollectingDispatcher()
    button = make_tracker(entities=[{"entity": "rating", "value": "4"}], text="/inform")
    assert form.validate_csat_overall("/inform", dispatcher, button, domain_dict) == {"csat_overall": 4}
    typed = make_tracker(text="非常满意")
    assert form.validate_csat_attitude("非常满意", dispatcher, typed, domain_dict) == {"csat_attitude": 5}
    unclear = make_tracker(text="嗯")
    assert form.validate_csat_speed("嗯", dispatcher, unclear, domain_dict) == {"csat_speed": None}
    assert responses(dispatcher) == ["utter_survey_rating_unclear"]
    skip = make_tracker(intent="stop", text="跳过")
    assert form.validate_csat_overall("跳过", dispatcher, skip, domain_dict) == {
        "csat_overall": 0,
        "csat_attitude": 0,
        "csat_speed": 0,
        "csat_solved": 0,
        "csat_comment": "-",
        "survey_skipped": True,
    }


async def test_answers_land_on_the_case(domain_dict, unused_port):
    slots = {
        "case_number": NUMBER,
        "case_journal": [],
        "case_number_told": True,
        "csat_overall": 5,
        "csat_attitude": 5,
        "csat_speed": 4,
        "csat_solved": 5,
        "csat_comment": "谢谢小鲸",
    }
    async with running_standin(unused_port) as service:
        dispatcher = CollectingDispatcher()
        client = HandoffClient(f"http://127.0.0.1:{unused_port}", token="t")
        await ActionSurveySubmit(client=client).run(dispatcher, make_tracker(slots), domain_dict)
    assert responses(dispatcher) == ["utter_survey_thanks"]
    assert service.requests[-1] == (
        "POST",
        f"/api/bot/cases/{NUMBER}/csat",
        {"overall": 5, "attitude": 5, "speed": 4, "solved": 5, "comment": "谢谢小鲸"},
    )


async def test_skipped_survey_sends_nothing(domain_dict, unused_port):
    dispatcher = CollectingDispatcher()
    client = HandoffClient(f"http://127.0.0.1:{unused_port}", token="t")
    events = await ActionSurveySubmit(client=client).run(
        dispatcher, make_tracker({"case_number": NUMBER, "csat_overall": None}), domain_dict
    )
    assert responses(dispatcher) == ["utter_survey_skipped"]
    assert {"event": "slot", "timestamp": None, "name": "csat_overall", "value": None} in events


async def test_skipping_midway_sends_only_real_answers(domain_dict, unused_port):
    form, dispatcher = ValidateSurveyForm(), CollectingDispatcher()
    # the raw text is already in the slot when the validator runs
    skip = make_tracker({"csat_overall": 5, "csat_attitude": "跳过"}, intent="stop", text="跳过")
    filled = form.validate_csat_attitude("跳过", dispatcher, skip, domain_dict)
    assert filled["csat_attitude"] == 0 and "csat_overall" not in filled
    slots = {
        "case_number": NUMBER,
        "case_journal": [],
        "case_number_told": True,
        "csat_overall": 5,
        "csat_attitude": "跳过",
        "csat_speed": None,
        "csat_solved": None,
        "csat_comment": None,
    }
    async with running_standin(unused_port) as service:
        client = HandoffClient(f"http://127.0.0.1:{unused_port}", token="t")
        await ActionSurveySubmit(client=client).run(dispatcher, make_tracker(slots), domain_dict)
    assert service.requests[-1][2] == {"overall": 5}


# ---------------------------------------------------------------- the follow-up visit

from actions.survey import (  # noqa: E402
    ActionFollowUpSubmit,
    ActionFollowUpVisit,
    ValidateFollowUpForm,
    parse_solved,
)


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("/affirm", "affirm", True),
        ("/deny", "deny", False),
        ("解决了，谢谢", "inform", True),
        ("已經解決了", "inform", True),  # Traditional
        ("还没解决", "inform", False),
        ("没有，还是没到账", "inform", False),
        ("yes it's fixed", "inform", True),
        ("not yet", "inform", False),
        ("今天天气怎么样", "inform", None),
    ],
)
def test_is_it_solved_buttons_and_typed_answers(text, intent, expected):
    assert parse_solved(make_tracker(intent=intent, text=text), text) is expected


async def test_the_visit_takes_its_case_and_asks_for_a_rating_only_when_the_survey_was_skipped(domain_dict):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {"case_number": NUMBER, "case_journal": []},
        intent="EXTERNAL_follow_up_visit",
        entities=[{"entity": "case_number", "value": NUMBER}, {"entity": "ask_rating", "value": True}],
    )
    events = await ActionFollowUpVisit().run(dispatcher, tracker, domain_dict)
    slots = {e["name"]: e["value"] for e in events}
    assert slots["follow_up_case"] == NUMBER and slots["follow_up_ask_rating"] is True
    assert slots["case_number"] == NUMBER
    assert dispatcher.messages[0]["response"] == "utter_follow_up_visit"
    form = ValidateFollowUpForm()
    wanted = ["follow_up_solved", "follow_up_rating"]
    asked = make_tracker({"follow_up_ask_rating": True})
    assert await form.required_slots(wanted, dispatcher, asked, domain_dict) == wanted
    rated = make_tracker({"follow_up_ask_rating": False})
    assert await form.required_slots(wanted, dispatcher, rated, domain_dict) == ["follow_up_solved"]


def test_an_unclear_answer_is_asked_again(domain_dict):
    form, dispatcher = ValidateFollowUpForm(), CollectingDispatcher()
    # the visit clears the answers of an earlier visit: nothing to validate, nothing said
    opening = make_tracker(intent="EXTERNAL_follow_up_visit", text="/EXTERNAL_follow_up_visit")
    assert form.validate_follow_up_solved(None, dispatcher, opening, domain_dict) == {"follow_up_solved": None}
    assert form.validate_follow_up_rating(None, dispatcher, opening, domain_dict) == {"follow_up_rating": None}
    assert dispatcher.messages == []
    unclear = make_tracker(text="嗯")
    assert form.validate_follow_up_solved("嗯", dispatcher, unclear, domain_dict) == {"follow_up_solved": None}
    assert responses(dispatcher) == ["utter_follow_up_unclear"]
    button = make_tracker(entities=[{"entity": "rating", "value": "2"}], text="/inform")
    assert form.validate_follow_up_rating("/inform", dispatcher, button, domain_dict) == {"follow_up_rating": 2}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_not_solved_reopens_and_says_who_replies_by_when(domain_dict, unused_port, lang):
    slots = {
        "language": lang,
        "case_number": NUMBER,
        "case_journal": [],
        "follow_up_case": NUMBER,
        "follow_up_solved": False,
        "follow_up_rating": 2,
    }
    async with running_standin(unused_port) as service:
        dispatcher = CollectingDispatcher()
        client = HandoffClient(f"http://127.0.0.1:{unused_port}", token="t")
        events = await ActionFollowUpSubmit(client=client).run(dispatcher, make_tracker(slots), domain_dict)
    assert service.requests[-1] == ("POST", f"/api/bot/cases/{NUMBER}/follow-up", {"solved": False, "rating": 2})
    [message] = dispatcher.messages
    assert message["response"] == "utter_follow_up_reopened"
    assert message["agent"] == "Alice Li" and message["case_number"] == NUMBER
    assert message["deadline"] == ("26 Nov 2026, 18:00 (Beijing time)" if lang == "en" else "2026年11月26日 18:00")
    assert {"event": "slot", "timestamp": None, "name": "case_journal", "value": []} in events


async def test_solved_closes_and_an_unreachable_service_keeps_the_answer(domain_dict, unused_port):
    slots = {"case_number": NUMBER, "case_journal": [], "follow_up_case": NUMBER, "follow_up_solved": True}
    dispatcher = CollectingDispatcher()
    client = HandoffClient(f"http://127.0.0.1:{unused_port}", token="t")  # nothing listens: the service is down
    events = await ActionFollowUpSubmit(client=client).run(dispatcher, make_tracker(slots), domain_dict)
    assert responses(dispatcher) == ["utter_follow_up_solved"]
    [journal] = [e["value"] for e in events if e.get("name") == "case_journal"]
    assert journal == [{"op": "follow_up", "body": {"solved": True}}]  # retried until it lands


async def test_a_declined_visit_sends_nothing(domain_dict, unused_port):
    dispatcher = CollectingDispatcher()
    async with running_standin(unused_port) as service:
        client = HandoffClient(f"http://127.0.0.1:{unused_port}", token="t")
        slots = {"follow_up_case": NUMBER, "follow_up_solved": None}
        await ActionFollowUpSubmit(client=client).run(dispatcher, make_tracker(slots), domain_dict)
    assert responses(dispatcher) == ["utter_follow_up_skipped"] and service.requests == []
