"""Rasa's `callback` channel, the messaging side of the loop, with every process really running
(fixture `loop`): the customer's messages are POSTed to Rasa's /webhooks/callback/webhook, and Rasa
POSTs the bot's messages, and the agent's replies delivered by handoff_service through Rasa's HTTP
API (output_channel=latest), to a local webhook receiver (loop.callback)."""

from __future__ import annotations

import time
import uuid

from loop_servers import LoopServers


def texts(loop: LoopServers, sender: str) -> list[str]:
    return [m.get("text") or "" for m in loop.callback.messages(sender)]


def wait_for_case_message(loop: LoopServers, case_id: int, text: str) -> None:
    """Until the customer's message relayed by the bot is on the case (a wait, not a time limit
    under test: the relay itself is asserted by its arrival)."""
    for _ in range(600):
        messages = loop.api("GET", f"/api/cases/{case_id}/messages")["messages"]
        if any(m["direction"] == "customer" and m["text"] == text for m in messages):
            return
        time.sleep(0.1)
    raise AssertionError(f"customer message {text!r} never reached case {case_id}: {messages}")


def test_callback_channel_handoff_agent_reply_and_resume(loop):
    sender = f"callback-{uuid.uuid4().hex[:12]}"
    loop.callback_say(sender, "转人工")
    handoff = loop.callback.wait_for(
        sender, lambda m: "转接人工客服" in (m.get("text") or "") or "暂时没有在线的客服" in (m.get("text") or "")
    )
    case = loop.case_of(sender)
    assert case["number"] in handoff["text"]
    assert case["status"] == "queued" and case["channel"] == "callback" and case["conversation_id"] == sender

    # an agent takes it over through the staff API and replies
    accepted = loop.as_agent("alice", "POST", f"/api/cases/{case['id']}/accept")
    assert accepted["owner"]["username"] == "alice"
    reply = "您好，我是客服 Alice，我来帮您查一下。"
    loop.as_agent("alice", "POST", f"/api/cases/{case['id']}/messages", {"text": reply})
    got = loop.callback.wait_for(sender, lambda m: m.get("text") == reply)
    assert got["recipient_id"] == sender

    # the customer's answer goes to the agent, not to the bot
    before = len(texts(loop, sender))
    answer = "好的，订单是上周买的耳机"
    loop.callback_say(sender, answer)
    wait_for_case_message(loop, case["id"], answer)

    # resolving hands the conversation back to the bot, on the same channel
    loop.as_agent("alice", "POST", f"/api/cases/{case['id']}/resolve", {"result": "已为您补发耳机"})
    loop.callback.wait_for(sender, lambda m: "总体评价是几分" in (m.get("text") or ""))
    after = texts(loop, sender)[before:]
    assert "客服同事已经处理完您的问题" in after[0], after  # nothing from the bot in reply to the answer
    assert "总体评价是几分" in after[1], after
    survey = loop.callback.messages(sender)[before + 1]
    assert any(b.get("title") == "5 分" for b in survey.get("buttons") or []), survey

    # a typed rating on the callback channel, then the rest skipped
    loop.callback_say(sender, "5分")
    loop.callback.wait_for(sender, lambda m: "服务态度您打几分" in (m.get("text") or ""))
    loop.callback_say(sender, "跳过")
    loop.callback.wait_for(sender, lambda m: "感谢您的评价" in (m.get("text") or ""))
    final = loop.case_of(sender)
    assert final["status"] == "resolved" and final["csat"]["overall"] == 5
    assert final["owner"]["username"] == "alice"
    # what the bot saw during the handoff: one relay, the agent's message, no reply of its own
    events = loop.tracker(sender)["events"]
    bot_texts = [e.get("text") for e in events if e["event"] == "bot"]
    assert bot_texts.count(reply) == 1
    i = bot_texts.index(reply)
    assert "客服同事已经处理完您的问题" in bot_texts[i + 1], bot_texts
    loop.alive()
