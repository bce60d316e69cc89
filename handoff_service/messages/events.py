"""What the messages feature announces after commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handoff_service.core.bus import DomainEvent


@dataclass(frozen=True)
class MessageAdded(DomainEvent):
    case_id: int
    owner_id: int | None
    handler_id: int | None
    message: dict[str, Any]
