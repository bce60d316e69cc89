"""Order status, cancellation and changes. The answer depends on the order's state."""

from __future__ import annotations

import abc
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import language, latest_intent
from actions.order_lookup import OrderAction, checked_order_number, order_details

# intents that answer "what is your order number?" without giving one
RETRY_INTENTS = {"inform", "affirm", "deny", "order_status", "cancel_order", "modify_order"}

STATUS_RESPONSES = {
    "pending_payment": "utter_order_pending_payment",
    "paid": "utter_order_paid",
    "shipped": "utter_order_shipped",
    "delivered": "utter_order_delivered",
    "cancelled": "utter_order_cancelled",
}
NOT_CANCELLABLE_RESPONSES = {
    "shipped": "utter_cancel_shipped",
    "delivered": "utter_cancel_delivered",
    "cancelled": "utter_cancel_already_cancelled",
}
MODIFY_RESPONSES = {
    "pending_payment": "utter_modify_steps",
    "paid": "utter_modify_steps",
    "shipped": "utter_modify_shipped",
    "delivered": "utter_modify_delivered",
    "cancelled": "utter_modify_cancelled",
}


class ActionOrderStatus(OrderAction):
    def name(self) -> str:
        return "action_order_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        dispatcher.utter_message(response="utter_order_lookup_restate")
        order = await self.find_order(dispatcher, tracker)
        if order is None:
            return [SlotSet("order_number", None)]
        dispatcher.utter_message(response=STATUS_RESPONSES[order.status], **order_details(order, language(tracker)))
        dispatcher.utter_message(response="utter_anything_else")
        return []


class ActionCheckCancel(OrderAction):
    """Restates the order and asks for confirmation when it can be cancelled; explains otherwise."""

    def name(self) -> str:
        return "action_check_cancel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        order = await self.find_order(dispatcher, tracker)
        if order is None:
            return [SlotSet("cancel_check", "not_found"), SlotSet("order_number", None)]
        details = order_details(order, language(tracker))
        if order.cancellable:
            dispatcher.utter_message(response="utter_confirm_cancel", **details)
            return [SlotSet("cancel_check", "cancellable")]
        dispatcher.utter_message(response=NOT_CANCELLABLE_RESPONSES[order.status], **details)
        return [SlotSet("cancel_check", "not_cancellable")]


class ActionCancelOrder(OrderAction):
    """Cancels after the customer confirmed; the backend re-checks the state."""

    def name(self) -> str:
        return "action_cancel_order"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        before = await self.find_order(dispatcher, tracker)
        if before is None:
            return [SlotSet("cancel_check", None), SlotSet("order_number", None)]
        after = await self.orders.cancel_order(before.number)
        details = order_details(after or before, language(tracker))
        if after is not None and after.status == "cancelled" and before.cancellable:
            done = "utter_cancel_pending_payment_done" if before.status == "pending_payment" else "utter_cancel_done"
            dispatcher.utter_message(response=done, **details)
            dispatcher.utter_message(response="utter_anything_else")
        else:
            state = (after or before).status
            dispatcher.utter_message(response=NOT_CANCELLABLE_RESPONSES.get(state, "utter_cancel_shipped"), **details)
        return [SlotSet("cancel_check", None)]


class ActionCheckModify(OrderAction):
    def name(self) -> str:
        return "action_check_modify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        order = await self.find_order(dispatcher, tracker)
        if order is None:
            return [SlotSet("order_number", None)]
        dispatcher.utter_message(response=MODIFY_RESPONSES[order.status], **order_details(order, language(tracker)))
        return []


class OrderNumberFormValidation(FormValidationAction, abc.ABC):
    """Checks the order number's format; asks again, with a hint, when an answer holds none."""

    @abc.abstractmethod
    def form(self) -> str: ...

    def name(self) -> str:
        return f"validate_{self.form()}"

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return checked_order_number(value, dispatcher)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        events = await super().run(dispatcher, tracker, domain)
        asked = tracker.get_slot("requested_slot") == "order_number"
        extracted = any(e.get("event") == "slot" and e.get("name") == "order_number" for e in events)
        if asked and not extracted and latest_intent(tracker) in RETRY_INTENTS:
            dispatcher.utter_message(response="utter_wrong_order_number")
            return events + [SlotSet("order_number", None)]
        return events


class ValidateOrderStatusForm(OrderNumberFormValidation):
    def form(self) -> str:
        return "order_status_form"


class ValidateCancelOrderForm(OrderNumberFormValidation):
    def form(self) -> str:
        return "cancel_order_form"


class ValidateModifyOrderForm(OrderNumberFormValidation):
    def form(self) -> str:
        return "modify_order_form"
