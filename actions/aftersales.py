"""Refunds: the policy, and the refund's progress when the order is known."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import language, latest_intent
from actions.order_lookup import OrderAction, order_details

REFUND_RESPONSES = {
    "none": "utter_refund_status_none",
    "processing": "utter_refund_status_processing",
    "refunded": "utter_refund_status_refunded",
}


class ActionRefundInfo(OrderAction):
    def name(self) -> str:
        return "action_refund_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        if latest_intent(tracker) == "refund":
            dispatcher.utter_message(response="utter_refund_policy")
        if not tracker.get_slot("order_number"):
            dispatcher.utter_message(response="utter_ask_refund_order_number")
            return []
        order = await self.find_order(dispatcher, tracker)
        if order is None:
            return [SlotSet("order_number", None)]
        dispatcher.utter_message(response=REFUND_RESPONSES[order.refund], **order_details(order, language(tracker)))
        dispatcher.utter_message(response="utter_anything_else")
        return []
