"""Outage notices (SPEC §7): when a customer asks whether something is down, or asks about a topic a notice
in force affects (a payment problem during a payment outage), the bot first tells the notice — status, latest
update, expected recovery — then goes on as before (the rules run the usual answer next). When handoff_service
cannot be reached, the bot answers as it did without notices. Wording and the slot: actions/outage_notices.py."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.cases import CaseAction
from actions.common import latest_intent
from actions.outage_notices import SLOT, TOPIC_BY_INTENT, notices_in_force, told


class ActionOutageStatus(CaseAction):
    """ "Is the service down?": the notices in force, or today's answer when there is none (or no answer)."""

    def name(self) -> str:
        return "action_outage_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        notices = await notices_in_force(self.client, None)
        if not notices:
            dispatcher.utter_message(response="utter_service_outage")
            return []
        return told(dispatcher, tracker, domain, notices)


class ActionOutageCheck(CaseAction):
    """Before the usual answer to a question on a topic (payment, login…): the notices affecting it, if any;
    silent otherwise (and when handoff_service cannot be reached)."""

    def name(self) -> str:
        return "action_outage_check"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        topic = TOPIC_BY_INTENT.get(latest_intent(tracker) or "")
        if topic is None:
            return []
        # a notice this conversation was told already is not repeated at each question (asking "is it down?" is)
        heard = tracker.get_slot(SLOT)
        notices = [n for n in await notices_in_force(self.client, topic) or [] if str(n.get("id")) != heard]
        return told(dispatcher, tracker, domain, notices)
