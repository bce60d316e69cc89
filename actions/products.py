"""Product questions answered from the catalogue."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import bounded_text, language
from actions.order_lookup import OrderAction


class ActionProductInfo(OrderAction):
    def name(self) -> str:
        return "action_product_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        lang = language(tracker)
        sku = bounded_text(tracker.get_slot("product"))
        product = await self.orders.get_product(sku) if sku else None
        if product is None:
            buttons = [
                {"title": item.name(lang), "payload": f'/inform{{"product": "{item.sku}"}}'}
                for item in await self.orders.list_products()
            ]
            dispatcher.utter_message(response="utter_ask_product", buttons=buttons)
            return []
        response = "utter_product_info" if product.stock > 0 else "utter_product_info_no_stock"
        dispatcher.utter_message(
            response=response,
            product_name=product.name(lang),
            product_summary=product.summary(lang),
            product_price=product.price,
        )
        return []
