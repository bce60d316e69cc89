"""Reading orders, for every feature that needs one: the base action with its injectable backend, the
values the order responses fill in, and the check of an order number a form was given."""

from __future__ import annotations

import abc
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.clients import default_order_backend
from actions.clients.orders import Order, OrderBackend

ORDER_NUMBER = re.compile(r"^\d{5,20}$")


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


class OrderAction(Action, abc.ABC):
    """An action that reads orders through an injectable backend."""

    @abc.abstractmethod
    def name(self) -> str: ...

    def __init__(self, orders: OrderBackend | None = None) -> None:
        self._orders = orders

    @property
    def orders(self) -> OrderBackend:
        return self._orders or default_order_backend()

    async def find_order(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Order | None:
        """The order in the `order_number` slot, or None after telling the customer it was not found."""
        order = await self.orders.get_order(tracker.get_slot("order_number") or "")
        if order is None:
            dispatcher.utter_message(response="utter_order_not_found")
        return order


def checked_order_number(value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    """A form's order_number answer: kept when it looks like one, else asked again with a hint."""
    if isinstance(value, list):
        value = value[-1] if value else None
    if isinstance(value, str) and ORDER_NUMBER.match(value):
        return {"order_number": value}
    dispatcher.utter_message(response="utter_wrong_order_number")
    return {"order_number": None}
