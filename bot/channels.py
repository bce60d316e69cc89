"""Rasa's REST, socket.io and callback channels, with turns admitted in arrival order.

Rasa handles every incoming message as a task on one event loop. A turn that calls the action
server (an order lookup, a form, a case write) awaits the reply, and each message that arrived
meanwhile runs its NLU and policies first; under load such turns queue again at every call and
wait several times as long as the others. `TurnGate` lets at most `limit` turns run at once in
a process, the others waiting in arrival order, so a turn that started finishes before new ones
begin. With two, one turn still runs while another waits for the action server.

The limit is `RASA_MAX_CONCURRENT_TURNS` (default 2), one gate for all channels of the process.
A turn that has waited `RASA_TURN_PATIENCE` seconds (default 5) runs anyway: a stuck action call
slows the turns beside it, as it would without the gate, but never stops the assistant.
The channels keep Rasa's names, URLs and settings (`credentials.yml` names these classes).
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.callback import CallbackInput as RasaCallbackInput
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from sanic import Blueprint

LIMIT_ENV, DEFAULT_LIMIT = "RASA_MAX_CONCURRENT_TURNS", 2
PATIENCE_ENV, DEFAULT_PATIENCE = "RASA_TURN_PATIENCE", 5.0
Handler = Callable[[UserMessage], Awaitable[Any]]


class TurnGate:
    """At most `limit` turns at once; the others wait, first come first served (asyncio.Semaphore
    gives a freed place to the longest waiting turn, not to one that arrives just then)."""

    def __init__(self, limit: int, patience: float = DEFAULT_PATIENCE) -> None:
        if limit < 1:
            raise ValueError(f"{LIMIT_ENV} must be at least 1, got {limit}")
        if not patience > 0:
            raise ValueError(f"{PATIENCE_ENV} must be positive, got {patience}")
        self.limit, self.patience = limit, patience
        self._semaphore: asyncio.Semaphore | None = None  # made on the server's event loop

    async def _enter(self) -> bool:
        """Whether a place was taken; False when none freed up within `patience`."""
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limit)
        acquire = asyncio.ensure_future(self._semaphore.acquire())
        done, _ = await asyncio.wait({acquire}, timeout=self.patience)
        if done:
            return True
        acquire.cancel()
        try:
            return await acquire  # it may have got the place while being cancelled
        except asyncio.CancelledError:
            return False

    def wrap(self, on_new_message: Handler) -> Handler:
        @functools.wraps(on_new_message)
        async def gated(message: UserMessage) -> Any:
            entered = await self._enter()
            try:
                return await on_new_message(message)
            finally:
                if entered:
                    self._semaphore.release()

        return gated


@functools.lru_cache(maxsize=1)
def turn_gate() -> TurnGate:
    """The process's gate, shared by its channels."""
    return TurnGate(
        int(os.environ.get(LIMIT_ENV) or DEFAULT_LIMIT), float(os.environ.get(PATIENCE_ENV) or DEFAULT_PATIENCE)
    )


class GatedChannel:
    """Mixed in before one of Rasa's input channels: its messages pass the process's gate."""

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        return super().blueprint(turn_gate().wrap(on_new_message))  # type: ignore[misc]


class RestInput(GatedChannel, RasaRestInput):
    pass


class SocketIOInput(GatedChannel, RasaSocketIOInput):
    pass


class CallbackInput(GatedChannel, RasaCallbackInput):
    pass
