"""Handoff to a person (SPEC §4): the case and its summary card go to the agents' queue; while an
agent has the conversation, customer messages are relayed (bot.policies.handoff picks the relay)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import complaint_steps as steps
from actions import ownership
from actions.cases import CaseAction, collected
from actions.clients.handoff import HandoffRejected, HandoffUnavailable
from actions.common import format_deadline, language, latest_intent
from actions.complaint_steps import Stage
from bot.text import strip_markup

MINUTES_PER_CUSTOMER = 4  # rough handling time per queued customer, for the expected wait
RAISED_TIER = "high"


def handoff_reason(tracker: Tracker) -> str:
    if tracker.get_slot(steps.SLOT) == Stage.NEEDS_COLLEAGUE:
        return "remedy_needs_human"
    if latest_intent(tracker) == "request_human":
        return "customer_request"
    if latest_intent(tracker) == "nlu_fallback":
        return "repeated_misunderstanding"
    if ownership.locked(tracker):
        return "order_not_proved"  # three wrong phone digits: a colleague checks who the customer is
    if int(tracker.get_slot("emotion_level") or 0) >= 3:
        return "high_severity"
    return "customer_request"


def recent_customer_texts(tracker: Tracker, limit: int = 5) -> list[str]:
    # answers to "the last four digits of the order's phone" never reach the case
    texts = [
        ownership.mask_answer(strip_markup(e.get("text") or "")) for e in tracker.events if e.get("event") == "user"
    ]
    return [t for t in texts if t and not t.startswith("/")][-limit:]


def steps_tried(tracker: Tracker) -> list[str]:
    """What the assistant already did, in order (intents and complaint steps), without repeats."""
    seen: list[str] = []
    for event in tracker.events:
        name = None
        if event.get("event") == "user":
            name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        elif event.get("event") == "slot" and event.get("name") == steps.SLOT and event.get("value"):
            name = f"complaint:{event['value']}"
        if name and name not in seen and not name.startswith("EXTERNAL_"):
            seen.append(name)
    return seen[-20:]


class ActionHandoff(CaseAction):
    def name(self) -> str:
        return "action_handoff"

    def summary(self, tracker: Tracker) -> dict[str, Any]:
        texts = recent_customer_texts(tracker)
        problem = tracker.get_slot("complaint_details") or " / ".join(texts) or "-"
        level = int(tracker.get_slot("emotion_level") or 0)
        return {
            "problem": problem[:4000],
            "collected": {
                k: v
                for k, v in {
                    **collected(tracker),
                    "language": language(tracker),
                    "script": tracker.get_slot("script") or "simplified",
                    "remedy": tracker.get_slot("complaint_remedy"),
                    "recent_messages": texts,
                }.items()
                if v
            },  # only what is known
            "steps_tried": steps_tried(tracker),
            "emotion": f"level {level}",
            "severity": RAISED_TIER if level >= 3 else "normal",
            "reason": handoff_reason(tracker),
        }

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        journal = self.journal(tracker)
        summary = self.summary(tracker)
        if not journal.is_open:
            journal.open_case(
                self.new_case(tracker, tracker.get_slot("complaint_category") or "other", summary["problem"])
            )
        journal.step("handoff.requested", reason=summary["reason"])
        events = await self.save(journal, dispatcher, tracker, announce=False)
        body: dict[str, Any] = {"summary": summary}
        if summary["severity"] == RAISED_TIER:
            body["tier"] = RAISED_TIER
        try:
            if journal.pending or not journal.case_number:
                raise HandoffUnavailable("case writes still pending")
            try:
                ack = await self.client.request_handoff(journal.case_number, body)
            except HandoffRejected:
                # the conversation's case is already settled: a new matter gets a new case
                journal.case_number = None
                journal.open_case(
                    self.new_case(tracker, tracker.get_slot("complaint_category") or "other", summary["problem"])
                )
                events = await self.save(journal, dispatcher, tracker, announce=False)
                if journal.pending or not journal.case_number:
                    raise HandoffUnavailable("case writes still pending") from None
                ack = await self.client.request_handoff(journal.case_number, body)
        except (HandoffUnavailable, HandoffRejected):
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return events
        number = journal.case_number
        if ack.get("agents_online"):
            position = int(ack.get("queue_position") or 1)
            wait = max(1, math.ceil(position / max(1, int(ack["agents_online"]))) * MINUTES_PER_CUSTOMER)
            dispatcher.utter_message(
                response="utter_handoff_queued", case_number=number, position=position, wait_minutes=wait
            )
        else:
            due = ack.get("first_response_due")
            when = dt.datetime.fromisoformat(due) if due else dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=24)
            dispatcher.utter_message(
                response="utter_handoff_no_agents",
                case_number=number,
                deadline=format_deadline(when, language(tracker)),
            )
        return events + [SlotSet("handoff_active", True), SlotSet("case_number_told", True)]


class ActionRelayToAgent(CaseAction):
    """While an agent has the conversation: pass the customer's message on; say nothing of our own."""

    def name(self) -> str:
        return "action_relay_to_agent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        text = (tracker.latest_message.get("text") or "").strip()
        number = tracker.get_slot("case_number")
        if not text or not number:
            return []
        try:
            await self.client.relay_message(
                number,
                {"text": text[:4000], "metadata": {"language": language(tracker), "intent": latest_intent(tracker)}},
            )
        except (HandoffUnavailable, HandoffRejected):
            # the only time the bot speaks during a handoff: the message did not reach the agent
            dispatcher.utter_message(response="utter_relay_failed")
        return []


class ActionHandoffResolved(CaseAction):
    """The agent resolved the case: the bot is back, and the matter is settled — a later complaint
    opens a new case. The survey follows (rule)."""

    def name(self) -> str:
        return "action_handoff_resolved"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        dispatcher.utter_message(response="utter_handoff_resolved")
        # the case number stays (the survey answers go to it); "done" makes the next matter a new case
        return [SlotSet("handoff_active", False), SlotSet(steps.SLOT, Stage.DONE)]
