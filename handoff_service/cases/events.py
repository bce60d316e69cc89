"""What the cases feature announces after commit (listeners in live/ fan them out)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handoff_service.core.bus import DomainEvent


@dataclass(frozen=True)
class CaseChanged(DomainEvent):
    """A case was created or changed. `card` is its short form, names resolved."""

    card: dict[str, Any]
    owner_id: int | None
    handler_id: int | None
    created: bool = False
    queue_changed: bool = False  # the waiting queue changed too (every agent's view)
    previous_handler_id: int | None = None  # a handler the case was just taken from


@dataclass(frozen=True)
class NoteAdded(DomainEvent):
    case_id: int
    owner_id: int | None
    handler_id: int | None
    note: dict[str, Any]


@dataclass(frozen=True)
class DeadlineEscalated(DomainEvent):
    """The SLA monitor marked a deadline nearly breached or breached."""

    breached: bool
    deadline: str
    due: str
    card: dict[str, Any]
    owner_id: int | None
    handler_id: int | None

    def message(self) -> dict[str, Any]:
        """The live message (websocket) announcing it."""
        return {
            "type": "sla.breach" if self.breached else "sla.warning",
            "deadline": self.deadline,
            "due": self.due,
            "case": self.card,
        }
