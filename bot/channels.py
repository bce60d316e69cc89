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
offered since the customer's last message, or the chat page's opening greeting (`/greet`,
rasa-webchat's initPayload, harmless from anyone: the greeting then follows the page's language,
not the language of the word "greet"). Otherwise the slash is dropped and the text is understood
like any other (so `/EXTERNAL_handoff_resolved` typed in the chat is just words).
A message is cut at `MAX_MESSAGE_CHARS`.

Who may speak (`bot.identity` holds the signatures): on socket.io, only the browser the server
issued the session to; on REST and callback, only the messaging gateway, whose signature covers the
body (a body over `MAX_BODY_BYTES` is refused with 413), and the client cannot choose the input
channel (the one replies go back to).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.callback import CallbackInput as RasaCallbackInput
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json
from socketio import AsyncServer

from bot import identity

logger = logging.getLogger(__name__)

LIMIT_ENV, DEFAULT_LIMIT = "RASA_MAX_CONCURRENT_TURNS", 2
PATIENCE_ENV, DEFAULT_PATIENCE = "RASA_TURN_PATIENCE", 5.0
MAX_BODY_BYTES = 16 * 1024  # REST and callback request bodies
ORIGINS_ENV = "CHAT_ALLOWED_ORIGINS"  # pages that may open the widget's socket
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


# the chat page's opening message (handoff_service/static/chat.js, initPayload): always a payload
OPENING_PAYLOADS = frozenset({"/greet"})


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
    wanted = text.strip()
    if wanted.startswith("/") and wanted not in OPENING_PAYLOADS and wanted not in await payloads(message.sender_id):
        text = text.lstrip().lstrip("/")
    message.text = text
    return message


def guarded(on_new_message: Handler, payloads: Payloads = tracker_payloads) -> Handler:
    @functools.wraps(on_new_message)
    async def handle(message: UserMessage) -> Any:
        return await on_new_message(await guard_message(message, payloads))

    return handle


def admitted(on_new_message: Handler) -> Handler:
    """A channel's message handler behind the guard, then the process's gate."""
    return turn_gate().wrap(guarded(on_new_message))


class GatedChannel:
    """Mixed in before one of Rasa's input channels: its messages are guarded, then pass the
    process's gate."""

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        bp: Blueprint = super().blueprint(admitted(on_new_message))  # type: ignore[misc]
        return bp


def client_metadata(metadata: Any, customer_token_secret: str | None = None) -> dict[str, Any]:
    """What a browser may tell about itself: its language; with a valid customer token, the customer
    it is (`customer_id`). Everything else a client sends as metadata is dropped."""
    metadata = metadata if isinstance(metadata, dict) else {}
    kept: dict[str, Any] = {}
    if metadata.get("language") in ("zh", "en"):
        kept["language"] = metadata["language"]
    customer = identity.customer_of(metadata.get("customer_token"), customer_token_secret)
    if customer is not None:
        kept[identity.CUSTOMER_ID_KEY] = customer
    return kept


