"""The complaint script's actions: the exact case writes (timeline entries) and the responses chosen."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import complaint_steps as steps
from actions import complaints, handoff
from actions.clients.handoff import HandoffClient
from actions.complaint_steps import Stage
from tests.actions.conftest import ALICE, make_tracker, responses
from tests.actions.handoff_standin import NUMBER, running_standin

CASE_SLOTS = {
    "case_number": None,
    "case_journal": [],
    "case_number_told": False,
    "complaint_step": None,
    "complaint_category": None,
    "complaint_details": None,
    "complaint_expectation": None,
    "complaint_remedy": None,
    "remedy_offers": None,
    "remedy_rejected": [],
    "remedy_deadline": None,
    "complaint_paused_at": None,
    "emotion_level": None,
    "handoff_active": False,
}


class Conversation:
    """Runs actions one after another, carrying the slots they set, as Rasa would."""

    def __init__(self, client: HandoffClient, store, metadata: dict[str, Any] | None = None, **slots: Any) -> None:
        self.client, self.store = client, store
        # the customer the channel identified (the owner of 20004 in the demo store), unless told otherwise
        self.metadata = dict(ALICE) if metadata is None else metadata
        self.slots: dict[str, Any] = {**CASE_SLOTS, **slots}
        self.events: list[dict[str, Any]] = []

    async def run(self, action_cls, domain, text: str = "", intent: str = "inform", entities=None, **parse):
        parse.setdefault("metadata", self.metadata)
        action = action_cls(client=self.client, orders=self.store)
        dispatcher = CollectingDispatcher()
        self.events.append({"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}})
        tracker = make_tracker(
            dict(self.slots), intent=intent, text=text, entities=entities, events=list(self.events), **parse
        )
        events = await action.run(dispatcher, tracker, domain)
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        self.events += events
        return dispatcher


def client_for(port: int) -> HandoffClient:
    return HandoffClient(f"http://127.0.0.1:{port}", token="test-token", timeout=2.0)


async def run_to_remedy(conv: Conversation, domain) -> None:
    await conv.run(
        complaints.ActionComplaintAccept,
        domain,
        text="我买的保温杯收到就是碎的！！太差了",
        intent="complain",
        emotion={"level": 2, "cues": ["太差了", "!!"]},
    )
    await conv.run(complaints.ActionComplaintCalm, domain, emotion={"level": 2, "cues": ["太差了", "!!"]})
    conv.slots.update(order_number="20004", complaint_expectation="换一个新的")
    await conv.run(complaints.ActionComplaintRestate, domain)
    await conv.run(complaints.ActionComplaintClarified, domain, intent="affirm")


async def test_full_complaint_writes_every_step_in_order(domain_dict, store, unused_port):
    async with running_standin(unused_port) as service:
        conv = Conversation(client_for(unused_port), store)
        d = await conv.run(
            complaints.ActionComplaintAccept,
            domain_dict,
            text="我买的保温杯收到就是碎的！！太差了",
            intent="complain",
            emotion={"level": 2, "cues": ["太差了", "!!"]},
        )
        assert responses(d) == ["utter_complaint_accepted"]
        assert d.messages[0]["case_number"] == NUMBER
        assert conv.slots["complaint_category"] == "quality"  # guessed from 碎
        assert conv.slots["complaint_details"] == "我买的保温杯收到就是碎的！！太差了"
        d = await conv.run(complaints.ActionComplaintCalm, domain_dict)
        assert responses(d) == ["utter_complaint_calm_2"]
        conv.slots.update(order_number="20004", complaint_expectation="换一个新的")
        d = await conv.run(complaints.ActionComplaintRestate, domain_dict)
        assert responses(d) == ["utter_confirm_complaint_problem"]
        assert d.messages[0]["order_number"] == "20004" and d.messages[0]["category"] == "商品质量"
        await conv.run(complaints.ActionComplaintClarified, domain_dict, intent="affirm")
        assert conv.slots["remedy_offers"] == ["replacement", "refund", "repair", "voucher"]  # 20004 is delivered
        conv.slots["complaint_remedy"] = "replacement"
        d = await conv.run(complaints.ActionComplaintConfirmRemedy, domain_dict)
        assert responses(d) == ["utter_confirm_complaint_remedy"]
        assert d.messages[0]["deadline"] == "2026年11月26日 18:00"  # the case's SLA result deadline, Beijing time
        d = await conv.run(complaints.ActionComplaintClose, domain_dict, intent="affirm")
        assert responses(d) == ["utter_complaint_closed"]

    assert service.timeline() == [
        (
            steps.LISTEN_ACCEPT,
            {
                "step": 1,
                "message": "我买的保温杯收到就是碎的！！太差了",
                "category_guess": "quality",
                "emotion_level": 2,
                "language": "zh",
            },
        ),
        (steps.CALM, {"step": 2, "emotion_level": 2, "cues": [], "tier": None}),
        (
            steps.CLARIFY,
            {
                "step": 3,
                "order_state": "delivered",
                "collected": {
                    "complaint_category": "quality",
                    "order_number": "20004",
                    "complaint_details": "我买的保温杯收到就是碎的！！太差了",
                    "complaint_expectation": "换一个新的",
                },
            },
        ),
        (
            steps.NEGOTIATE,
            {
                "step": 4,
                "offered": ["replacement", "refund", "repair", "voucher"],
                "rejected": [],
                "chosen": "replacement",
            },
        ),
        (
            steps.CONFIRM,
            {"step": 5, "remedy": "replacement", "deadline": "2026-11-26T10:00:00+00:00", "confirmed": True},
        ),
    ]
    methods = [(m, p) for m, p, _ in service.requests]
    assert methods[0] == ("POST", "/api/bot/cases")
    assert ("PATCH", f"/api/bot/cases/{NUMBER}") in methods
    assert methods[-1] == ("POST", f"/api/bot/cases/{NUMBER}/resolve")
    assert conv.slots["complaint_step"] == Stage.DONE and conv.slots["case_journal"] == []


async def test_level_three_raises_the_tier_before_logging_calm(domain_dict, store, unused_port):
    async with running_standin(unused_port) as service:
        conv = Conversation(client_for(unused_port), store)
        await conv.run(
            complaints.ActionComplaintAccept,
            domain_dict,
            text="再不处理我就投诉到12315！",
            intent="complain",
            emotion={"level": 3, "cues": ["12315"]},
        )
        d = await conv.run(complaints.ActionComplaintCalm, domain_dict, emotion={"level": 3, "cues": ["12315"]})
    assert responses(d) == ["utter_complaint_calm_3"]
    writes = [(m, body) for m, p, body in service.requests if m != "GET"][2:]
    assert writes[0] == ("PATCH", {"tier": "high"})
    assert writes[1][1]["action"] == steps.CALM and writes[1][1]["details"]["tier"] == "high"
    assert writes[1][1]["details"]["cues"] == ["12315"]


async def test_service_down_keeps_every_entry_and_delivers_them_later_in_order(domain_dict, store, unused_port):
    stopped = client_for(unused_port)  # nothing listens there yet
    conv = Conversation(stopped, store)
    d = await conv.run(complaints.ActionComplaintAccept, domain_dict, text="快递一个星期还没到", intent="complain")
    assert responses(d) == ["utter_complaint_accepted_pending"]
    d = await conv.run(complaints.ActionComplaintCalm, domain_dict)
    assert responses(d) == ["utter_complaint_calm_0"]
    journal = conv.slots["case_journal"]
    assert [op["op"] for op in journal] == ["create", "timeline", "timeline"]
    assert conv.slots["case_number"] is None
    keys = [op["body"]["idempotency_key"] for op in journal]

    async with running_standin(unused_port) as service:  # the service is back
        conv.slots.update(
            complaint_category="delivery",
            order_number="20003",
            complaint_details="快递一个星期还没到",
            complaint_expectation="尽快送到",
        )
        d = await conv.run(complaints.ActionComplaintRestate, domain_dict)  # writes nothing itself
        assert service.requests == []
        d = await conv.run(complaints.ActionComplaintClarified, domain_dict, intent="affirm")
    # the late case number is told once, when it arrives
    assert responses(d) == ["utter_case_registered"] and d.messages[0]["case_number"] == NUMBER
    assert [a for a, _ in service.timeline()] == [steps.LISTEN_ACCEPT, steps.CALM, steps.CLARIFY]
    sent_keys = [body["idempotency_key"] for m, p, body in service.requests if m == "POST"][:3]
    assert sent_keys == keys  # the same keys: a retry after a lost answer cannot duplicate
    assert conv.slots["case_journal"] == [] and conv.slots["case_number"] == NUMBER


async def test_a_5xx_answer_is_retried_with_the_same_key(domain_dict, store, unused_port):
    async with running_standin(unused_port) as service:
        conv = Conversation(client_for(unused_port), store)
        service.fail_next = [503]
        await conv.run(complaints.ActionComplaintAccept, domain_dict, text="我要投诉", intent="complain")
        assert len(conv.slots["case_journal"]) == 2
        await conv.run(complaints.ActionComplaintCalm, domain_dict)
    creates = [body for m, p, body in service.requests if p == "/api/bot/cases"]
    assert len(creates) == 2 and creates[0]["idempotency_key"] == creates[1]["idempotency_key"]
    assert conv.slots["case_journal"] == []


async def test_a_no_to_the_restatement_asks_which_part_and_clears_only_that(domain_dict, store, unused_port):
    async with running_standin(unused_port) as service:
        conv = Conversation(
            client_for(unused_port),
            store,
            complaint_step=Stage.CONFIRMING_PROBLEM,
            case_number=NUMBER,
            complaint_category="quality",
            order_number="20004",
            complaint_details="杯子碎了",
            complaint_expectation="换新",
        )
        d = await conv.run(complaints.ActionComplaintAskFix, domain_dict, text="不对", intent="deny")
        assert responses(d) == ["utter_ask_complaint_fix"] and conv.slots["complaint_step"] == Stage.FIXING
        await conv.run(complaints.ActionComplaintFix, domain_dict, text="订单号不对", intent="inform")
        assert conv.slots["order_number"] is None and conv.slots["complaint_step"] == Stage.CLARIFYING
        assert conv.slots["complaint_details"] == "杯子碎了"  # the rest is kept
        # a "no" that carries the correction itself needs no question
        d = await conv.run(
            complaints.ActionComplaintAskFix,
            domain_dict,
            text="不对，订单号是 20006",
            intent="deny",
            entities=[{"entity": "order_number", "value": "20006"}],
        )
        assert responses(d) == [] and conv.slots["order_number"] == "20006"
        assert conv.slots["complaint_step"] == Stage.CORRECTED
    assert [a for a, _ in service.timeline()] == [steps.CORRECTED, steps.CORRECTED]


async def test_remedy_choice_another_option_and_beyond_policy(domain_dict):
    form = complaints.ValidateRemedyForm()
    slots = {"remedy_offers": ["replacement", "refund"], "remedy_rejected": []}
    dispatcher = CollectingDispatcher()
    pick = form.validate_complaint_remedy("我要退款", dispatcher, make_tracker(slots, text="我要退款"), domain_dict)
    assert pick == {"complaint_remedy": "refund"}
    button = make_tracker(slots, entities=[{"entity": "complaint_remedy", "value": "replacement"}])
    assert form.validate_complaint_remedy("/inform", dispatcher, button, domain_dict) == {
        "complaint_remedy": "replacement"
    }
    other = form.validate_complaint_remedy("换个方案", dispatcher, make_tracker(slots, text="换个方案"), domain_dict)
    assert other == {"complaint_remedy": None, "remedy_rejected": ["replacement", "refund"]}
    beyond = form.validate_complaint_remedy("给我修一下", dispatcher, make_tracker(slots), domain_dict)
    assert beyond == {"complaint_remedy": "human_decision"}  # repair is not offered here: a colleague decides
    exhausted = {"remedy_offers": ["voucher"], "remedy_rejected": ["voucher"]}
    assert form.validate_complaint_remedy("都不满意", dispatcher, make_tracker(exhausted), domain_dict) == {
        "complaint_remedy": "human_decision"
    }


async def test_remedy_buttons_follow_the_offer_and_language(domain_dict, store, unused_port):
    conv = Conversation(
        client_for(unused_port), store, language="en", remedy_offers=["voucher", "refund"], remedy_rejected=["voucher"]
    )
    d = await conv.run(complaints.ActionAskComplaintRemedy, domain_dict)
    assert responses(d) == ["utter_ask_complaint_remedy"]
    assert [b["title"] for b in d.messages[0]["buttons"]] == ["a refund", "Another option", "Talk to a person"]
    assert d.messages[0]["options"] == "a refund"


async def test_declined_remedy_is_set_aside(domain_dict, store, unused_port):
    async with running_standin(unused_port) as service:
        conv = Conversation(
            client_for(unused_port),
            store,
            case_number=NUMBER,
            case_number_told=True,
            complaint_remedy="voucher",
            remedy_offers=["voucher", "refund"],
        )
        await conv.run(complaints.ActionComplaintRemedyDeclined, domain_dict, intent="deny")
    assert conv.slots["remedy_rejected"] == ["voucher"] and conv.slots["complaint_remedy"] is None
    assert service.timeline() == [(steps.REMEDY_DECLINED, {"remedy": "voucher"})]


async def test_stop_keeps_the_case_and_the_case_number_brings_it_back(domain_dict, store, unused_port):
    async with running_standin(unused_port) as service:
        conv = Conversation(client_for(unused_port), store)
        await run_to_remedy(conv, domain_dict)
        d = await conv.run(complaints.ActionComplaintPause, domain_dict, text="算了", intent="stop")
        assert responses(d) == ["utter_complaint_paused"] and d.messages[0]["case_number"] == NUMBER
        assert conv.slots["complaint_step"] == Stage.PAUSED and conv.slots["complaint_paused_at"] == Stage.NEGOTIATING
        d = await conv.run(
            complaints.ActionCaseStatus,
            domain_dict,
            text=f"我的案件 {NUMBER}",
            entities=[{"entity": "case_number", "value": NUMBER}],
        )
        assert responses(d) == ["utter_case_status", "utter_ask_complaint_resume"]
        assert d.messages[0]["status"] == "已受理，正在处理"
        d = await conv.run(complaints.ActionComplaintResume, domain_dict, intent="affirm")
        assert responses(d) == ["utter_complaint_resumed"] and conv.slots["complaint_step"] == Stage.NEGOTIATING
        assert conv.slots["remedy_offers"] == ["replacement", "refund", "repair", "voucher"]  # nothing lost
        d = await conv.run(
            complaints.ActionCaseStatus, domain_dict, entities=[{"entity": "case_number", "value": "C20200101-0001"}]
        )
        assert responses(d) == ["utter_case_not_found"]
    actions = [a for a, _ in service.timeline()]
    assert actions[-2:] == [steps.PAUSED, steps.RESUMED]


async def test_case_status_when_the_service_is_down(domain_dict, store, unused_port):
    conv = Conversation(client_for(unused_port), store)
    d = await conv.run(complaints.ActionCaseStatus, domain_dict, entities=[{"entity": "case_number", "value": NUMBER}])
    assert responses(d) == ["utter_case_status_unavailable"]


@pytest.mark.parametrize("agents, response", [(1, "utter_handoff_queued"), (0, "utter_handoff_no_agents")])
async def test_handoff_carries_everything_collected(domain_dict, store, unused_port, agents, response):
    async with running_standin(unused_port) as service:
        service.agents_online = agents
        conv = Conversation(client_for(unused_port), store)
        await run_to_remedy(conv, domain_dict)
        d = await conv.run(handoff.ActionHandoff, domain_dict, text="转人工", intent="request_human")
    assert responses(d) == [response] and conv.slots["handoff_active"] is True
    if agents:
        assert d.messages[0]["position"] == 3 and d.messages[0]["wait_minutes"] == 12
    else:
        assert d.messages[0]["deadline"] == "2026年11月25日 10:00"
    body = [b for m, p, b in service.requests if p.endswith("/handoff")][0]
    summary = body["summary"]
    assert summary["problem"] == "我买的保温杯收到就是碎的！！太差了"
    assert summary["collected"]["order_number"] == "20004"
    assert summary["collected"]["complaint_expectation"] == "换一个新的"
    assert summary["emotion"] == "level 2" and summary["reason"] == "customer_request"
    assert f"complaint:{Stage.NEGOTIATING}" in summary["steps_tried"]
    assert service.timeline()[-1] == ("handoff.requested", {"reason": "customer_request"})


async def test_handoff_when_the_service_is_down_is_honest_and_keeps_the_case(domain_dict, store, unused_port):
    conv = Conversation(client_for(unused_port), store)
    d = await conv.run(handoff.ActionHandoff, domain_dict, text="转人工", intent="request_human")
    assert responses(d) == ["utter_handoff_unavailable"]
    assert conv.slots.get("handoff_active") is False
    assert [op["op"] for op in conv.slots["case_journal"]] == ["create", "timeline"]


async def test_relay_passes_the_message_and_says_nothing(domain_dict, store, unused_port):
    async with running_standin(unused_port) as service:
        conv = Conversation(client_for(unused_port), store, case_number=NUMBER, handoff_active=True)
        d = await conv.run(handoff.ActionRelayToAgent, domain_dict, text="好的，我等一下", intent="affirm")
    assert responses(d) == [] and [e for e in conv.events if e["event"] != "user"] == []
    assert service.requests[-1][2] == {"text": "好的，我等一下", "metadata": {"language": "zh", "intent": "affirm"}}
    d = await conv.run(handoff.ActionRelayToAgent, domain_dict, text="还在吗", intent="inform")  # service gone
    assert responses(d) == ["utter_relay_failed"]


async def test_after_the_agent_resolves_a_new_complaint_opens_a_new_case(domain_dict, store, unused_port):
    async with running_standin(unused_port) as service:
        conv = Conversation(
            client_for(unused_port),
            store,
            case_number=NUMBER,
            case_number_told=True,
            complaint_step=Stage.NEEDS_COLLEAGUE,
            handoff_active=True,
        )
        d = await conv.run(handoff.ActionHandoffResolved, domain_dict, intent="EXTERNAL_handoff_resolved")
        assert responses(d) == ["utter_handoff_resolved"]
        assert conv.slots["handoff_active"] is False and conv.slots["complaint_step"] == Stage.DONE
        await conv.run(complaints.ActionComplaintAccept, domain_dict, text="我又要投诉", intent="complain")
    assert [p for m, p, _ in service.requests][0] == "/api/bot/cases"  # a new case, not the settled one
