"""Messages and their delivery to Rasa, against a local stand-in of Rasa's bridge routes (bot/bridge.py)."""

from __future__ import annotations

import pytest

from handoff_service.app import create_app
from handoff_service.delivery import service as delivery


async def _handled_case(h, agent="alice"):
    headers = await h.user(agent)
    case = await h.queued_case()
    status, _ = await h.post(f"/api/cases/{case['id']}/accept", headers)
    assert status == 200
    return headers, case


async def _reply(h, headers, case, text="您好,我是客服小李"):
    status, msg = await h.post(f"/api/cases/{case['id']}/messages", headers, {"text": text})
    assert status == 201, msg
    await h.deps.delivery.idle()
    _, msgs = await h.get(f"/api/cases/{case['id']}/messages", headers)
    return msg, next(m for m in msgs["messages"] if m["id"] == msg["id"])


async def test_customer_and_agent_messages_are_stored_in_order(h, rasa):
    alice, case = await _handled_case(h)
    num = case["number"]
    for text in ("first", "second"):
        status, _ = await h.post(f"/api/bot/cases/{num}/messages", h.bot, {"text": text, "metadata": {"lang": "en"}})
        assert status == 201
    await _reply(h, alice, case, "reply one")
    await h.post(f"/api/bot/cases/{num}/messages", h.bot, {"text": "third"})
    _, msgs = await h.get(f"/api/cases/{case['id']}/messages", alice)
    assert [(m["direction"], m["text"]) for m in msgs["messages"]] == [
        ("customer", "first"),
        ("customer", "second"),
        ("agent", "reply one"),
        ("customer", "third"),
    ]
    assert msgs["messages"][0]["delivery"] is None
    _, page = await h.get(f"/api/cases/{case['id']}/messages?after_id={msgs['messages'][1]['id']}&limit=1", alice)
    assert [m["text"] for m in page["messages"]] == ["reply one"]


async def test_reply_is_delivered_through_rasa_tracker_events(h, rasa):
    alice, case = await _handled_case(h)
    msg, final = await _reply(h, alice, case)
    assert msg["delivery"]["status"] == "pending"
    assert final["delivery"]["status"] == "delivered" and final["delivery"]["attempts"] == 1
    [ev] = rasa.applied("conv-1", "bot")
    assert ev["text"] == "您好,我是客服小李"
    assert ev["metadata"] == {
        "agent": "alice",
        "case": case["number"],
        "idempotency_key": final["delivery"]["idempotency_key"],
    }
    # the bridge token in a header, nothing in the URL
    assert rasa.auth[0] == "Bearer rasa-secret" and rasa.queries[0] == {}


async def test_failed_calls_are_retried_and_delivered_once(h, rasa):
    rasa.fail_first = 2
    alice, case = await _handled_case(h)
    _, final = await _reply(h, alice, case)
    assert final["delivery"]["status"] == "delivered"
    assert final["delivery"]["attempts"] == 3
    assert rasa.posts == 3
    assert len(rasa.applied("conv-1", "bot")) == 1


async def test_error_after_accept_is_not_delivered_twice(h, rasa):
    """Rasa applied the event but answered 500: the retry finds the key in the
    tracker and does not post again."""
    rasa.mode = "error_after_accept"
    alice, case = await _handled_case(h)
    _, final = await _reply(h, alice, case)
    assert final["delivery"]["status"] == "delivered"
    assert final["delivery"]["attempts"] == 2
    assert rasa.posts == 1 and rasa.tracker_reads == 1
    assert len(rasa.applied("conv-1", "bot")) == 1


async def test_slow_answer_after_accept_is_not_delivered_twice(h, rasa):
    rasa.mode = "slow_after_accept"
    rasa.slow_seconds = 2.0  # longer than the 1 s client timeout
    alice, case = await _handled_case(h)
    _, final = await _reply(h, alice, case)
    assert final["delivery"]["status"] == "delivered"
    assert rasa.posts == 1
    assert len(rasa.applied("conv-1", "bot")) == 1


async def test_unreadable_tracker_means_no_resend(h, rasa):
    """If we cannot check whether an earlier attempt landed, we do not post again."""
    rasa.mode = "error_after_accept"
    rasa.tracker_fail = 1
    alice, case = await _handled_case(h)
    _, final = await _reply(h, alice, case)
    assert final["delivery"]["status"] == "delivered"
    assert final["delivery"]["attempts"] == 3
    assert rasa.posts == 1
    assert len(rasa.applied("conv-1", "bot")) == 1


async def test_giving_up_is_visible_and_retry_delivers_once(h, rasa, aiohttp_client):
    rasa.mode = "always_fail"
    alice, case = await _handled_case(h)
    _, final = await _reply(h, alice, case)
    assert final["delivery"]["status"] == "failed"
    assert final["delivery"]["attempts"] == h.settings.delivery_max_attempts
    assert "503" in final["delivery"]["last_error"]
    assert rasa.applied("conv-1") == []
    rasa.mode = "ok"
    status, again = await h.post(f"/api/cases/{case['id']}/messages/{final['id']}/retry", alice)
    assert status == 200, again
    await h.deps.delivery.idle()
    _, msgs = await h.get(f"/api/cases/{case['id']}/messages", alice)
    assert msgs["messages"][-1]["delivery"]["status"] == "delivered"
    assert len(rasa.applied("conv-1", "bot")) == 1
    status, body = await h.post(f"/api/cases/{case['id']}/messages/{final['id']}/retry", alice)
    assert status == 409 and body["error"]["code"] == "delivery_not_failed"


