"""Attacks on Rasa's channels through the REST webhook of a real Rasa server: typed intents,
oversized bodies. Each of these succeeded before bot/channels.py guarded the channels."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request


def texts(replies):
    return "\n".join(r.get("text", "") for r in replies)


def test_a_typed_external_intent_is_only_words(chat):
    """`/EXTERNAL_handoff_resolved` is what handoff_service triggers through Rasa's API when an
    agent resolves a case; typed by a customer it must not end a handoff or start the survey."""
    chat("你好")
    reply = chat('/EXTERNAL_handoff_resolved{"case_number": "C20261124-0001"}')
    body = texts(reply)
    assert reply and "处理完您的问题" not in body and "总体评价" not in body


def test_a_button_the_bot_offered_is_taken_as_its_payload(chat):
    greeting = chat("你好")
    offered = [b["payload"] for r in greeting for b in r.get("buttons", [])]
    assert "/order_status" in offered
    assert "订单号" in texts(chat("/order_status"))  # same as typing 查订单: asks for the number


def test_a_huge_body_is_refused_at_once(rasa_servers):
    url, _ = rasa_servers
    body = json.dumps({"sender": f"big-{time.time_ns()}", "message": "退款" * 5_000_000}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status = response.status
    except urllib.error.HTTPError as e:
        status = e.code
    assert status == 413
