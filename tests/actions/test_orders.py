from rasa_sdk.events import SlotSet

from actions.orders import (
    ActionCancelOrder,
    ActionCheckCancel,
    ActionCheckModify,
    ActionOrderStatus,
    ValidateCancelOrderForm,
    ValidateModifyOrderForm,
    ValidateOrderStatusForm,
)
from tests.actions.conftest import ALICE, make_tracker, proved, responses


async def test_status_of_a_shipped_order_restates_then_answers_with_tracking(store, dispatcher, domain_dict):
    events = await ActionOrderStatus(store).run(
        dispatcher, make_tracker({"order_number": "12345", **proved("12345")}), domain_dict
    )
    assert events == []
    assert responses(dispatcher) == ["utter_order_lookup_restate", "utter_order_shipped", "utter_anything_else"]
    shipped = dispatcher.messages[1]
    assert shipped["tracking_number"] == "SF1402875531"
    assert shipped["carrier"] == "顺丰速运"
    assert shipped["product_name"] == "无线蓝牙耳机 Pro"
    assert shipped["eta"] == "2026-11-26"


async def test_status_uses_english_names_for_english_customers(store, dispatcher, domain_dict):
    tracker = make_tracker({"order_number": "12345", "language": "en", **proved("12345")})
    await ActionOrderStatus(store).run(dispatcher, tracker, domain_dict)
    assert dispatcher.messages[1]["carrier"] == "SF Express"
    assert dispatcher.messages[1]["product_name"] == "Wireless Earbuds Pro"


async def test_each_order_state_has_its_own_answer(store, domain_dict):
    expected = {
        "20001": "utter_order_pending_payment",
        "20002": "utter_order_paid",
        "20003": "utter_order_shipped",
        "20004": "utter_order_delivered",
        "20005": "utter_order_cancelled",
    }
    for number, response in expected.items():
        dispatcher = __import__("rasa_sdk.executor", fromlist=["x"]).CollectingDispatcher()
        await ActionOrderStatus(store).run(
            dispatcher, make_tracker({"order_number": number, **proved(number)}), domain_dict
        )
        assert responses(dispatcher)[1] == response, number


async def test_unknown_order_number_gets_a_clear_answer_and_is_forgotten(store, dispatcher, domain_dict):
    events = await ActionOrderStatus(store).run(
        dispatcher, make_tracker({"order_number": "99999"}, metadata=ALICE), domain_dict
    )
    assert responses(dispatcher) == ["utter_order_lookup_restate", "utter_order_not_found"]
    assert events == [SlotSet("order_number", None)]


async def test_check_cancel_asks_for_confirmation_when_the_order_can_be_cancelled(store, dispatcher, domain_dict):
    events = await ActionCheckCancel(store).run(
        dispatcher, make_tracker({"order_number": "20007", **proved("20007")}), domain_dict
    )
    assert events == [SlotSet("cancel_check", "cancellable")]
    assert responses(dispatcher) == ["utter_confirm_cancel"]
    assert dispatcher.messages[0]["product_name"] == "机械键盘 K8"
    assert (await store.get_order("20007")).status == "paid", "nothing changes before the customer confirms"


async def test_check_cancel_explains_when_the_order_has_shipped(store, dispatcher, domain_dict):
    events = await ActionCheckCancel(store).run(
        dispatcher, make_tracker({"order_number": "20003", **proved("20003")}), domain_dict
    )
    assert events == [SlotSet("cancel_check", "not_cancellable")]
    assert responses(dispatcher) == ["utter_cancel_shipped"]


async def test_check_cancel_of_an_unknown_order(store, dispatcher, domain_dict):
    events = await ActionCheckCancel(store).run(
        dispatcher, make_tracker({"order_number": "424242"}, metadata=ALICE), domain_dict
    )
    assert events == [SlotSet("cancel_check", "not_found"), SlotSet("order_number", None)]
    assert responses(dispatcher) == ["utter_order_not_found"]


async def test_confirmed_cancel_cancels_the_paid_order_and_starts_the_refund(store, dispatcher, domain_dict):
    events = await ActionCancelOrder(store).run(
        dispatcher, make_tracker({"order_number": "20007", **proved("20007")}, intent="affirm"), domain_dict
    )
    assert events == [SlotSet("cancel_check", None)]
    assert responses(dispatcher) == ["utter_cancel_done", "utter_anything_else"]
    order = await store.get_order("20007")
    assert order.status == "cancelled" and order.refund == "processing"


async def test_cancel_of_an_unpaid_order_costs_nothing(store, dispatcher, domain_dict):
    await ActionCancelOrder(store).run(
        dispatcher, make_tracker({"order_number": "20001", **proved("20001")}, intent="affirm"), domain_dict
    )
    assert responses(dispatcher) == ["utter_cancel_pending_payment_done", "utter_anything_else"]
    assert (await store.get_order("20001")).refund == "none"


async def test_cancel_refuses_an_order_that_shipped_meanwhile(store, dispatcher, domain_dict):
    await ActionCancelOrder(store).run(
        dispatcher, make_tracker({"order_number": "12345", **proved("12345")}, intent="affirm"), domain_dict
    )
    assert responses(dispatcher) == ["utter_cancel_shipped"]
    assert (await store.get_order("12345")).status == "shipped"


async def test_modify_answer_depends_on_the_order_state(store, domain_dict):
    from rasa_sdk.executor import CollectingDispatcher

    expected = {
        "20008": "utter_modify_steps",
        "12345": "utter_modify_shipped",
        "20004": "utter_modify_delivered",
        "20005": "utter_modify_cancelled",
        "77777": "utter_order_not_found",
    }
    for number, response in expected.items():
        dispatcher = CollectingDispatcher()
        await ActionCheckModify(store).run(
            dispatcher, make_tracker({"order_number": number, **proved(number)}), domain_dict
        )
        assert responses(dispatcher) == [response], number


def test_each_form_has_its_own_validation_action():
    assert ValidateOrderStatusForm().name() == "validate_order_status_form"
    assert ValidateCancelOrderForm().name() == "validate_cancel_order_form"
    assert ValidateModifyOrderForm().name() == "validate_modify_order_form"


def test_validate_order_number_accepts_digits_and_rejects_the_rest(dispatcher, domain_dict):
    validate = ValidateOrderStatusForm().validate_order_number
    tracker = make_tracker()
    assert validate("12345", dispatcher, tracker, domain_dict) == {"order_number": "12345"}
    assert validate(["111", "20003"], dispatcher, tracker, domain_dict) == {"order_number": "20003"}
    assert validate("12ab", dispatcher, tracker, domain_dict) == {"order_number": None}
    assert responses(dispatcher) == ["utter_wrong_order_number"]


async def test_form_asks_again_with_a_hint_when_the_answer_has_no_number(dispatcher, domain_dict):
    tracker = make_tracker({"requested_slot": "order_number"}, intent="inform", text="我忘了")
    events = await ValidateOrderStatusForm().run(dispatcher, tracker, domain_dict)
    assert SlotSet("order_number", None) in events
    assert responses(dispatcher) == ["utter_wrong_order_number"]


async def test_form_lets_other_intents_through_for_digressions(dispatcher, domain_dict):
    tracker = make_tracker({"requested_slot": "order_number"}, intent="faq", text="几点上班")
    events = await ValidateOrderStatusForm().run(dispatcher, tracker, domain_dict)
    assert not any(e.get("name") == "order_number" for e in events)
    assert responses(dispatcher) == []
