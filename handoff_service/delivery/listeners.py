"""After commit: attempt what a use case put in the outbox."""

from __future__ import annotations

from handoff_service.core.bus import EventBus

from .events import DeliveryQueued, DeliveryRetried
from .scheduled import DeliveryWorker


def register(bus: EventBus, worker: DeliveryWorker) -> None:
    def queued(event: DeliveryQueued) -> None:
        worker.kick(event.claim.id, event.claim)  # this process holds the lease

    def retried(event: DeliveryRetried) -> None:
        worker.kick(event.delivery_id)  # the worker claims it itself

    bus.subscribe(DeliveryQueued, queued)
    bus.subscribe(DeliveryRetried, retried)
