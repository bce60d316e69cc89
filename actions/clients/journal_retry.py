"""Case writes that could not land (handoff_service down) are kept in the conversation's journal
slot and retried on the customer's next message. The last writes of a conversation (the survey
answers, a resolution) have no next message, so they are also retried here, in the background of
the action server, on a timer. The slot journal stays the reference: a later flush of it replays
what landed meanwhile, which idempotency keys and the service's conflict answers make harmless."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from actions.clients.handoff import CaseJournal, HandoffClient

logger = logging.getLogger(__name__)

DEFAULT_DELAYS = (5.0, 15.0, 60.0, 300.0, 900.0, 1800.0)  # seconds before each retry; ~50 minutes in all
MAX_CONVERSATIONS = 10_000  # retries kept at once; beyond, the next customer message retries


class JournalRetrier:
    """One background retry per conversation, replaced when the conversation saves again."""

    def __init__(self, delays: Sequence[float] = DEFAULT_DELAYS, max_conversations: int = MAX_CONVERSATIONS) -> None:
        self.delays = tuple(delays)
        self.max_conversations = max_conversations
        self._tasks: dict[str, asyncio.Task] = {}

    @property
    def waiting(self) -> int:
        """Conversations whose kept writes are still being retried."""
        return len(self._tasks)

    def cancel(self, conversation_id: str) -> None:
        """Stops the conversation's background retry, if any."""
        task = self._tasks.pop(conversation_id, None)
        if task is not None and not task.done() and not task.get_loop().is_closed():
            task.cancel()

    def retry_later(self, conversation_id: str, journal: CaseJournal, client: HandoffClient) -> None:
        """Retries a copy of what `journal` still keeps; the conversation's earlier retry stops."""
        self.cancel(conversation_id)
        if not (journal.pending and journal.is_open):
            return
        if len(self._tasks) >= self.max_conversations:
            logger.warning(
                "case %s: background retries full; kept writes wait for the next message", journal.case_number or "-"
            )
            return
        copy = CaseJournal.from_slots(journal.case_number, journal.pending)
        self._tasks[conversation_id] = asyncio.get_running_loop().create_task(
            self._retry(conversation_id, copy, client)
        )

    async def _retry(self, conversation_id: str, journal: CaseJournal, client: HandoffClient) -> None:
        try:
            for delay in self.delays:
                await asyncio.sleep(delay)
                try:
                    result = await journal.flush(client)
                except Exception as exc:  # never an unretrieved task error; the slot journal still has the writes
                    logger.warning(
                        "case %s: background retry stopped: %s", journal.case_number or "-", type(exc).__name__
                    )
                    return
                if not journal.pending:
                    logger.info("case %s: kept writes landed in the background", journal.case_number or "-")
                    return
                logger.info(
                    "case %s: %d write(s) still kept: %s",
                    journal.case_number or "-",
                    len(journal.pending),
                    result.error,
                )
            logger.warning(
                "case %s: %d write(s) still kept after %d background retries; the customer's next message retries them",
                journal.case_number or "-",
                len(journal.pending),
                len(self.delays),
            )
        finally:
            if self._tasks.get(conversation_id) is asyncio.current_task():
                del self._tasks[conversation_id]
