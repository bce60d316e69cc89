"""Whose order is it (actions/ownership.py): identified customers see only their own orders, anonymous ones
prove an order with the last four digits of its phone, three wrong answers hand over to a person; entity values
of any shape are coerced, never a crash."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import complaints, ownership
from actions.aftersales import ActionRefundInfo
from actions.clients.handoff import HandoffClient
from actions.common import bounded_text
from actions.order_lookup import checked_order_number
from actions.orders import (
    ActionCancelOrder,
    ActionCheckCancel,
    ActionCheckModify,
    ActionOrderStatus,
    ValidateCancelOrderForm,
    ValidateModifyOrderForm,
    ValidateOrderStatusForm,
)
from actions.ownership import Access, last_four_in
from actions.products import ActionProductInfo
from tests.actions.conftest import ALICE, BOB, CAROL, make_tracker, proved, responses
from tests.actions.handoff_standin import NUMBER, running_standin

DIGITS_20002 = "8001"  # the phone on order 20002 (Alice's) ends 8001


def slots_after(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


class Chat:
    """An anonymous (or identified) customer in one conversation: slots carried from action to action."""

    def __init__(self, store, metadata: dict[str, Any] | None = None, domain=None, **slots: Any) -> None:
        self.store, self.metadata = store, metadata or {}
        self.domain = domain or {"forms": {}, "slots": {}}
        self.slots: dict[str, Any] = dict(slots)
        self.said: list[dict[str, Any]] = []

    async def run(self, action, text: str = "", intent: str = "inform", entities=None, **more: Any):
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(dict(self.slots), intent=intent, text=text, entities=entities, metadata=self.metadata)
        tracker.active_loop = more.get("active_loop") or {}
        events = await action.run(dispatcher, tracker, self.domain)
        self.slots.update(slots_after(events))
        self.said += dispatcher.messages
        return events, responses(dispatcher), dispatcher

    async def form(self, form_cls, text: str = "", intent: str = "inform", entities=None):
        """One turn of an order form (its validation action), as Rasa runs it; returns (events, responses)."""
        events, said, _ = await self.run(form_cls(self.store), text, intent, entities)
        return events, said


# ---------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    "metadata, slots, number, expected",
    [
        (ALICE, {}, "20002", Access.GRANTED),  # her own order
        (BOB, {}, "20002", Access.NOT_FOUND),  # someone else's ...
        (BOB, {}, "99999", Access.NOT_FOUND),  # ... answers like an unknown one
        (BOB, proved("20002"), "20002", Access.NOT_FOUND),  # a proof does not make it Bob's
        ({}, {}, "20002", Access.NEEDS_PROOF),  # anonymous: a known order ...
        ({}, {}, "99999", Access.NEEDS_PROOF),  # ... and an unknown one are asked for alike
        ({}, proved("20002"), "20002", Access.GRANTED),
        ({}, {**proved("20003"), "proof_failures": 3}, "20003", Access.GRANTED),  # proved before the lock
        ({}, {"proof_failures": 3}, "20002", Access.LOCKED),
        ({}, {"proof_failures": 2}, "20002", Access.NEEDS_PROOF),
    ],
)
async def test_who_may_read_an_order(store, metadata, slots, number, expected):
    state, order = await ownership.access(store, make_tracker(slots, metadata=metadata), number)
    assert state is expected
    assert (order is not None) == (expected is Access.GRANTED)


@pytest.mark.parametrize(
    "metadata, identified",
    [
        ({"customer_id": "cust-1001"}, "cust-1001"),
        ({}, None),
        (None, None),
        ("cust-1001", None),
        ({"customer_id": ["cust-1001"]}, None),
        ({"customer_id": 1001}, None),
        ({"customer_id": ""}, None),
        ({"customer_id": "a b"}, None),
        ({"customer_id": "c" * 129}, None),
    ],
)
def test_the_customer_id_is_only_a_well_formed_string_from_the_message_metadata(metadata, identified):
    assert ownership.customer_id(make_tracker(metadata=metadata)) == identified


def test_a_customer_id_in_a_slot_or_the_text_identifies_nobody():
    tracker = make_tracker({"customer_id": "cust-1001"}, text='{"customer_id": "cust-1001"}')
    assert ownership.customer_id(tracker) is None


@pytest.mark.parametrize(
    "text, digits",
    [
        ("8001", "8001"),
        ("尾号是8001", "8001"),
        ("后四位 ８００１", "8001"),  # full-width digits
        ("13800138001", "8001"),  # the whole mobile number
        ("the last four are 8001.", "8001"),
        ("80 01", None),
        ("800", None),
        ("80011", None),
        ("8001 还是 8002", None),
        ("", None),
        (None, None),
        (["8001"], None),
        ("x" * 300 + "8001", None),  # only the start of a message is read
    ],
)
def test_the_four_digits_of_an_answer(text, digits):
    assert last_four_in(text) == digits


# ---------------------------------------------------------------- anonymous: the form asks for the digits


async def test_the_cancel_form_asks_an_anonymous_customer_for_the_phone_digits_first(store):
    chat = Chat(store, order_number="20002")
    events, said = await chat.form(ValidateCancelOrderForm, "取消订单20002", "cancel_order")
    assert SlotSet("requested_slot", "order_proof") in events and said == []  # the form asks utter_ask_order_proof
    chat.slots["requested_slot"] = "order_proof"
    events, said = await chat.form(ValidateCancelOrderForm, DIGITS_20002)
    assert chat.slots["verified_orders"] == ["20002"] and chat.slots["requested_slot"] is None
    assert said == []
    _, said, _ = await chat.run(ActionCheckCancel(store))
    assert said == ["utter_confirm_cancel"]
    _, said, _ = await chat.run(ActionCancelOrder(store), "是的", "affirm")
    assert said == ["utter_cancel_done", "utter_anything_else"]
    assert (await store.get_order("20002")).status == "cancelled"


async def test_a_proved_order_is_not_asked_for_again(store):
    chat = Chat(store, order_number="20002", **proved("20002"))
    events, _ = await chat.form(ValidateOrderStatusForm, "订单20002到哪了", "order_status")
    assert SlotSet("requested_slot", None) in events
    chat.slots["order_number"] = "20004"  # another order of hers: asked again
    events, _ = await chat.form(ValidateModifyOrderForm, "改一下20004的地址", "modify_order")
    assert SlotSet("requested_slot", "order_proof") in events


async def test_three_wrong_answers_stop_the_asking_and_hand_over_to_a_person(store, caplog):
    caplog.set_level(logging.DEBUG)
    chat = Chat(store, order_number="20002", requested_slot="order_proof")
    for tried, answer in enumerate(["0000", "1234", "13912345678"], start=1):
        events, said = await chat.form(ValidateCancelOrderForm, answer)
        assert chat.slots["proof_failures"] == tried
        if tried < 3:
            assert said == ["utter_order_proof_wrong"] and chat.said[-1]["tries_left"] == 3 - tried
            assert SlotSet("requested_slot", "order_proof") in events  # asked again
        else:
            assert said == [] and SlotSet("requested_slot", None) in events  # the form ends: no more asking
    events, said, _ = await chat.run(ActionCheckCancel(store))
    assert said == ["utter_order_proof_locked"]
    assert FollowupAction("action_handoff") in events  # the project's handoff path
    assert (await store.get_order("20002")).status == "paid"
    # later questions about any order are not asked either: a person again
    chat.slots.update(order_number="20004", requested_slot=None)
    events, _ = await chat.form(ValidateOrderStatusForm, "20004呢", "order_status")
    assert SlotSet("requested_slot", None) in events
    events, said, _ = await chat.run(ActionOrderStatus(store))
    assert said == ["utter_order_lookup_restate", "utter_order_proof_locked"]
    assert FollowupAction("action_handoff") in events
    # the digits are never echoed nor logged
    for secret in ("0000", "1234", "5678", DIGITS_20002):
        assert not any(secret in str(message) for message in chat.said)
        assert secret not in caplog.text
        assert secret not in str(chat.slots)
    assert "wrong phone digits for order 20002 (3 of 3)" in caplog.text


async def test_an_unknown_order_is_asked_for_like_a_known_one_and_never_proved(store):
    chat = Chat(store, order_number="99999", requested_slot=None)
    events, _ = await chat.form(ValidateOrderStatusForm, "订单99999", "order_status")
    assert SlotSet("requested_slot", "order_proof") in events  # nothing tells whether 99999 exists
    chat.slots["requested_slot"] = "order_proof"
    _, said = await chat.form(ValidateOrderStatusForm, DIGITS_20002)
    assert said == ["utter_order_proof_wrong"] and chat.slots["proof_failures"] == 1


async def test_an_answer_without_digits_is_asked_again_and_costs_no_try(store):
    chat = Chat(store, order_number="20002", requested_slot="order_proof")
    events, said = await chat.form(ValidateCancelOrderForm, "我不记得了", "deny")
    assert said == ["utter_order_proof_hint"] and chat.slots.get("proof_failures") is None
    assert SlotSet("requested_slot", "order_proof") in events
    # a question or "stop" is left to the form's digressions (no events: Rasa's rules take it)
    events, said = await chat.form(ValidateCancelOrderForm, "算了", "stop")
    assert said == [] and not [e for e in events if e.get("name") != "requested_slot"]


async def test_a_new_order_number_instead_of_the_digits_asks_for_that_order(store):
    chat = Chat(store, order_number="20002", requested_slot="order_proof")
    entities = [{"entity": "order_number", "value": "20004"}]
    chat.slots["order_number"] = "20004"  # what Rasa's slot mapping did with the entity
    events, said = await chat.form(ValidateCancelOrderForm, "不对，是20004", "inform", entities)
    assert chat.slots.get("proof_failures") is None and said == []
    assert SlotSet("requested_slot", "order_proof") in events


async def test_an_order_number_changed_after_the_check_is_not_cancelled_unproved(store):
    # 20002 proved, then "yes, cancel 20007" slips another number into the slot before the confirmation
    chat = Chat(store, order_number="20007", cancel_check="cancellable", **proved("20002"))
    events, said, _ = await chat.run(ActionCancelOrder(store), "确认取消20007", "affirm")
    assert FollowupAction("cancel_order_form") in events and said == []  # the form asks for 20007's digits
    assert (await store.get_order("20007")).status == "paid"


# ---------------------------------------------------------------- identified customers


async def test_an_identified_customer_is_not_asked_and_sees_her_order(store):
    chat = Chat(store, ALICE, order_number="20002")
    events, _ = await chat.form(ValidateOrderStatusForm, "20002到哪了", "order_status")
    assert SlotSet("requested_slot", None) in events
    _, said, _ = await chat.run(ActionOrderStatus(store))
    assert said == ["utter_order_lookup_restate", "utter_order_paid", "utter_anything_else"]


@pytest.mark.parametrize("action", [ActionOrderStatus, ActionCheckCancel, ActionCancelOrder, ActionCheckModify])
async def test_another_customers_order_answers_exactly_like_an_unknown_one(store, action):
    answers = []
    for number in ("20002", "99999"):  # Alice's order, and none
        chat = Chat(store, BOB, order_number=number, cancel_check="cancellable")
        events, said, dispatcher = await chat.run(action(store), f"订单{number}", "affirm")
        masked = [{k: ("N" if v == number else v) for k, v in m.items()} for m in dispatcher.messages]
        answers.append(
            (said, masked, [{**e, "value": "N" if e.get("value") == number else e.get("value")} for e in events])
        )
    assert answers[0] == answers[1]
    assert "utter_order_not_found" in answers[0][0]
    assert (await store.get_order("20002")).status == "paid"


async def test_an_identified_customer_cannot_prove_someone_elses_order(store):
    chat = Chat(store, BOB, order_number="20002", requested_slot="order_proof")
    events, said = await chat.form(ValidateCancelOrderForm, DIGITS_20002)
    assert "verified_orders" not in chat.slots and said == []
    _, said, _ = await chat.run(ActionCheckCancel(store))
    assert said == ["utter_order_not_found"]


# ---------------------------------------------------------------- refund progress: the action asks itself


async def test_refund_progress_asks_for_the_digits_then_shows_it(store):
    chat = Chat(store, order_number="20006")
    events, said, _ = await chat.run(ActionRefundInfo(store), "订单20006的退款到账了吗", "refund")
    assert said == ["utter_refund_policy", "utter_ask_order_proof"] and chat.slots["proof_asked_for"] == "20006"
    _, said, _ = await chat.run(ActionRefundInfo(store), "0000")
    assert said == ["utter_order_proof_wrong", "utter_ask_order_proof"]
    _, said, _ = await chat.run(ActionRefundInfo(store), "9002")
    assert said == ["utter_refund_status_processing", "utter_anything_else"]
    assert chat.slots["verified_orders"] == ["20006"] and chat.slots["proof_asked_for"] is None


async def test_refund_progress_after_three_wrong_answers_goes_to_a_person(store):
    chat = Chat(store, order_number="20006", proof_asked_for="20006", proof_failures=2)
    events, said, _ = await chat.run(ActionRefundInfo(store), "1111")
    assert said == ["utter_order_proof_locked"] and FollowupAction("action_handoff") in events
    assert "utter_refund_status_processing" not in said


async def test_refund_progress_of_another_customers_order_is_not_shown(store):
    chat = Chat(store, CAROL, order_number="20006")
    _, said, _ = await chat.run(ActionRefundInfo(store), "20006的退款呢", "refund")
    assert said == ["utter_refund_policy", "utter_order_not_found"]


# ---------------------------------------------------------------- complaints


async def test_an_anonymous_complaint_asks_for_the_digits_after_the_order_number(store, domain_dict):
    slots = {"order_number": "20004", "complaint_category": "quality", "requested_slot": "order_number"}
    chat = Chat(store, domain=domain_dict, **slots)
    form = complaints.ValidateComplaintForm(store)
    domain_slots = form.domain_slots(domain_dict)
    assert domain_slots.index("order_proof") == domain_slots.index("order_number") + 1
    required = await form.required_slots(domain_slots, CollectingDispatcher(), make_tracker(chat.slots), domain_dict)
    assert required == domain_slots  # Rasa asks the next empty one: order_proof
    chat.slots["requested_slot"] = "order_proof"
    events, _ = await chat.form(complaints.ValidateComplaintForm, DIGITS_20002)
    assert chat.slots["verified_orders"] == ["20004"]
    assert SlotSet("requested_slot", "complaint_details") in events


async def test_remedies_ignore_the_state_of_an_order_that_is_not_the_customers(store):
    action = complaints.ActionComplaintClarified(orders=store)
    assert await action._order_state(make_tracker(metadata=ALICE), "20004") == "delivered"
    assert await action._order_state(make_tracker(metadata=BOB), "20004") is None
    assert await action._order_state(make_tracker(), "20004") is None
    assert await action._order_state(make_tracker(proved("20004")), "20004") == "delivered"


async def test_case_status_only_for_the_conversations_own_case(unused_port):
    async with running_standin(unused_port) as service:
        client = HandoffClient(f"http://127.0.0.1:{unused_port}", token="t", timeout=2.0)
        await client.create_case({"conversation_id": "someone-else"})
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(entities=[{"entity": "case_number", "value": NUMBER}], text=NUMBER)
        await complaints.ActionCaseStatus(client=client).run(dispatcher, tracker, {})
        assert responses(dispatcher) == ["utter_case_not_found"]
        assert service.queries[-1] == {"conversation_id": "test-user"}  # the service decides


# ---------------------------------------------------------------- entity values of any shape


@pytest.mark.parametrize(
    "value, text",
    [
        ("20002", "20002"),
        (" 20002 ", "20002"),
        (20002, "20002"),
        (["1", "2"], "2"),
        ([], None),
        ([["20002"]], None),
        ({"a": 1}, None),
        (True, None),
        (20002.0, None),
        (None, None),
        ("", None),
        ("9" * 65, None),
    ],
)
def test_entity_values_become_bounded_strings(value, text):
    assert bounded_text(value) == text


@pytest.mark.parametrize("value", [["1", "2"], {"order": "20002"}, True, 3.5, "9" * 500, ["x"] * 1000])
def test_a_bad_order_number_value_gets_a_polite_answer(value, dispatcher):
    assert checked_order_number(value, dispatcher) == {"order_number": None}
    assert responses(dispatcher) == ["utter_wrong_order_number"]


@pytest.mark.parametrize("value", [["1", "2"], {"order": "20002"}, True, 3.5, "9" * 500])
@pytest.mark.parametrize("action", [ActionOrderStatus, ActionCheckCancel, ActionCancelOrder, ActionCheckModify])
async def test_order_actions_answer_bad_slot_values_politely(store, value, action):
    dispatcher = CollectingDispatcher()
    events = await action(store).run(dispatcher, make_tracker({"order_number": value}, metadata=ALICE), {})
    assert "utter_wrong_order_number" in responses(dispatcher)
    assert SlotSet("order_number", None) in events


async def test_an_integer_order_number_is_read_as_its_digits(store):
    dispatcher = CollectingDispatcher()
    await ActionOrderStatus(store).run(dispatcher, make_tracker({"order_number": 20002}, metadata=ALICE), {})
    assert responses(dispatcher)[1] == "utter_order_paid"


async def test_other_entities_of_odd_shapes_do_not_crash(store, unused_port, domain_dict):
    dispatcher = CollectingDispatcher()
    await ActionProductInfo(store).run(dispatcher, make_tracker({"product": ["X2", "A1"]}), domain_dict)
    await ActionProductInfo(store).run(dispatcher, make_tracker({"product": {"sku": "X2"}}), domain_dict)
    async with running_standin(unused_port):
        client = HandoffClient(f"http://127.0.0.1:{unused_port}", token="t", timeout=2.0)
        for value in (["C20261124-0001", "C2"], 7, {"n": 1}, "C" * 500):
            d = CollectingDispatcher()
            entities = [{"entity": "case_number", "value": value}]
            await complaints.ActionCaseStatus(client=client).run(d, make_tracker(entities=entities), domain_dict)
            assert responses(d) in (["utter_case_not_found"], ["utter_case_status"])
        for value in (["quality", "x"], 5, {"c": 1}):
            tracker = make_tracker(entities=[{"entity": "complaint_category", "value": value}])
            complaints.ValidateComplaintForm(store).validate_complaint_category("x", dispatcher, tracker, domain_dict)
            tracker = make_tracker(entities=[{"entity": "complaint_remedy", "value": value}])
            complaints.ValidateRemedyForm().validate_complaint_remedy("x", dispatcher, tracker, domain_dict)


def test_the_handoff_after_three_wrong_answers_says_why_and_carries_no_digits():
    from actions.handoff import ActionHandoff

    said = ["取消订单20002", "0000", "尾号1234", "13912345678", "８００１"]
    events = [{"event": "user", "text": text, "parse_data": {"intent": {"name": "inform"}}} for text in said]
    tracker = make_tracker({"order_number": "20002", "proof_failures": 3}, text="８００１", events=events)
    summary = ActionHandoff().summary(tracker)
    assert summary["reason"] == "order_not_proved"
    assert summary["collected"]["recent_messages"] == ["取消订单20002", "****", "尾号****", "*" * 11, "****"]
    for digits in ("0000", "1234", "5678", "8001"):
        assert digits not in str(summary)
