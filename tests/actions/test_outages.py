"""Outage notices in the bot (actions/outages.py): a notice in force is told first, in the customer's language
and script, with its status, latest update and expected recovery; a case opened afterwards is linked to it;
without notices, or without handoff_service, the bot answers as before."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions import complaints, outage_notices, outages
from actions.clients.handoff import HandoffClient
from bot.nlg import localize
from tests.actions.conftest import make_tracker, responses
from tests.actions.handoff_standin import NUMBER, running_standin
from tests.actions.test_complaints import Conversation

PAYMENT_OUTAGE = {
    "id": 7,
    "title": {"zh": "支付服务异常", "en": "Payment service disruption"},
    "topics": ["payment"],
    "status": "identified",
    "status_label": {"zh": "已找到原因，正在修复", "en": "Cause identified, fix in progress"},
    "expected_recovery_at": "2026-11-24T10:30:00+00:00",
    "latest": {"zh": "支付网关故障，正在修复。", "en": "The payment gateway is being fixed.", "at": "x"},
    "reports": 3,
}


def client_for(port: int) -> HandoffClient:
    return HandoffClient(f"http://127.0.0.1:{port}", token="test-token", timeout=2.0)


def fill(domain: dict, message: dict, language: str, script: str = "simplified") -> str:
    """The text the customer reads: the response's variation for the language, filled in (as bot/nlg.py)."""
    [variation] = [v for v in domain["responses"][message["response"]] if v["condition"][0]["value"] == language]
    values = {k: v for k, v in message.items() if k.startswith("outage_")}
    text = variation["text"].format(**values)
    return localize({"text": text}, {"language": language, "script": script})["text"]


async def run(action_cls, port, domain, *, intent, language="zh", script="simplified", text=""):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({"language": language, "script": script}, intent=intent, text=text)
    events = await action_cls(client=client_for(port)).run(dispatcher, tracker, domain)
    return dispatcher, events


async def test_a_payment_question_during_a_payment_outage_hears_the_notice_first(domain_dict, unused_port):
    async with running_standin(unused_port) as service:
        service.outages = [PAYMENT_OUTAGE]
        d, events = await run(outages.ActionOutageCheck, unused_port, domain_dict, intent="payment_issue")
        assert responses(d) == ["utter_outage_notice"]
        said = fill(domain_dict, d.messages[0], "zh")
        assert "支付服务异常" in said and "已找到原因" in said and "支付网关故障" in said
        assert "2026年11月24日 18:30" in said and "感谢您的理解" in said
        assert events == [{"event": "slot", "timestamp": None, "name": "outage_notice", "value": "7"}]
        assert service.queries[-1] == {"topic": "payment"}


async def test_english_and_traditional_customers_hear_it_in_kind(domain_dict, unused_port):
    async with running_standin(unused_port) as service:
        service.outages = [PAYMENT_OUTAGE]
        d, _ = await run(outages.ActionOutageCheck, unused_port, domain_dict, intent="payment_issue", language="en")
        said = fill(domain_dict, d.messages[0], "en")
        assert "Payment service disruption" in said and "24 Nov 2026, 18:30 (Beijing time)" in said
        assert "Thank you for your understanding" in said
        d, _ = await run(
            outages.ActionOutageCheck, unused_port, domain_dict, intent="payment_issue", script="traditional"
        )
        said = fill(domain_dict, d.messages[0], "zh", "traditional")
        assert "支付服務異常" in said and "感謝您的理解" in said


async def test_a_notice_already_told_is_not_repeated_at_the_next_question(domain_dict, unused_port):
    async with running_standin(unused_port) as service:
        service.outages = [PAYMENT_OUTAGE]
        dispatcher = CollectingDispatcher()
        tracker = make_tracker({"outage_notice": "7"}, intent="payment_issue")
        events = await outages.ActionOutageCheck(client=client_for(unused_port)).run(dispatcher, tracker, domain_dict)
        assert responses(dispatcher) == [] and events == []
        dispatcher = CollectingDispatcher()
        await outages.ActionOutageStatus(client=client_for(unused_port)).run(dispatcher, tracker, domain_dict)
        assert responses(dispatcher) == ["utter_outage_notice"]  # asked outright: told again


async def test_other_topics_and_no_notices_stay_silent(domain_dict, unused_port):
    async with running_standin(unused_port) as service:
        service.outages = [PAYMENT_OUTAGE]
        d, events = await run(outages.ActionOutageCheck, unused_port, domain_dict, intent="account_issue")
        assert responses(d) == [] and events == []
        assert service.queries[-1] == {"topic": "login"}