class SignedBody:
    """Mixed in before Rasa's REST-based channels (spoken to by a messaging gateway, not browsers):
    a body over MAX_BODY_BYTES is refused (413), one without a valid signature of the gateway
    (`X-Signature: sha256=<HMAC of the body>` under CHANNEL_GATEWAY_SECRET) is refused (401), and
    the input channel is the channel's own name, whatever the client sends. A signed body is the
    gateway's word, its metadata (`customer_id` included) is taken as sent."""

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        bp: Blueprint = super().blueprint(on_new_message)  # type: ignore[misc]
        secret = os.environ.get(identity.GATEWAY_SECRET_ENV) or None

        @bp.middleware("request")
        async def refuse_unsigned_or_large(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            declared = request.headers.get("content-length")
            size = int(declared) if declared and declared.isdigit() else len(request.body or b"")
            if size > MAX_BODY_BYTES:
                return json({"error": "payload_too_large", "max_bytes": MAX_BODY_BYTES}, status=413)
            if secret is None:
                return json(
                    {"error": "gateway_not_configured", "detail": f"{identity.GATEWAY_SECRET_ENV} is not set"}, 503
                )
            if not identity.body_signed(secret, request.body or b"", request.headers.get(identity.SIGNATURE_HEADER)):
                return json({"error": "bad_signature", "detail": f"sign the body: {identity.SIGNATURE_HEADER}"}, 401)
            return None

        return bp

    def _extract_input_channel(self, request: Request) -> str:
        return str(self.name())  # type: ignore[attr-defined]


class RestInput(SignedBody, GatedChannel, RasaRestInput):
    pass


class CallbackInput(SignedBody, GatedChannel, RasaCallbackInput):
    def reaches(self, conversation_id: str) -> bool:
        """A message sent now reaches the customer: the gateway's callback takes every push."""
        return True


class SocketIOInput(RasaSocketIOInput):
    """Rasa's socket.io channel for the web widget, where each conversation belongs to a browser.

    The server issues every session (`bot.identity`, signed, expiring): `session_request` with a
    session this server signed resumes it, anything else gets a new one. A socket joins only the room
    of the session it holds, and `user_uttered` is taken only for that session (others are dropped).
    A socket from a page whose Origin is not in CHAT_ALLOWED_ORIGINS (comma-separated; unset: no
    cross-origin page) is refused. Client metadata passes `client_metadata`.
    """

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        handle = admitted(on_new_message)
        signer = identity.session_signer()
        customer_secret = os.environ.get(identity.CUSTOMER_SECRET_ENV) or None
        allowed = {o.strip().rstrip("/") for o in os.environ.get(ORIGINS_ENV, "").split(",") if o.strip()}
        # CORS headers stay with Sanic (rasa run --cors); engine.io checks nothing, the connect handler does
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        self.sio = sio
        bp = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        held: dict[str, str] = {}  # socket id -> the conversation it holds the session of
        self._held = held
        ns = self.namespace

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return json({"status": "ok"})

        @sio.on("connect", namespace=ns)
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            return origin is None or origin.rstrip("/") in allowed or origin == _own_origin(environ)

        @sio.on("disconnect", namespace=ns)
        async def disconnect(sid: str) -> None:
            held.pop(sid, None)

        @sio.on("session_request", namespace=ns)
        async def session_request(sid: str, data: Any) -> None:
            session = data.get("session_id") if isinstance(data, dict) else None
            conversation = signer.conversation_of(session)
            if conversation is None:
                session = signer.issue()
                conversation = signer.conversation_of(session)
            if sid in held:
                sio.leave_room(sid, held[sid], namespace=ns)
            held[sid] = conversation
            sio.enter_room(sid, conversation, namespace=ns)
            await sio.emit("session_confirm", session, room=sid, namespace=ns)

        @sio.on(self.user_message_evt, namespace=ns)
        async def user_uttered(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                return
            conversation = signer.conversation_of(data.get("session_id"))
            if conversation is None or held.get(sid) != conversation:
                logger.warning("socket.io: a message for a session this socket does not hold was dropped")
                return
            text = data.get("message")
            message = UserMessage(
                text if isinstance(text, str) else "",
                SocketIOOutput(sio, self.bot_message_evt),
                conversation,
                input_channel=self.name(),
                metadata=client_metadata(data.get(self.metadata_key), customer_secret),
            )
            await handle(message)

        return bp

    def reaches(self, conversation_id: str) -> bool:
        """A message sent now reaches the customer: a widget holding the conversation is connected."""
        return conversation_id in getattr(self, "_held", {}).values()


def _own_origin(environ: dict[str, Any]) -> str:
    """The origin of a page served by this server itself."""
    scheme = environ.get("wsgi.url_scheme") or "http"
    return f"{scheme}://{environ.get('HTTP_HOST', '')}"
