"""Domain events and their after-commit listeners.

A use case records events on its transaction's connection (`record`); when that
transaction commits, `Deps.tx` hands them to the bus, which calls every listener
of each event's type, in order. A rolled-back transaction publishes nothing.
Listeners do the side effects (websocket fan-out, delivery attempts); a failing
listener is logged and never undoes the committed use case.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger(__name__)

_PENDING = "handoff_pending_events"


@dataclass(frozen=True)
class DomainEvent:
    """Base class of every domain event (frozen dataclasses, defined in each feature's `events.py`)."""


E = TypeVar("E", bound=DomainEvent)
Listener = Callable[[Any], Awaitable[None] | None]


def record(conn: AsyncConnection, event: DomainEvent) -> None:
    """Queue `event` for publication when the transaction of `conn` commits."""
    pending: list[DomainEvent] | None = conn.info.get(_PENDING)
    if pending is None:
        raise RuntimeError("domain events can only be recorded inside Deps.tx()")
    pending.append(event)


def open_outbox(conn: AsyncConnection) -> list[DomainEvent]:
    """Start collecting the events of a transaction (called by Deps.tx)."""
    pending: list[DomainEvent] = []
    conn.info[_PENDING] = pending
    return pending


def close_outbox(conn: AsyncConnection) -> None:
    # the connection goes back to the pool: its info dict outlives the transaction
    conn.info.pop(_PENDING, None)


class EventBus:
    def __init__(self) -> None:
        self._listeners: dict[type[DomainEvent], list[Listener]] = {}

    def subscribe(self, event_type: type[E], listener: Callable[[E], Awaitable[None] | None]) -> None:
        self._listeners.setdefault(event_type, []).append(listener)

    def listeners(self, event_type: type[DomainEvent]) -> list[Listener]:
        return list(self._listeners.get(event_type, ()))

    async def publish(self, events: Iterable[DomainEvent]) -> None:
        for event in events:
            for listener in self._listeners.get(type(event), ()):
                try:
                    result = listener(event)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception(
                        "listener %s failed on %s", getattr(listener, "__qualname__", listener), type(event).__name__
                    )
