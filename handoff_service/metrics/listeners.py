"""After commit: the rollup rows of the case a use case touched are written again (facts.py)."""

from __future__ import annotations

from handoff_service.cases.events import CaseChanged, DeadlineEscalated
from handoff_service.core.deps import Deps
from handoff_service.followups.events import VisitChanged
from handoff_service.messages.events import MessageAdded

from . import service


def register(deps: Deps) -> None:
    async def case_changed(event: CaseChanged) -> None:
        await service.refresh_cases(deps, [int(event.card["id"])])

    async def escalated(event: DeadlineEscalated) -> None:
        await service.refresh_cases(deps, [int(event.card["id"])])

    async def message_added(event: MessageAdded) -> None:
        await service.refresh_cases(deps, [event.case_id])

    async def visit_changed(event: VisitChanged) -> None:
        await service.refresh_cases(deps, [event.case_id])

    deps.bus.subscribe(CaseChanged, case_changed)
    deps.bus.subscribe(DeadlineEscalated, escalated)
    deps.bus.subscribe(MessageAdded, message_added)
    deps.bus.subscribe(VisitChanged, visit_changed)
