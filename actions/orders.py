"""Order status, cancellation and changes. The answer depends on the order's state; only the customer's own
orders are read (actions/ownership.py): the order forms ask an anonymous customer for the last four digits of
the order's phone before they finish."""

from __future__ import annotations

import abc
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import ownership
from actions.clients import default_order_backend
from actions.clients.orders import OrderBackend
from actions.common import language, latest_intent
from actions.order_lookup import (
    PROOF_RETRY_INTENTS,
    OrderAction,
    checked_order_number,
    form_proof_answer,
    order_details,
)
from actions.ownership import order_number_of

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

    form = "order_status_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        dispatcher.utter_message(response="utter_order_lookup_restate")
        lookup = await self.find_order(dispatcher, tracker)
        order = lookup.order
        if order is None:
            return lookup.events
        dispatcher.utter_message(response=STATUS_RESPONSES[order.status], **order_details(order, language(tracker)))
        dispatcher.utter_message(response="utter_anything_else")
        return []


class ActionCheckCancel(OrderAction):
    """Restates the order and asks for confirmation when it can be cancelled; explains otherwise."""

    form = "cancel_order_form"

    def name(self) -> str:
        return "action_check_cancel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        lookup = await self.find_order(dispatcher, tracker)
        order = lookup.order
        if order is None:
            return [SlotSet("cancel_check", "not_found")] + lookup.events
        details = order_details(order, language(tracker))
        if order.cancellable:
            dispatcher.utter_message(response="utter_confirm_cancel", **details)
            return [SlotSet("cancel_check", "cancellable")]
        dispatcher.utter_message(response=NOT_CANCELLABLE_RESPONSES[order.status], **details)
        return [SlotSet("cancel_check", "not_cancellable")]


class ActionCancelOrder(OrderAction):
    """Cancels after the customer confirmed; the backend re-checks the state."""

    form = "cancel_order_form"

    def name(self) -> str:
        return "action_cancel_order"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        lookup = await self.find_order(dispatcher, tracker)  # the number may have changed since the check
        before = lookup.order
        if before is None:
            return [SlotSet("cancel_check", None)] + lookup.events
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
    form = "modify_order_form"

    def name(self) -> str:
        return "action_check_modify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        lookup = await self.find_order(dispatcher, tracker)
        order = lookup.order
        if order is None:
            return lookup.events
        dispatcher.utter_message(response=MODIFY_RESPONSES[order.status], **order_details(order, language(tracker)))
        return []


class OrderNumberFormValidation(FormValidationAction, abc.ABC):
    """Checks the order number's format; asks again, with a hint, when an answer holds none. Then, for an
    anonymous customer and an order not proved yet in this conversation, asks for the last four digits of
    the order's phone (`order_proof`, never filled: the form ends when the order is proved, or when the
    third wrong answer ends the asking and the action hands over to a person)."""

    def __init__(self, orders: OrderBackend | None = None) -> None:
        self._orders = orders

    @property
    def orders(self) -> OrderBackend:
        return self._orders or default_order_backend()

    @abc.abstractmethod
    def form(self) -> str: ...

    def name(self) -> str:
        return f"validate_{self.form()}"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[str]:
        number = order_number_of(tracker.get_slot("order_number"))
        if ownership.needs_proof(tracker, number):
            return ["order_number", ownership.PROOF_SLOT]
        return ["order_number"]

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return checked_order_number(value, dispatcher)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        proof_events = await form_proof_answer(self.orders, dispatcher, tracker, PROOF_RETRY_INTENTS)
        events = await super().run(dispatcher, tracker, domain)
        asked = tracker.get_slot("requested_slot") == "order_number"
        extracted = any(e.get("event") == "slot" and e.get("name") == "order_number" for e in events)
        if asked and not extracted and latest_intent(tracker) in RETRY_INTENTS:
            dispatcher.utter_message(response="utter_wrong_order_number")
            return proof_events + events + [SlotSet("order_number", None)]
        return proof_events + events


class ValidateOrderStatusForm(OrderNumberFormValidation):
    def form(self) -> str:
        return "order_status_form"


class ValidateCancelOrderForm(OrderNumberFormValidation):
    def form(self) -> str:
        return "cancel_order_form"


class ValidateModifyOrderForm(OrderNumberFormValidation):
    def form(self) -> str:
        return "modify_order_form"
