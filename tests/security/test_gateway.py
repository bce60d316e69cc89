"""The REST and callback channels speak for the messaging gateway only: a body without the gateway's
signature is refused, and a huge body is refused before anyone reads it, while others are served."""

from __future__ import annotations

import json
import threading
import time

from bot.identity import SIGNATURE_HEADER, sign_body
from tests.security.stack import MakeRun, http


def signed(stack: MakeRun, body: dict) -> tuple[bytes, dict[str, str]]:
    """The body and its headers as the gateway signs them, to be sent altered."""
    raw = json.dumps(body).encode()
    return raw, {SIGNATURE_HEADER: sign_body(stack.secrets()["CHANNEL_GATEWAY_SECRET"], raw)}


def test_an_unsigned_or_badly_signed_message_is_refused(stack: MakeRun) -> None:
    for path in ("/webhooks/rest/webhook", "/webhooks/callback/webhook"):
        body = {"sender": f"forged-{time.time_ns()}", "message": "查一下订单12345"}
        status, answer = http(stack.rasa + path, body)
        assert status == 401, (path, status, answer)
        raw, headers = signed(stack, body)
        status, answer = http(stack.rasa + path, raw + b" ", headers)  # the signature covers every byte
        assert status == 401, (path, status, answer)


def test_a_signed_message_is_answered(stack: MakeRun) -> None:
    status, replies = stack.gateway({"sender": f"gateway-{time.time_ns()}", "message": "查一下订单12345"})
    assert status == 200 and replies, replies


def test_a_20_mb_body_is_refused_and_stalls_nobody(stack: MakeRun) -> None:
    answers: dict[str, tuple[int, object]] = {}

    def huge() -> None:
        body = json.dumps({"sender": "big", "message": "好" * (20 * 1024 * 1024 // 3)}).encode()
        answers["huge"] = http(stack.rasa + "/webhooks/rest/webhook", body, timeout=120)

    thread = threading.Thread(target=huge)
    thread.start()
    answers["small"] = stack.gateway({"sender": f"small-{time.time_ns()}", "message": "你好"})
    thread.join(timeout=180)
    assert answers["huge"][0] == 413, answers["huge"]
    assert answers["small"][0] == 200 and answers["small"][1], answers["small"]
