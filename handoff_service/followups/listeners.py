"""After commit: a resolved case wakes the scheduler, so its visit is planned at once (the
scheduler's own pass plans it anyway: this only shortens the wait)."""

from __future__ import annotations

from handoff_service.cases.events import CaseChanged
from handoff_service.cases.states import RESOLVED
from handoff_service.core.bus import EventBus

from .scheduled import VisitScheduler


def register(bus: EventBus, scheduler: VisitScheduler) -> None:
    def case_changed(event: CaseChanged) -> None:
        if event.card.get("status") == RESOLVED:
            scheduler.wake()

    bus.subscribe(CaseChanged, case_changed)
