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

Before the gate, every message passes `guard_message`: intents come from understanding, not
from typing. Rasa reads a text starting with "/" as an intent (with entities as JSON) and skips
understanding; here such a text counts as a payload only if it is one of the buttons the bot
offered since the customer's last message. Otherwise the slash is dropped and the text is
understood like any other (so `/EXTERNAL_handoff_resolved` typed in the chat is just words).
A message is cut at `MAX_MESSAGE_CHARS`; a REST or callback body over `MAX_BODY_BYTES` is
refused with 413, and the client cannot choose the input channel (the one replies go back to).
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
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

LIMIT_ENV, DEFAULT_LIMIT = "RASA_MAX_CONCURRENT_TURNS", 2
PATIENCE_ENV, DEFAULT_PATIENCE = "RASA_TURN_PATIENCE", 5.0
MAX_BODY_BYTES = 16 * 1024  # REST and callback request bodies
MAX_MESSAGE_CHARS = 4000  # longer messages are cut (the input guard answers "too long" past 500)
Handler = Callable[[UserMessage], Awaitable[Any]]
Payloads = Callable[[str], Awaitable[set[str]]]


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


def offered_payloads(events: list[Any]) -> set[str]:
    """Payloads of the buttons and quick replies the bot sent since the customer's last message."""
    offered: set[str] = set()
    for event in reversed(events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            for key in ("buttons", "quick_replies"):
                for button in (event.data or {}).get(key) or []:
                    if isinstance(button, dict) and isinstance(button.get("payload"), str):
                        offered.add(button["payload"].strip())
    return offered


async def tracker_payloads(sender_id: str) -> set[str]:
    """What the running server's bot offered this conversation (its tracker store)."""
    try:
        app = Sanic.get_app()
    except Exception:  # no running server (a channel used outside `rasa run`)
        return set()
    agent = getattr(app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return set()
    tracker = await agent.tracker_store.retrieve(sender_id)
    return offered_payloads(list(tracker.events)) if tracker is not None else set()


async def guard_message(message: UserMessage, payloads: Payloads = tracker_payloads) -> UserMessage:
    """The message as the assistant may take it (see the module's docstring)."""
    text = (message.text or "")[:MAX_MESSAGE_CHARS]
    if text.lstrip().startswith("/") and text.strip() not in await payloads(message.sender_id):
        text = text.lstrip().lstrip("/")
    message.text = text
    return message


def guarded(on_new_message: Handler, payloads: Payloads = tracker_payloads) -> Handler:
    @functools.wraps(on_new_message)
    async def handle(message: UserMessage) -> Any:
        return await on_new_message(await guard_message(message, payloads))

    return handle


class GatedChannel:
    """Mixed in before one of Rasa's input channels: its messages are guarded, then pass the
    process's gate."""

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        bp: Blueprint = super().blueprint(turn_gate().wrap(guarded(on_new_message)))  # type: ignore[misc]
        return bp


class BoundedBody:
    """Mixed in before Rasa's REST-based channels: bodies over MAX_BODY_BYTES are refused (413),
    and the input channel is the channel's own name, whatever the client sends."""

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        bp: Blueprint = super().blueprint(on_new_message)  # type: ignore[misc]

        @bp.middleware("request")
        async def refuse_large_bodies(request: Request) -> HTTPResponse | None:
            declared = request.headers.get("content-length")
            size = int(declared) if declared and declared.isdigit() else len(request.body or b"")
            if size > MAX_BODY_BYTES:
                return json({"error": "payload_too_large", "max_bytes": MAX_BODY_BYTES}, status=413)
            return None

        return bp

    def _extract_input_channel(self, request: Request) -> str:
        return str(self.name())  # type: ignore[attr-defined]


class RestInput(BoundedBody, GatedChannel, RasaRestInput):
    pass


class SocketIOInput(GatedChannel, RasaSocketIOInput):
    pass


class CallbackInput(BoundedBody, GatedChannel, RasaCallbackInput):
    pass
