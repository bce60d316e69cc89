"""Who is talking: signed chat sessions, signed customer tokens and signed gateway bodies.

Standard library only (PyJWT is imported where a customer token is checked), so the messaging
gateway's code, the tests and the bot share one definition of every signature.

- **Chat sessions** (the socket.io widget): the server issues `<conversation>.<expires>.<signature>`,
  a random 128-bit conversation id, its expiry (Unix seconds) and an HMAC-SHA256 of both under
  `CHAT_SESSION_SECRET`. The conversation id alone (what agents, logs and Rasa's tracker see) is
  not a credential: joining a conversation's room or speaking in it needs the whole session.
- **Customer tokens**: a shop that knows its customer passes a JWT (HS256, `sub` = its customer
  id, `exp` required) signed with `CHAT_CUSTOMER_JWT_SECRET`; the assistant then knows who asks.
- **Gateway bodies** (REST and callback channels): the messaging gateway signs the raw request body
  with `CHANNEL_GATEWAY_SECRET`, sent as `X-Signature: sha256=<hex>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

SESSION_SECRET_ENV = "CHAT_SESSION_SECRET"
SESSION_DAYS_ENV, DEFAULT_SESSION_DAYS = "CHAT_SESSION_DAYS", 7.0
CUSTOMER_SECRET_ENV = "CHAT_CUSTOMER_JWT_SECRET"
GATEWAY_SECRET_ENV = "CHANNEL_GATEWAY_SECRET"
SIGNATURE_HEADER = "X-Signature"
MIN_SECRET_CHARS = 32
CUSTOMER_ID_KEY = "customer_id"  # message metadata: set by the channel after checking a signature only
MAX_CUSTOMER_ID_CHARS = 128
_SESSION = re.compile(r"^([0-9a-f]{32})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$")
# a customer id as the channel passes it on (the actions check it again: a gateway may send anything)
CUSTOMER_ID = re.compile(rf"^[\w.@:-]{{1,{MAX_CUSTOMER_ID_CHARS}}}$")


def _mac(secret: str, *parts: str) -> bytes:
    return hmac.new(secret.encode(), "|".join(parts).encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class SessionSigner:
    """Issues and checks chat sessions."""

    secret: str
    lifetime_seconds: float = DEFAULT_SESSION_DAYS * 86400

    def issue(self, now: float | None = None) -> str:
        conversation = secrets.token_hex(16)
        expires = str(int((time.time() if now is None else now) + self.lifetime_seconds))
        signature = base64.urlsafe_b64encode(_mac(self.secret, "chat-session", conversation, expires)).decode()
        return f"{conversation}.{expires}.{signature.rstrip('=')}"

    def conversation_of(self, session: Any, now: float | None = None) -> str | None:
        """The conversation id of a valid, unexpired session; None for anything else."""
        match = _SESSION.match(session) if isinstance(session, str) else None
        if match is None:
            return None
        conversation, expires, signature = match.groups()
        expected = base64.urlsafe_b64encode(_mac(self.secret, "chat-session", conversation, expires)).decode()
        if not hmac.compare_digest(expected.rstrip("="), signature):
            return None
        if int(expires) <= (time.time() if now is None else now):
            return None
        return conversation


def session_signer(environ: Mapping[str, str] = os.environ) -> SessionSigner:
    """The process's signer. Without CHAT_SESSION_SECRET a random one is made: sessions then end
    when the server restarts (a page reload starts a new conversation), which is safe, not silent."""
    secret = environ.get(SESSION_SECRET_ENV, "")
    if not secret:
        logger.warning("%s is not set: chat sessions last until this server restarts", SESSION_SECRET_ENV)
        secret = secrets.token_urlsafe(32)
    elif len(secret) < MIN_SECRET_CHARS:
        raise ValueError(f"{SESSION_SECRET_ENV} must have at least {MIN_SECRET_CHARS} characters")
    days = float(environ.get(SESSION_DAYS_ENV) or DEFAULT_SESSION_DAYS)
    if not days > 0:
        raise ValueError(f"{SESSION_DAYS_ENV} must be positive, got {days}")
    return SessionSigner(secret, days * 86400)


def customer_of(token: Any, secret: str | None) -> str | None:
    """The customer id of a valid customer token (JWT HS256 with `sub` and `exp`); None otherwise."""
    if not secret or not isinstance(token, str) or len(token) > 4096:
        return None
    import jwt  # PyJWT, in Rasa's environment

    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) and CUSTOMER_ID.match(subject) else None


def sign_body(secret: str, body: bytes) -> str:
    """The X-Signature header value of a gateway request body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_signed(secret: str | None, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(sign_body(secret, body), header.strip())
