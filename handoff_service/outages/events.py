"""What the outage feature announces after commit (the console's live view refreshes on it)."""

from __future__ import annotations

from dataclasses import dataclass

from handoff_service.core.bus import DomainEvent


@dataclass(frozen=True)
class OutageChanged(DomainEvent):
    notice_id: int
    what: str  # published | updated | resolved | linked | cases_resolved