async def test_is_it_down_tells_every_notice_in_force_or_the_usual_answer(domain_dict, unused_port):
    async with running_standin(unused_port) as service:
        d, events = await run(outages.ActionOutageStatus, unused_port, domain_dict, intent="service_outage")
        assert responses(d) == ["utter_service_outage"] and events == []
        service.outages = [PAYMENT_OUTAGE, {**PAYMENT_OUTAGE, "id": 6, "expected_recovery_at": None}]
        d, events = await run(outages.ActionOutageStatus, unused_port, domain_dict, intent="service_outage")
        assert responses(d) == ["utter_outage_notice", "utter_outage_notice"]
        assert d.messages[1]["outage_eta"] == "暂未确定，我们会及时通知您"
        assert events[0]["value"] == "7"


async def test_without_handoff_service_the_bot_answers_as_before(domain_dict, unused_port):
    # nothing listens on the port
    d, events = await run(outages.ActionOutageStatus, unused_port, domain_dict, intent="service_outage")
    assert responses(d) == ["utter_service_outage"] and events == []
    d, events = await run(outages.ActionOutageCheck, unused_port, domain_dict, intent="payment_issue")
    assert responses(d) == [] and events == []
    async with running_standin(unused_port) as service:
        service.fail_next = [503]
        d, _ = await run(outages.ActionOutageStatus, unused_port, domain_dict, intent="service_outage")
        assert responses(d) == ["utter_service_outage"]


async def test_a_complaint_after_the_notice_opens_a_case_linked_to_it(domain_dict, store, unused_port):
    async with running_standin(unused_port) as service:
        conv = Conversation(client_for(unused_port), store, outage_notice="7")
        d = await conv.run(
            complaints.ActionComplaintAccept, domain_dict, text="付款一直失败，太气人了", intent="complain"
        )
        assert responses(d) == ["utter_complaint_accepted"]
        created = [b for m, p, b in service.requests if m == "POST" and p == "/api/bot/cases"]
        assert created[0]["outage_notice"] == "7"
        links = [(p, b) for m, p, b in service.requests if m == "POST" and p.startswith("/api/bot/outages/")]
        assert links == [("/api/bot/outages/7/cases", {"case": NUMBER, "conversation_id": "test-user"})]
        assert conv.slots["case_journal"] == []  # every write landed


async def test_a_complaint_on_an_affected_topic_hears_the_notice_first_and_is_linked(domain_dict, store, unused_port):
    async with running_standin(unused_port) as service:
        service.outages = [PAYMENT_OUTAGE]
        conv = Conversation(client_for(unused_port), store)
        d = await conv.run(
            complaints.ActionComplaintAccept, domain_dict, text="付款一直失败，我要投诉", intent="complain"
        )
        assert responses(d) == ["utter_outage_notice", "utter_complaint_accepted"]
        assert conv.slots["outage_notice"] == "7" and conv.slots["complaint_category"] == "billing"
        assert ("POST", "/api/bot/outages/7/cases") in [(m, p) for m, p, _ in service.requests]
        # a complaint on another topic: no notice read, no link
        service.requests.clear()
        other = Conversation(client_for(unused_port), store)
        d = await other.run(
            complaints.ActionComplaintAccept, domain_dict, text="保温杯是碎的，我要投诉", intent="complain"
        )
        assert responses(d) == ["utter_complaint_accepted"]
        assert not [p for _, p, _ in service.requests if "outages" in p]


async def test_a_link_kept_while_the_service_is_down_lands_later(domain_dict, store, unused_port):
    async with running_standin(unused_port) as service:
        service.fail_outage_links = 1
        conv = Conversation(client_for(unused_port), store, outage_notice="7")
        await conv.run(complaints.ActionComplaintAccept, domain_dict, text="付款一直失败", intent="complain")
        assert [op["op"] for op in conv.slots["case_journal"]] == ["outage_link", "timeline"]
        await conv.run(complaints.ActionComplaintCalm, domain_dict)  # the next write flushes the journal
        links = [b for m, p, b in service.requests if m == "POST" and p == "/api/bot/outages/7/cases"]
        assert len(links) == 2 and conv.slots["case_journal"] == []


def test_every_topic_the_bot_asks_about_exists_in_the_service():
    from pathlib import Path

    states = (Path(__file__).resolve().parents[2] / "handoff_service" / "outages" / "states.py").read_text()
    for topic in [*outage_notices.TOPIC_BY_INTENT.values(), *outage_notices.TOPIC_BY_CATEGORY.values()]:
        assert f'"{topic}":' in states, topic
