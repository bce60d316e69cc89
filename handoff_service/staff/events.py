"""What the staff feature announces after commit."""

from __future__ import annotations

from dataclasses import dataclass

from handoff_service.core.bus import DomainEvent


@dataclass(frozen=True)
class SignedOut(DomainEvent):
    """A console session ended (logout): whatever it opened must close."""

    credential: str  # the session's hash
