"""Outage notices (SPEC §7): when a customer asks whether something is down, or asks about a topic a notice
in force affects (a payment problem during a payment outage), the bot first tells the notice — status, latest
update, expected recovery — then goes on as before. The notice's id is kept in the `outage_notice` slot, so a
case this conversation opens afterwards is linked to it (actions/cases.py, the journal). When handoff_service
cannot be reached, the bot answers as it did without notices."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.cases import CaseAction
from actions.clients.handoff import HandoffRejected, HandoffUnavailable
from actions.common import format_deadline, label, language, latest_intent

logger = logging.getLogger(__name__)
# what a customer asks about -> the notices' topic (handoff_service/outages/states.py TOPICS)
TOPIC_BY_INTENT = {
    "payment_issue": "payment",
    "refund": "refund",
    "order_status": "delivery",
    "account_issue": "login",
    "invoice": "invoice",
}
MAX_TOLD = 2  # notices told at once (newest first)


async def notices_in_force(action: CaseAction, topic: str | None) -> list[dict[str, Any]] | None:
    """The notices in force for `topic` (all when None); None when handoff_service could not tell."""
    try:
        return await action.client.outages(topic)
    except (HandoffUnavailable, HandoffRejected) as exc:
        logger.warning("outage notices could not be read: %s", exc)
        return None


def tell(dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], notice: dict[str, Any]) -> None:
    lang = language(tracker)
    eta = notice.get("expected_recovery_at")
    when = (
        format_deadline(dt.datetime.fromisoformat(eta), lang)
        if eta
        else label(domain, "utter_label_outage_eta_unknown", tracker)
    )
    latest = notice.get("latest") or {}
    dispatcher.utter_message(
        response="utter_outage_notice",
        outage_title=(notice.get("title") or {}).get(lang, ""),
        outage_status=(notice.get("status_label") or {}).get(lang, notice.get("status", "")),
        outage_update=latest.get(lang) or "",
        outage_eta=when,
    )


def told(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], notices: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    for notice in notices[:MAX_TOLD]:
        tell(dispatcher, tracker, domain, notice)
    return [SlotSet("outage_notice", str(notices[0]["id"]))] if notices else []


class ActionOutageStatus(CaseAction):
    """ "Is the service down?": the notices in force, or today's answer when there is none (or no answer)."""

    def name(self) -> str:
        return "action_outage_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        notices = await notices_in_force(self, None)
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
        notices = await notices_in_force(self, topic)
        return told(dispatcher, tracker, domain, notices or [])
