from rasa_sdk.events import SlotSet

from actions.aftersales import ActionRefundInfo
from actions.products import ActionProductInfo
from tests.actions.conftest import BOB, make_tracker, proved, responses


async def test_refund_question_without_order_gives_policy_and_asks_for_the_number(store, dispatcher, domain_dict):
    events = await ActionRefundInfo(store).run(dispatcher, make_tracker(intent="refund"), domain_dict)
    assert events == []
    assert responses(dispatcher) == ["utter_refund_policy", "utter_ask_refund_order_number"]


async def test_refund_question_with_a_known_order_adds_its_progress(store, dispatcher, domain_dict):
    tracker = make_tracker({"order_number": "20006", **proved("20006")}, intent="refund")
    await ActionRefundInfo(store).run(dispatcher, tracker, domain_dict)
    assert responses(dispatcher) == ["utter_refund_policy", "utter_refund_status_processing", "utter_anything_else"]
    status = dispatcher.messages[1]
    assert status["refund_amount"] == 1999 and status["refund_eta"] == "2026-11-26"


async def test_order_number_given_after_the_policy_gives_only_the_progress(store, dispatcher, domain_dict):
    tracker = make_tracker({"order_number": "20005"}, intent="inform", metadata=BOB)
    await ActionRefundInfo(store).run(dispatcher, tracker, domain_dict)
    assert responses(dispatcher) == ["utter_refund_status_refunded", "utter_anything_else"]


async def test_refund_of_an_unknown_order(store, dispatcher, domain_dict):
    events = await ActionRefundInfo(store).run(
        dispatcher, make_tracker({"order_number": "55555"}, intent="inform", metadata=BOB), domain_dict
    )
    assert responses(dispatcher) == ["utter_order_not_found"]
    assert events == [SlotSet("order_number", None)]


async def test_product_info_from_the_catalogue(store, dispatcher, domain_dict):
    await ActionProductInfo(store).run(
        dispatcher, make_tracker({"product": "X2"}, intent="product_inquiry"), domain_dict
    )
    assert responses(dispatcher) == ["utter_product_info"]
    assert dispatcher.messages[0]["product_name"] == "智能手表 X2"
    assert dispatcher.messages[0]["product_price"] == 1299


async def test_product_out_of_stock_says_so(store, dispatcher, domain_dict):
    tracker = make_tracker({"product": "S3", "language": "en"}, intent="product_inquiry")
    await ActionProductInfo(store).run(dispatcher, tracker, domain_dict)
    assert responses(dispatcher) == ["utter_product_info_no_stock"]
    assert dispatcher.messages[0]["product_name"] == "Electric Toothbrush S3"


async def test_product_question_without_a_product_offers_the_catalogue(store, dispatcher, domain_dict):
    await ActionProductInfo(store).run(dispatcher, make_tracker(intent="product_inquiry"), domain_dict)
    assert responses(dispatcher) == ["utter_ask_product"]
    buttons = dispatcher.messages[0]["buttons"]
    assert len(buttons) == 7
    assert {"title": "智能手表 X2", "payload": '/inform{"product": "X2"}'} in buttons
