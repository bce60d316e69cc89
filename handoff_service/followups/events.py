"""What the follow-up visits announce after commit (live/ tells the case's staff)."""

from __future__ import annotations

from dataclasses import dataclass

from handoff_service.core.bus import DomainEvent


@dataclass(frozen=True)
class VisitChanged(DomainEvent):
    """A visit was planned or took a step (sent, to call, answered, no answer, cancelled)."""

    visit_id: int
    case_id: int
    state: str
    owner_id: int | None
    handler_id: int | None

    def message(self) -> dict[str, object]:
        return {"type": "follow_up.changed", "visit_id": self.visit_id, "case_id": self.case_id, "state": self.state}
