"""Two-stage fallback: first ask to rephrase with suggestions, then hand over to a person.

Unusable input (empty, emoji only, markup only, too long) gets its own answer
and does not count as a misunderstanding; gibberish does count as one.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.common import label

INPUT_ISSUE_RESPONSES = {
    "empty": "utter_input_empty",
    "symbols_only": "utter_input_symbols",
    "markup_only": "utter_input_markup",
    "too_long": "utter_input_too_long",
}
SUGGESTABLE = {
    "order_status",
    "cancel_order",
    "modify_order",
    "return_exchange",
    "refund",
    "payment_issue",
    "account_issue",
    "invoice",
    "product_inquiry",
    "service_outage",
    "complain",
    "request_human",
}
MAX_SUGGESTIONS = 3
COMMON_REQUESTS = ["order_status", "return_exchange", "refund"]  # suggested when the ranking says nothing


def consecutive_misunderstandings(tracker: Tracker) -> int:
    """How many of the latest user messages in a row were not understood (unusable input not counted)."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        if (parse.get("intent") or {}).get("name") != "nlu_fallback":
            break
        if parse.get("input_issue") not in INPUT_ISSUE_RESPONSES:
            count += 1
    return count


def suggestions(tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, str]]:
    # for unusable input (gibberish ...) the model's ranking is noise: suggest the common requests
    unusable = tracker.latest_message.get("input_issue")
    ranking = [] if unusable else tracker.latest_message.get("intent_ranking") or []
    intents = [item["name"] for item in ranking if item.get("name") in SUGGESTABLE][:MAX_SUGGESTIONS]
    intents = intents or list(COMMON_REQUESTS)
    if "request_human" not in intents:
        intents.append("request_human")
    return [{"title": label(domain, f"utter_suggest_{intent}", tracker), "payload": f"/{intent}"} for intent in intents]


class ActionHandleFallback(Action):
    def name(self) -> str:
        return "action_handle_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        issue = tracker.latest_message.get("input_issue")
        if issue in INPUT_ISSUE_RESPONSES:
            dispatcher.utter_message(response=INPUT_ISSUE_RESPONSES[issue])
        elif consecutive_misunderstandings(tracker) <= 1:
            dispatcher.utter_message(response="utter_ask_rephrase", buttons=suggestions(tracker, domain))
        else:
            dispatcher.utter_message(response="utter_offer_human")
            return [FollowupAction("action_handoff")]  # the case and what was said go to the queue
        return []
