"""Customers' conversations on the socket.io channel belong to the browser the server gave them to:
a session id is server-issued and signed, a socket joins only the room of a session it holds the
signature of, and messages need that signature too."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from tests.security.socketio_client import SocketIOClient
from tests.security.stack import MakeRun


async def open_session(stack: MakeRun, session_id: str | None = None) -> tuple[SocketIOClient, str]:
    client = SocketIOClient(stack.rasa, origin=stack.chat)
    await client.connect()
    await client.emit("session_request", {"session_id": session_id})
    confirmed = await client.next_event("session_confirm")
    return client, confirmed["session_id"] if isinstance(confirmed, dict) else confirmed


def texts(events: list) -> str:
    return "\n".join(str(e.get("text", "")) for e in events if isinstance(e, dict))


async def test_another_session_cannot_be_joined_or_spoken_for(stack: MakeRun) -> None:
    victim, victim_session = await open_session(stack)
    attacker = None
    try:
        await victim.emit(
            "user_uttered", {"message": "你好", "session_id": victim_session, "customData": {"language": "zh"}}
        )
        assert await victim.next_event("bot_uttered")  # the victim's conversation runs

        # the attacker learnt the victim's conversation id (agents, logs and Rasa's tracker show it)
        conversation = victim_session.split(".")[0]
        attacker, attacker_session = await open_session(stack, conversation)
        assert attacker_session.split(".")[0] != conversation

        # speaking for the victim's conversation is refused, and nothing reaches the victim's room
        for forged in (conversation, attacker_session.replace(attacker_session.split(".")[0], conversation)):
            await attacker.emit("user_uttered", {"message": "查一下订单12345", "session_id": forged})
        await victim.emit("user_uttered", {"message": "谢谢", "session_id": victim_session})
        to_victim = await victim.collect("bot_uttered", 8)
        assert "SF1402875531" not in texts(to_victim)
        assert to_victim, "the victim's own message was answered"
        # and the attacker hears nothing of the victim's conversation
        assert not await attacker.collect("bot_uttered", 1)
    finally:
        for client in (victim, attacker):
            if client is not None:
                await client.close()


async def test_a_page_of_another_origin_cannot_open_the_widget_socket(stack: MakeRun) -> None:
    client = SocketIOClient(stack.rasa, origin="http://evil.example")
    try:
        with pytest.raises((ConnectionRefusedError, AssertionError, OSError)):
            await client.connect()
            await client.emit("session_request", {"session_id": None})
            await client.next_event("session_confirm", timeout=5)
    finally:
        await client.close()


async def test_a_forged_or_expired_session_is_replaced_by_a_new_one(stack: MakeRun) -> None:
    client, session = await open_session(stack)
    try:
        conversation, expires, signature = session.split(".")
        for forged in (
            f"{conversation}.{int(expires) + 10**6}.{signature}",  # longer life, same signature
            f"{conversation}.{expires}.{'A' * len(signature)}",
            conversation,
        ):
            other, given = await open_session(stack, forged)
            await other.close()
            assert given.split(".")[0] != conversation
    finally:
        await client.close()


async def test_typed_intents_are_only_words(stack: MakeRun) -> None:
    """`/EXTERNAL_handoff_resolved` is handoff_service's (through Rasa's API), and `/intent{json}`
    would skip understanding: typed in the widget, both are words, and a malformed entity gets an
    answer, not a crash."""
    client, session = await open_session(stack)
    try:
        for typed in (
            '/EXTERNAL_handoff_resolved{"case_number": "C20261124-0001"}',
            '/cancel_order{"order_number": ["20002", {"x": 1}]}',
            "/inform{",
        ):
            await client.emit("user_uttered", {"message": typed, "session_id": session})
            replies = texts(await client.collect("bot_uttered", 6))
            assert replies, typed  # answered, not crashed
            assert "处理完您的问题" not in replies and "总体评价" not in replies, (typed, replies)
            assert "确认取消" not in replies, (typed, replies)
    finally:
        await client.close()


def customer_token(secret: str, subject: str, lifetime: int = 600) -> str:
    """A shop's customer token: a JWT (HS256) with `sub` and `exp`, as any JWT library makes it."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = part(json.dumps({"sub": subject, "exp": int(time.time()) + lifetime}).encode())
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{part(signature)}"


async def test_a_shops_signed_customer_token_identifies_the_customer(stack: MakeRun) -> None:
    """With the shop's token of cust-1001 the widget reads 12345 (theirs) without further proof; a
    token the shop did not sign, or a customer_id the page writes itself, proves nothing."""
    secret = stack.secrets()["CHAT_CUSTOMER_JWT_SECRET"]
    for custom, identified in (
        ({"customer_token": customer_token(secret, "cust-1001")}, True),
        ({"customer_token": customer_token("not-the-shops-secret-" + "x" * 20, "cust-1001")}, False),
        ({"customer_id": "cust-1001"}, False),
    ):
        client, session = await open_session(stack)
        try:
            message = {"message": "查一下订单12345", "session_id": session, "customData": {"language": "zh", **custom}}
            await client.emit("user_uttered", message)
            replies = texts(await client.collect("bot_uttered", 8))
            assert ("SF1402875531" in replies) is identified, (custom, replies)
            assert ("后四位" in replies) is not identified, (custom, replies)
        finally:
            await client.close()
