"""Outage notices as the bot tells them (shared by actions/outages.py and the complaint script): the notices in
force from handoff_service, and the standard wording — status, latest update, expected recovery — in the
customer's language. The id of the first notice told goes into the `outage_notice` slot: a case the conversation
opens afterwards is linked to it (actions/cases.py, the journal)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.clients.handoff import HandoffClient, HandoffRejected, HandoffUnavailable
from actions.common import format_deadline, label, language

logger = logging.getLogger(__name__)
SLOT = "outage_notice"
MAX_TOLD = 2  # notices told at once (newest first)
# what a customer asks about -> the notices' topic (handoff_service/outages/states.py TOPICS)
TOPIC_BY_INTENT = {
    "payment_issue": "payment",
    "refund": "refund",
    "order_status": "delivery",
    "account_issue": "login",
    "invoice": "invoice",
}
# a complaint's category (data/complaint_policy.yml) -> the notices' topic
TOPIC_BY_CATEGORY = {"billing": "payment", "delivery": "delivery"}


async def notices_in_force(client: HandoffClient, topic: str | None) -> list[dict[str, Any]] | None:
    """The notices in force for `topic` (all when None); None when handoff_service could not tell."""
    try:
        return await client.outages(topic)
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
    """Tells the newest notices; the slot events that remember the first."""
    for notice in notices[:MAX_TOLD]:
        tell(dispatcher, tracker, domain, notice)
    return [SlotSet(SLOT, str(notices[0]["id"]))] if notices else []
