"""The follow-up visits' scheduler (background task): plans a visit for each resolution, and asks
each one when it is due, on the customer's own channel when they can be reached there, else on the
owner's list of visits to make by phone.

Each pass plans, then claims the due visits with a lease. A visit whose case moved on (reopened,
closed, or the customer opened a new case since) is cancelled; one asked as often as allowed
without an answer ends as no answer; otherwise Rasa is asked whether the customer can be reached
now, and the visit is sent (outbox, exactly once) or goes to the call list. A process killed at any
point leaves each visit either untouched (claimed again when the lease ends) or sent once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from handoff_service.cases.states import RESOLVED
from handoff_service.core.config import Settings
from handoff_service.core.deps import Deps
from handoff_service.rasa.client import RasaClient, RasaError

from . import service, states

log = logging.getLogger(__name__)

BATCH = 20  # visits claimed at once
RETRY = timedelta(seconds=30)  # Rasa could not be asked: look again after this


def lease(settings: Settings) -> timedelta:
    """How long a claimed visit is this process's: a reachability question and two short
    transactions (another process that takes it over after that still asks it only once)."""
    return timedelta(seconds=settings.transcript_timeout_seconds * 2 + 5)


class VisitScheduler:
    def __init__(self, deps: Deps, rasa: RasaClient) -> None:
        self.deps = deps
        self.rasa = rasa
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Run a pass now (a case was just resolved) instead of at the next interval."""
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            wait = self.deps.settings.follow_up_interval_seconds
            try:
                await self.run_once()
                wait = await self.until_next(wait)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("follow-up scheduler failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except asyncio.TimeoutError:
                pass

    async def until_next(self, interval: float) -> float:
        """Seconds to sleep: until the soonest visit is due, at most `interval` (visits planned by
        another process are seen at the next pass)."""
        soonest = await service.next_due(self.deps)
        if soonest is None:
            return interval
        return min(interval, max(0.0, (soonest - self.deps.clock.now()).total_seconds()))

    async def run_once(self) -> dict[str, int]:
        """One pass; returns how many visits were planned and how many took each step."""
        counts = {"planned": await service.plan_visits(self.deps)}
        while claimed := await service.claim_due(self.deps, lease(self.deps.settings), BATCH):
            for visit in claimed:
                step = await self.visit(visit)
                counts[step] = counts.get(step, 0) + 1
            if len(claimed) < BATCH:
                break
        return counts

    async def visit(self, visit: Any) -> str:
        """Takes one claimed visit a step further; returns the step (or `retry`/`lost`)."""
        deps = self.deps
        case, wrote_in = await service.context_of(deps, visit)
        if case.status != RESOLVED or case.reopen_count != visit.cycle:
            done = await service.cancel(deps, visit, case, states.CASE_MOVED_ON)
            return states.CANCEL if done is not None else "lost"
        if wrote_in:
            done = await service.cancel(deps, visit, case, states.CUSTOMER_WROTE_IN)
            return states.CANCEL if done is not None else "lost"
        if visit.attempts >= deps.settings.follow_up_attempts:
            done = await service.give_up(deps, visit, case)
            return states.GIVE_UP if done is not None else "lost"
        try:
            reachable = await self.rasa.reachable(
                case.conversation_id, timeout=deps.settings.transcript_timeout_seconds
            )
        except RasaError as e:
            log.warning("follow-up visit %s: Rasa could not be asked (%s); trying again", visit.id, e.reason)
            await service.release(deps, visit, RETRY)
            return "retry"
        if reachable:
            done = await service.send(deps, visit, case)
            return states.SEND if done is not None else "lost"
        done = await service.to_call(deps, visit, case)
        return states.CALL if done is not None else "lost"