async def test_client_error_fails_at_once(h, rasa):
    rasa.mode = "reject"
    alice, case = await _handled_case(h)
    _, final = await _reply(h, alice, case)
    assert final["delivery"]["status"] == "failed" and final["delivery"]["attempts"] == 1


async def test_a_refused_bridge_token_fails_at_once_and_says_so(h, rasa):
    rasa.token = "another-token"  # Rasa's bridge answers 401: no retry would help
    alice, case = await _handled_case(h)
    _, final = await _reply(h, alice, case)
    assert final["delivery"]["status"] == "failed" and final["delivery"]["attempts"] == 1
    assert "401" in final["delivery"]["last_error"]
    assert rasa.auth == ["Bearer rasa-secret"] and rasa.queries == [{}]


async def test_reply_refused_unless_current_handler(h, rasa):
    alice, case = await _handled_case(h)
    bob = await h.user("bob")
    status, body = await h.post(f"/api/cases/{case['id']}/messages", bob, {"text": "hi"})
    assert status == 403 and body["error"]["code"] == "not_case_handler"
    await h.post(f"/api/cases/{case['id']}/transfer", alice, {"to_agent": "bob"})
    status, body = await h.post(f"/api/cases/{case['id']}/messages", alice, {"text": "hi"})
    assert status == 403 and body["error"]["code"] == "not_case_handler"  # the owner no longer handles it
    queued = await h.queued_case(conversation_id="other")
    status, body = await h.post(f"/api/cases/{queued['id']}/messages", alice, {"text": "hi"})
    assert status == 403
    _, msgs = await h.get(f"/api/cases/{case['id']}/messages", alice)
    assert msgs["messages"] == []
    assert rasa.posts == 0


async def test_resolve_ends_the_handoff_in_rasa_once(h, rasa):
    rasa.fail_first = 1
    alice, case = await _handled_case(h)
    status, _ = await h.post(f"/api/cases/{case['id']}/resolve", alice, {"result": "refunded"})
    assert status == 200
    await h.deps.delivery.idle()
    evs = rasa.applied("conv-1")
    assert [e["event"] for e in evs] == ["slot", "user"]
    assert evs[0]["name"] == "handoff_active" and evs[0]["value"] is False
    assert evs[1]["parse_data"]["intent"]["name"] == "EXTERNAL_handoff_resolved"
    ents = {e["entity"]: e["value"] for e in evs[1]["parse_data"]["entities"]}
    assert ents["case_number"] == case["number"]
    # reopening turns the handoff back on
    await h.post(f"/api/cases/{case['id']}/reopen", alice, {})
    await h.deps.delivery.idle()
    assert rasa.applied("conv-1", "slot")[-1]["value"] is True


async def test_pending_deliveries_are_resumed_after_restart(h, rasa, aiohttp_client, settings, clock):
    alice, case = await _handled_case(h)
    await h.deps.delivery.close()  # simulate a crash right after the commit
    status, msg = await h.post(f"/api/cases/{case['id']}/messages", alice, {"text": "after restart"})
    assert status == 201 and msg["delivery"]["status"] == "pending"
    assert rasa.posts == 0
    restarted = await aiohttp_client(create_app(settings, clock=clock, run_background=False))
    from handoff_service.core.deps import DEPS

    await restarted.server.app[DEPS].delivery.idle()
    assert [e["text"] for e in rasa.applied("conv-1", "bot")] == ["after restart"]


async def test_relay_to_closed_case_is_refused(h):
    alice, case = await _handled_case(h)
    await h.post(f"/api/cases/{case['id']}/resolve", alice, {"result": "ok"})
    await h.post(f"/api/cases/{case['id']}/close", alice, {})
    status, body = await h.post(f"/api/bot/cases/{case['number']}/messages", h.bot, {"text": "hello?"})
    assert status == 409 and body["error"]["code"] == "case_closed"


async def test_an_agent_reply_cannot_make_links_or_markup_in_the_widget(h, rasa):
    """The widget renders Markdown: a link pasted into a reply reaches the customer as words."""
    import re

    alice, case = await _handled_case(h)
    text = "请点 [退款入口](https://evil.example/pay) **尽快** `x`"
    msg, final = await _reply(h, alice, case, text)
    assert final["text"] == text  # the case keeps what the agent wrote
    [ev] = rasa.applied("conv-1", "bot")
    assert not re.search(r"\]\s*\(", ev["text"]) and "**" not in ev["text"] and "`" not in ev["text"]
    assert "退款入口" in ev["text"] and "evil.example/pay" in ev["text"]  # the words arrive
    assert "https://" not in ev["text"]  # the widget would link a bare address


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("see https://evil.example/x", "see https：//evil.example/x"),
        ("<https://evil.example/x>", "＜https：//evil.example/x＞"),
        ("mail MAILTO:a@evil.example", "mail MAILTO：a@evil.example"),
        ("form: https://help.shop.example/returns?id=1", "form: https://help.shop.example/returns?id=1"),
        ("HTTPS://Help.Shop.Example/x", "HTTPS://Help.Shop.Example/x"),
        ("https://help.shop.example.evil.example/x", "https：//help.shop.example.evil.example/x"),
        ("https://help.shop.example@evil.example/x", "https：//help.shop.example@evil.example/x"),
        ("[退款](https://help.shop.example/r)", "［退款］(https://help.shop.example/r)"),
    ],
)
def test_only_the_shops_link_hosts_stay_links(written, shown):
    assert delivery.inert(written, ("help.shop.example",)) == shown
