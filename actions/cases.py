"""Case plumbing shared by the complaint, handoff and survey actions: the journal kept in slots, flushed each
turn, and what the customer told about the matter so far."""

from __future__ import annotations

import abc
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.clients import default_handoff_client, default_journal_retrier, default_order_backend
from actions.clients.handoff import CaseJournal, FlushResult, HandoffClient
from actions.clients.journal_retry import JournalRetrier
from actions.clients.orders import OrderBackend
from actions.common import language

logger = logging.getLogger(__name__)
# what the complaint form asks: the matter as the customer told it (kept on the case, shown to the agent)
FORM_SLOTS = ("complaint_category", "order_number", "complaint_details", "complaint_expectation")


def collected(tracker: Tracker, **overrides: Any) -> dict[str, Any]:
    """The complaint form's answers known so far (empty ones left out)."""
    values = {slot: tracker.get_slot(slot) for slot in FORM_SLOTS}
    values.update(overrides)
    return {k: v for k, v in values.items() if v}


class CaseAction(Action, abc.ABC):
    """An action that writes to the customer's case through the journal (clients injectable for tests)."""

    def __init__(
        self,
        client: HandoffClient | None = None,
        orders: OrderBackend | None = None,
        retrier: JournalRetrier | None = None,
    ) -> None:
        self._client, self._orders, self._retrier = client, orders, retrier

    @abc.abstractmethod
    def name(self) -> str: ...  # abstract: rasa_sdk registers only concrete actions

    @property
    def client(self) -> HandoffClient:
        return self._client or default_handoff_client()

    @property
    def orders(self) -> OrderBackend:
        return self._orders or default_order_backend()

    @property
    def retrier(self) -> JournalRetrier:
        return self._retrier or default_journal_retrier()

    @staticmethod
    def journal(tracker: Tracker) -> CaseJournal:
        return CaseJournal.from_slots(tracker.get_slot("case_number"), tracker.get_slot("case_journal"))

    @staticmethod
    def new_case(tracker: Tracker, category: str, description: str, outage_notice: str | None = None) -> dict[str, Any]:
        body = {
            "channel": tracker.get_latest_input_channel() or "rest",
            "conversation_id": tracker.sender_id,
            "language": language(tracker),
            "category": category,
            "description": description[:4000],
        }
        # the outage notice this conversation was told of (actions/outage_notices.py): the case is linked to it
        notice = outage_notice or tracker.get_slot("outage_notice")
        if isinstance(notice, str) and notice.isdigit():
            body["outage_notice"] = notice
        return body

    async def save(
        self, journal: CaseJournal, dispatcher: CollectingDispatcher, tracker: Tracker, announce: bool = True
    ) -> list[dict]:
        """Flushes the journal and returns the slot events. A case number that arrives late (the
        service was down when the case was opened) is told to the customer when `announce`."""
        result: FlushResult = await journal.flush(self.client)
        if result.error:
            # no message text or personal data here: the case number and the reason only
            logger.warning(
                "case %s: %d write(s) kept for retry: %s",
                journal.case_number or "-",
                len(journal.pending),
                result.error,
            )
        # what is still kept is retried in the background too (this replaces an earlier retry of the conversation)
        self.retrier.retry_later(tracker.sender_id, journal, self.client)
        told = bool(tracker.get_slot("case_number_told"))
        if announce and journal.case_number and not told:
            dispatcher.utter_message(response="utter_case_registered", case_number=journal.case_number)
            told = True
        return [
            SlotSet("case_number", journal.case_number),
            SlotSet("case_journal", journal.pending),
            SlotSet("case_number_told", told),
        ]
