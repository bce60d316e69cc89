"""Reading orders, for every feature that needs one: the base action with its injectable backend, the
ownership check before anything of an order is shown or changed (actions/ownership.py), the values the
order responses fill in, and the check of an order number a form was given."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import ownership
from actions.clients import default_order_backend
from actions.clients.orders import Order, OrderBackend
from actions.common import latest_intent
from actions.ownership import Access, Proof, order_number_of

HANDOFF_ACTION = "action_handoff"
# intents that answer "the last four digits of the order's phone?" without giving them: asked again, with a hint
PROOF_RETRY_INTENTS = frozenset(
    {"inform", "affirm", "deny", "nlu_fallback", "order_status", "cancel_order", "modify_order", "refund"}
)


def order_details(order: Order, lang: str) -> dict[str, Any]:
    """Values the order responses fill in."""
    return {
        "order_number": order.number,
        "product_name": order.product(lang),
        "carrier": order.carrier(lang),
        "tracking_number": order.tracking,
        "eta": order.eta,
        "delivered_at": order.delivered_at,
        "refund_amount": order.refund_amount,
        "refund_requested_at": order.refund_requested_at,
        "refund_eta": order.refund_eta,
        "refunded_at": order.refunded_at,
    }


@dataclass
class Lookup:
    """The order the customer may see, or None with what the action returns instead (already told)."""

    order: Order | None
    events: list[dict[str, Any]] = field(default_factory=list)


def hand_over_unproven(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    """Three wrong answers: no more asking; a person takes over (the existing handoff path)."""
    dispatcher.utter_message(response="utter_order_proof_locked")
    return [FollowupAction(HANDOFF_ACTION)]


def tell_proof_result(result: ownership.ProofResult, number: str, dispatcher: CollectingDispatcher) -> None:
    """What the customer hears after answering with (or without) the digits; never the digits themselves."""
    if result.outcome is Proof.WRONG:
        dispatcher.utter_message(response="utter_order_proof_wrong", order_number=number, tries_left=result.tries_left)
    elif result.outcome is Proof.NO_ANSWER:
        dispatcher.utter_message(response="utter_order_proof_hint")


class OrderAction(Action, abc.ABC):
    """An action that reads orders through an injectable backend, only those the customer may see."""

    # the form that asks for the order number and the phone digits (None: the action asks itself)
    form: str | None = None

    @abc.abstractmethod
    def name(self) -> str: ...

    def __init__(self, orders: OrderBackend | None = None) -> None:
        self._orders = orders

    @property
    def orders(self) -> OrderBackend:
        return self._orders or default_order_backend()

    async def find_order(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Lookup:
        """The order in the `order_number` slot if this customer may see it. Otherwise the customer is told
        why not, and the events say what comes next: an unknown or someone else's order is "not found" and
        forgotten; an unproven one goes (back) through the form that asks for the phone digits; after
        three wrong answers, a person."""
        number = order_number_of(tracker.get_slot("order_number"))
        if number is None:
            dispatcher.utter_message(response="utter_wrong_order_number")
            return Lookup(None, [SlotSet("order_number", None)])
        state, order = await ownership.access(self.orders, tracker, number)
        if state is Access.GRANTED:
            return Lookup(order)
        if state is Access.NOT_FOUND:
            dispatcher.utter_message(response="utter_order_not_found", order_number=number)
            return Lookup(None, [SlotSet("order_number", None)])
        if state is Access.LOCKED:
            return Lookup(None, hand_over_unproven(dispatcher))
        return Lookup(None, await self.ask_for_proof(dispatcher, tracker, number))

    async def ask_for_proof(self, dispatcher: CollectingDispatcher, tracker: Tracker, number: str) -> list[dict]:
        """The order is not proved yet (its number came outside the form): the form asks for the digits."""
        other_loop = tracker.active_loop.get("name") if isinstance(tracker.active_loop, dict) else None
        if other_loop and other_loop != self.form:
            # a question in the middle of another form (a complaint): the form keeps the next message
            dispatcher.utter_message(response="utter_order_proof_later", order_number=number)
            return []
        if self.form is None:
            dispatcher.utter_message(response="utter_ask_order_proof", order_number=number)
            return [SlotSet(ownership.ASKED_SLOT, number)]
        return [FollowupAction(self.form)]


def _entities(tracker: Tracker) -> list[dict[str, Any]]:
    found = tracker.latest_message.get("entities")
    return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []


async def form_proof_answer(
    orders: OrderBackend, dispatcher: CollectingDispatcher, tracker: Tracker, retry_intents: frozenset[str]
) -> list[dict[str, Any]]:
    """In a form that asked for the phone digits (`order_proof`): the customer's answer, checked. Returns the
    slot events (the order proved, or one more wrong try), or [] when the message is something else (a
    question, "stop", a new order number), which the form's other slots and digressions then take."""
    number = order_number_of(tracker.get_slot("order_number"))
    # Rasa validates only right after a customer message (not when the form resumes after a digression)
    answering = tracker.get_slot("requested_slot") == ownership.PROOF_SLOT
    if number is None or not answering or not ownership.needs_proof(tracker, number):
        return []
    if any(e.get("entity") == "order_number" for e in _entities(tracker)):
        return []  # an order number instead (Rasa put it into the slot): the form asks for that order's digits
    result = await ownership.check_answer(orders, tracker, number)
    if result.outcome is Proof.NO_ANSWER and latest_intent(tracker) not in retry_intents:
        return []
    tell_proof_result(result, number, dispatcher)
    tracker.add_slots(result.events)  # the form's required slots see the outcome
    # an answer without digits still counts as handled: the form asks again instead of stepping aside
    return result.events or [SlotSet(ownership.PROOF_SLOT, None)]


def checked_order_number(value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    """A form's order_number answer: kept when it looks like one, else asked again with a hint."""
    number = order_number_of(value)
    if number is not None:
        return {"order_number": number}
    dispatcher.utter_message(response="utter_wrong_order_number")
    return {"order_number": None}
