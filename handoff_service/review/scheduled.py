"""The review list's feed (background task): what the assistant misunderstood, read from what Rasa
recorded, and the messages of cases rated low.

Rasa's side is untouched: the bridge (bot/bridge.py) reads the tracker store's events table in id
order, off Rasa's event loop, so a customer's reply never waits for the review list. Here, each
pass reads on from the position stored in handoff_service's database, decides every customer
message whose answer is known (the action that followed it, or `review_settle_seconds` without one)
and stores the collected messages, the week's traffic counts and the new position in one
transaction. When handoff_service or Rasa is down the position stays where it was: nothing is lost,
nothing is counted twice. Low-rated cases are read the same way, by (rating time, case id).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handoff_service.cases import queries as cases
from handoff_service.core.config import Settings
from handoff_service.core.deps import Deps
from handoff_service.rasa.client import RasaClient, RasaError

from . import queries, service, states
from .records import Collected, Contact, answered, collected, judged, short, tracker_records, week_of

log = logging.getLogger(__name__)

PAGE = 500
RASA_FEED = "rasa_events"
CSAT_FEED = "low_csat"
CSAT_PAGE = 20
# a low-rated case's messages: from shortly before the case was opened to the rating
CSAT_LEAD = timedelta(minutes=15)


@dataclass
class Decision:
    """What one page of records adds to the review list."""

    position: int  # every record up to this id is decided
    collected: list[Collected] = field(default_factory=list)
    traffic: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (week, language): [messages, fallbacks]
    contacts: list[Contact] = field(default_factory=list)  # every customer message, for review_contacts


def decide(records: list[dict[str, Any]], next_after: int, now: datetime, settings: Settings) -> Decision:
    """The page's collected messages and traffic, up to the first message still waiting for its
    answer (younger than the settle time): the next pass reads on from there."""
    zone = ZoneInfo(settings.case_number_tz)
    decision = Decision(position=next_after)
    settle = timedelta(seconds=settings.review_settle_seconds)
    for record, answer in answered(records):
        if not isinstance(record.get("timestamp"), (int, float)) or not isinstance(record.get("id"), int):
            continue
        at = datetime.fromtimestamp(float(record["timestamp"]), tz=UTC)
        if answer is None and now - at < settle:
            decision.position = record["id"] - 1
            break
        decision.contacts.append(
            (str(record.get("sender_id"))[:128], at, short(record.get("language"), 8), short(record.get("channel"), 32))
        )
        verdict = judged(record, answer, settings)
        if verdict is None:
            continue
        fallback, reasons = verdict
        counts = decision.traffic.setdefault((week_of(at, zone), short(record.get("language"), 8) or "?"), [0, 0])
        counts[0] += 1
        counts[1] += int(fallback)
        if reasons:
            decision.collected.append(collected(record, reasons, at))
    return decision


class ReviewFeed:
    def __init__(self, deps: Deps, rasa: RasaClient) -> None:
        self.deps = deps
        self.rasa = rasa

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except RasaError as e:
                log.warning("review feed: Rasa could not be read (%s); trying again", e.reason)
            except Exception:
                log.exception("review feed failed")
            await asyncio.sleep(self.deps.settings.review_poll_seconds)

    async def run_once(self) -> int:
        """Reads everything there is; returns how many messages it collected. Each source is read
        even when the other fails (a tracker store that is not SQL answers 501); then the first
        failure is raised."""
        total, failure = 0, None
        for read in (self.read_rasa, self.read_low_csat):
            try:
                total += await read()
            except RasaError as e:
                failure = failure or e
        if failure is not None:
            raise failure
        return total

    async def read_rasa(self) -> int:
        total = 0
        timeout = self.deps.settings.transcript_timeout_seconds
        while True:
            after = int(await queries.feed_position(self.deps, RASA_FEED) or 0)
            records, next_after = await self.rasa.review_events(after, PAGE, timeout=timeout)
            decision = decide(records, next_after, self.deps.clock.now(), self.deps.settings)
            if decision.position <= after:
                return total
            total += await service.ingest(
                self.deps, RASA_FEED, str(decision.position), decision.collected, decision.traffic, decision.contacts
            )
            if next_after == decision.position and len(records) < PAGE:
                return total

    async def read_low_csat(self) -> int:
        total = 0
        settings = self.deps.settings
        while True:
            position = await queries.feed_position(self.deps, CSAT_FEED)
            rated = await cases.rated_at_most(self.deps, settings.review_low_csat, after=position, limit=CSAT_PAGE)
            if not rated:
                return total
            for case in rated:
                events = await self.rasa.tracker_events(
                    case.conversation_id, timeout=settings.transcript_timeout_seconds
                )
                messages = []
                for record, answer in answered(tracker_records(events, case.conversation_id)):
                    at = datetime.fromtimestamp(float(record["timestamp"]), tz=UTC)
                    if case.created_at - CSAT_LEAD <= at <= case.csat_at and judged(record, answer, settings):
                        messages.append(collected(record, (states.LOW_CSAT,), at))
                total += await service.ingest(self.deps, CSAT_FEED, case.position, messages, {})
