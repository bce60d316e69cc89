"""Kept case writes land in the background when handoff_service comes back, with no further message."""

import asyncio
import time

from rasa_sdk.executor import CollectingDispatcher

from actions.cases import CaseAction
from actions.clients.handoff import CaseJournal, HandoffClient
from actions.clients.journal_retry import JournalRetrier
from actions.survey import ActionSurveySubmit
from tests.actions.conftest import make_tracker, responses
from tests.actions.handoff_standin import NUMBER, running_standin

ANSWERS = {"csat_overall": 5, "csat_attitude": 4, "csat_speed": 4, "csat_solved": 5, "csat_comment": "-"}


async def eventually(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.05)


def slot(events, name):
    return next(e["value"] for e in events if e.get("event") == "slot" and e["name"] == name)


async def submit_while_down(port: int, retrier: JournalRetrier, domain_dict):
    client = HandoffClient(f"http://127.0.0.1:{port}", token="t", timeout=1)
    dispatcher = CollectingDispatcher()
    slots = {"case_number": NUMBER, "case_journal": [], "case_number_told": True, **ANSWERS}
    events = await ActionSurveySubmit(client=client, retrier=retrier).run(dispatcher, make_tracker(slots), domain_dict)
    return events, dispatcher, client


async def test_survey_answers_given_while_the_service_is_down_land_when_it_is_back(domain_dict, unused_port):
    retrier = JournalRetrier(delays=(0.2, 0.2, 0.2, 0.2, 30))
    events, dispatcher, _ = await submit_while_down(unused_port, retrier, domain_dict)
    assert responses(dispatcher) == ["utter_survey_thanks"]  # the customer is thanked either way
    assert [op["op"] for op in slot(events, "case_journal")] == ["csat"]  # kept in the slot too
    assert retrier.waiting == 1
    async with running_standin(unused_port) as service:  # the service comes back; the customer says nothing
        await eventually(lambda: retrier.waiting == 0)
    assert service.requests == [
        ("POST", f"/api/bot/cases/{NUMBER}/csat", {"overall": 5, "attitude": 4, "speed": 4, "solved": 5})
    ]


class SaveOnly(CaseAction):
    """Any case action's next turn: flushes the journal kept in the slots."""

    def name(self):
        return "action_save_only"

    async def run(self, dispatcher, tracker, domain):
        return await self.save(self.journal(tracker), dispatcher, tracker)


async def test_the_conversations_next_save_replaces_its_background_retry(domain_dict, unused_port):
    retrier = JournalRetrier(delays=(0.5, 30))
    events, _, client = await submit_while_down(unused_port, retrier, domain_dict)
    assert retrier.waiting == 1
    async with running_standin(unused_port) as service:
        # the customer writes again before the first retry: that turn's flush sends the kept answers, once
        slots = {"case_number": NUMBER, "case_journal": slot(events, "case_journal"), "case_number_told": True}
        after = await SaveOnly(client=client, retrier=retrier).run(
            CollectingDispatcher(), make_tracker(slots), domain_dict
        )
        assert slot(after, "case_journal") == [] and retrier.waiting == 0
        await asyncio.sleep(1.0)  # past the replaced retry's first attempt
    assert [path for _, path, _ in service.requests] == [f"/api/bot/cases/{NUMBER}/csat"]


async def test_retries_stop_after_the_last_delay_and_keep_nothing_running(unused_port):
    retrier = JournalRetrier(delays=(0.05, 0.05))
    journal = CaseJournal(NUMBER, [{"op": "csat", "body": {"overall": 3}}])
    retrier.retry_later("c1", journal, HandoffClient(f"http://127.0.0.1:{unused_port}", token="t", timeout=1))
    await eventually(lambda: retrier.waiting == 0)
    assert journal.pending == [{"op": "csat", "body": {"overall": 3}}]  # the caller's journal is untouched


async def test_nothing_is_scheduled_when_everything_landed_or_the_limit_is_reached(unused_port):
    client = HandoffClient(f"http://127.0.0.1:{unused_port}", token="t", timeout=1)
    retrier = JournalRetrier(delays=(30,), max_conversations=1)
    retrier.retry_later("empty", CaseJournal(NUMBER, []), client)
    retrier.retry_later("no-case", CaseJournal(None, [{"op": "csat", "body": {"overall": 3}}]), client)
    assert retrier.waiting == 0
    kept = [{"op": "csat", "body": {"overall": 3}}]
    retrier.retry_later("first", CaseJournal(NUMBER, kept), client)
    retrier.retry_later("second", CaseJournal(NUMBER, kept), client)
    assert retrier.waiting == 1
    retrier.cancel("first")
    assert retrier.waiting == 0
