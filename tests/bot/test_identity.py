"""Signed chat sessions, customer tokens and gateway bodies (bot/identity.py)."""

from __future__ import annotations

import time

import jwt
import pytest

from bot import identity
from bot.channels import client_metadata

SECRET = "s" * 40


def test_a_session_names_its_conversation_only_with_its_own_signature():
    signer = identity.SessionSigner(SECRET, 3600)
    session = signer.issue()
    conversation, expires, signature = session.split(".")
    assert len(conversation) == 32 and signer.conversation_of(session) == conversation
    assert signer.conversation_of(conversation) is None
    assert signer.conversation_of(f"{conversation}.{int(expires) + 1}.{signature}") is None
    assert signer.conversation_of(f"{'0' * 32}.{expires}.{signature}") is None
    assert identity.SessionSigner("t" * 40).conversation_of(session) is None
    assert signer.conversation_of(None) is None and signer.conversation_of(["x"]) is None


def test_a_session_expires():
    signer = identity.SessionSigner(SECRET, 60)
    session = signer.issue(now=1_000_000)
    assert signer.conversation_of(session, now=1_000_059)
    assert signer.conversation_of(session, now=1_000_060) is None


def test_two_sessions_are_two_conversations():
    signer = identity.SessionSigner(SECRET)
    assert signer.conversation_of(signer.issue()) != signer.conversation_of(signer.issue())


def test_the_signer_comes_from_the_environment():
    signer = identity.session_signer({identity.SESSION_SECRET_ENV: SECRET, identity.SESSION_DAYS_ENV: "2"})
    assert signer.secret == SECRET and signer.lifetime_seconds == 2 * 86400
    with pytest.raises(ValueError, match="at least 32"):
        identity.session_signer({identity.SESSION_SECRET_ENV: "short"})
    # without one, a random secret: sessions work until the server restarts
    assert identity.session_signer({}).secret != identity.session_signer({}).secret


def token(secret: str = SECRET, **claims) -> str:
    return jwt.encode({"sub": "cust-42", "exp": int(time.time()) + 600, **claims}, secret, algorithm="HS256")


def test_a_customer_token_names_its_customer_only_when_signed_and_current():
    assert identity.customer_of(token(), SECRET) == "cust-42"
    assert identity.customer_of(token("x" * 40), SECRET) is None
    assert identity.customer_of(token(exp=int(time.time()) - 5), SECRET) is None
    assert identity.customer_of(jwt.encode({"sub": "cust-42"}, SECRET, algorithm="HS256"), SECRET) is None
    assert identity.customer_of(token(sub="a b<script>"), SECRET) is None
    assert identity.customer_of(token(), None) is None  # the shop has not configured customer tokens
    unsigned = jwt.encode({"sub": "cust-42", "exp": int(time.time()) + 600}, None, algorithm="none")
    assert identity.customer_of(unsigned, SECRET) is None


def test_client_metadata_keeps_the_language_and_a_verified_customer_only():
    sent = {"language": "en", "customer_id": "someone-else", "intent": "x", "customer_token": token()}
    assert client_metadata(sent, SECRET) == {"language": "en", "customer_id": "cust-42"}
    assert client_metadata({"customer_id": "someone-else", "language": "fr"}, SECRET) == {}
    assert client_metadata("not a dict", SECRET) == {}


def test_a_gateway_signature_covers_every_byte_of_the_body():
    body = b'{"sender": "s", "message": "hi"}'
    header = identity.sign_body(SECRET, body)
    assert identity.body_signed(SECRET, body, header)
    assert not identity.body_signed(SECRET, body + b" ", header)
    assert not identity.body_signed("x" * 40, body, header)
    assert not identity.body_signed(SECRET, body, None) and not identity.body_signed(None, body, header)
