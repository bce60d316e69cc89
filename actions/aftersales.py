"""Refunds: the policy, and the refund's progress when the order is known and the customer's own
(an anonymous customer answers with the last four digits of the order's phone first)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import ownership
from actions.common import language, latest_intent
from actions.order_lookup import OrderAction, hand_over_unproven, order_details, tell_proof_result
from actions.ownership import Proof, order_number_of

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
        events = await self._proof_answer(dispatcher, tracker)
        if any(e.get("event") == "followup" for e in events):
            return events
        lookup = await self.find_order(dispatcher, tracker)
        order = lookup.order
        if order is None:
            return events + lookup.events
        dispatcher.utter_message(response=REFUND_RESPONSES[order.refund], **order_details(order, language(tracker)))
        dispatcher.utter_message(response="utter_anything_else")
        return events + [SlotSet(ownership.ASKED_SLOT, None)]

    async def _proof_answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict]:
        """When this action asked for the order's phone digits last time, the message is the answer."""
        number = order_number_of(tracker.get_slot("order_number"))
        if number is None or tracker.get_slot(ownership.ASKED_SLOT) != number:
            return []
        if not ownership.needs_proof(tracker, number):
            return []
        result = await ownership.check_answer(self.orders, tracker, number)
        if result.outcome is Proof.LOCKED:
            return result.events + [SlotSet(ownership.ASKED_SLOT, None)] + hand_over_unproven(dispatcher)
        tell_proof_result(result, number, dispatcher)
        tracker.add_slots(result.events)  # find_order below sees the outcome
        return result.events
