"""What the delivery feature announces after commit."""

from __future__ import annotations

from dataclasses import dataclass

from handoff_service.core.bus import DomainEvent

from .models import Claim


@dataclass(frozen=True)
class DeliveryQueued(DomainEvent):
    """A new outbox row, already leased to this process: attempt it now."""

    claim: Claim


@dataclass(frozen=True)
class DeliveryRetried(DomainEvent):
    """A failed row put back to pending by an agent: the worker claims it itself."""

    delivery_id: int


@dataclass(frozen=True)
class DeliveryStatusChanged(DomainEvent):
    claim: Claim
    status: str
    last_error: str | None
