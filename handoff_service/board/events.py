"""What the board announces after commit (live/ pushes it to the case's staff and supervisors)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handoff_service.core.bus import DomainEvent


@dataclass(frozen=True)
class EscalationAcknowledged(DomainEvent):
    """A supervisor acknowledged an escalated deadline of a case."""

    case_id: int
    owner_id: int | None
    handler_id: int | None
    acknowledgement: dict[str, Any]

    def message(self) -> dict[str, Any]:
        """The live message (websocket) announcing it."""
        return {"type": "sla.acknowledged", "case_id": self.case_id, "acknowledgement": self.acknowledgement}
