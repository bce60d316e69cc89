"""The whole conversation loop with every process really running (fixture `loop`: handoff_service,
the action server, Rasa with the current model): a customer in the rasa-webchat widget (/chat) and
agents in the console (/console), in the same headless Chromium.

customer asks for a person → the bot hands off (queue position) → the case appears live in the
agent's queue → accept → agent reply reaches the widget → customer's answer reaches the agent live
(the bot says nothing of its own meanwhile) → resolve → the bot resumes with the survey → the
answers land on the case, credited to its owner and last handler."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from conftest import login, screenshot
from loop_servers import LoopServers
from playwright.sync_api import Page, expect

BOT_TEXTS = ".rw-response .rw-message-text"  # bot (and agent) messages in the widget; the typing dots have no text
CLIENT_TEXTS = ".rw-client .rw-message-text"


def open_chat(page: Page, loop: LoopServers, lang: str = "zh") -> Page:
    page.goto(loop.chat_url + "/chat" + ("?lang=en" if lang == "en" else ""))
    expect(page.locator("#webchat .rw-conversation-container")).to_be_visible()
    # the greeting (initPayload /greet) proves the socket.io session to Rasa is up
    expect(page.locator(BOT_TEXTS).first).to_be_visible()
    return page


def conversation_id(chat: Page) -> str:
    """The conversation id: the first part of the signed session the server issued to the widget."""
    sid = chat.evaluate("JSON.parse(window.sessionStorage.getItem('chat_session') || '{}').session_id")
    assert sid, "the widget has no session id"
    return str(sid).split(".")[0]


def say(chat: Page, text: str) -> None:
    sent = chat.locator(CLIENT_TEXTS, has_text=text).count()
    box = chat.locator(".rw-new-message")
    box.fill(text)
    box.press("Enter")
    expect(chat.locator(CLIENT_TEXTS, has_text=text)).to_have_count(sent + 1)


def bot_texts(chat: Page) -> list[str]:
    return [t.strip() for t in chat.locator(BOT_TEXTS).all_inner_texts()]


def open_case(page: Page, number: str, where: str = "#queue-list, #mine-list") -> None:
    page.locator(", ".join(f"{w.strip()} .card" for w in where.split(",")), has_text=number).first.click()
    expect(page.locator("#case-number")).to_have_text(number)


def send_reply(agent: Page, text: str) -> None:
    agent.locator("#reply-text").fill(text)
    agent.locator("#reply-text").press("Control+Enter")
    reply = agent.locator("#transcript .msg.agent", has_text=text)
    expect(reply.locator(".delivery")).to_have_text(re.compile("^(已送达|delivered)$"))


def handoff_window(tracker: dict[str, Any]) -> list[dict[str, Any]]:
    """The tracker's events from the end of the handoff turn (the action_listen after action_handoff)
    to the EXTERNAL_handoff_resolved trigger, exclusive."""
    events = tracker["events"]
    start = next(i for i, e in enumerate(events) if e["event"] == "action" and e.get("name") == "action_handoff")
    start = next(
        i
        for i in range(start, len(events))
        if events[i]["event"] == "action" and events[i].get("name") == "action_listen"
    )
    end = next(
        i
        for i in range(start, len(events))
        if events[i]["event"] == "user"
        and (events[i].get("parse_data") or {}).get("intent", {}).get("name") == "EXTERNAL_handoff_resolved"
    )
    return events[start + 1 : end]


def assert_bot_was_silent(loop: LoopServers, cid: str, agent_texts: list[str], customer_texts: list[str]) -> None:
    """While the agent had the case: only relays and listening, and no bot message but the agents'."""
    window = handoff_window(loop.tracker(cid))
    actions = [e["name"] for e in window if e["event"] == "action"]
    assert set(actions) <= {"action_relay_to_agent", "action_listen"}, actions
    assert actions.count("action_relay_to_agent") == len(customer_texts), actions
    said = [(e.get("text"), (e.get("metadata") or {}).get("agent")) for e in window if e["event"] == "bot"]
    assert [text for text, _ in said] == agent_texts, said
    assert all(agent for _, agent in said), said  # each carries the agent's name: none is the bot's own
    heard = [e.get("text") for e in window if e["event"] == "user"]
    assert heard == customer_texts, heard


def timeline_actions(loop: LoopServers, case_id: int) -> list[tuple[str, str | None, str | None]]:
    events = loop.api("GET", f"/api/cases/{case_id}/timeline")["events"]
    return [
        (e["action"], (e.get("owner") or {}).get("username"), (e.get("handler") or {}).get("username")) for e in events
    ]


def ask_for_a_person(chat, loop: LoopServers, message: str, handed_off: str, place: str, shot: str) -> tuple[str, str]:
    """The customer asks for a person; the bot's answer names the queue place and the case number.
    Returns (conversation id, case number)."""
    waiting = len(loop.api("GET", "/api/queue")["cases"])
    say(chat, message)
    queued = chat.locator(BOT_TEXTS, has_text=handed_off)
    expect(queued).to_be_visible()
    expect(queued).to_contain_text(place.format(waiting + 1))
    screenshot(chat, shot)
    cid = conversation_id(chat)
    number = loop.tracker(cid)["slots"]["case_number"]
    assert number and number in queued.inner_text()
    return cid, number


def test_chinese_loop_widget_to_console_and_back_with_survey(new_page, loop):
    alice = login(new_page(), loop, "alice")  # logged in first: an agent is online
    chat = open_chat(new_page(), loop)
    expect(chat.locator(".rw-title")).to_have_text("在线客服")
    # the opening greeting (initPayload /greet) in the page's language, not that of the word "greet"
    expect(chat.locator(BOT_TEXTS).first).to_contain_text("欢迎光临小蓝鲸官方商城")

    # the customer asks for a person; the bot hands off and says where they are in the queue
    cid, number = ask_for_a_person(
        chat, loop, "转人工", "转接人工客服", "您目前排在第 {} 位", "loop-zh-1-widget-queued"
    )

    # the case appears in the agent's queue without a reload, with the summary card
    card = alice.locator("#queue-list .card", has_text=number)
    expect(card).to_be_visible()
    card.click()
    expect(alice.locator("#case-number")).to_have_text(number)
    expect(alice.locator("#summary")).to_contain_text("转人工")
    expect(alice.locator("#transcript .msg.customer", has_text="转人工")).to_be_visible()  # bot part from the tracker
    alice.click("#accept-btn")
    expect(alice.locator("#case-message")).to_have_text("已接入，您是此案件的负责人。")
    expect(alice.locator("#case-status")).to_have_text("处理中")

    # the agent's reply reaches the widget
    before_reply = len(bot_texts(chat))
    reply = "您好，我是客服 Alice，请问有什么可以帮您？"
    send_reply(alice, reply)
    expect(chat.locator(BOT_TEXTS, has_text=reply)).to_be_visible()
    screenshot(chat, "loop-zh-2-widget-agent-reply")

    # the customer answers; the agent sees it live
    answer = "我的退款一周了还没到账"
    say(chat, answer)
    expect(alice.locator("#transcript .msg.customer", has_text=answer)).to_be_visible()
    screenshot(alice, "loop-zh-3-console-conversation")
    assert bot_texts(chat)[before_reply:] == [reply]  # the agent's reply, nothing of the bot's own

    # resolve with a result: the bot resumes and runs the survey
    alice.get_by_label("处理结果（顾客将收到满意度调查）").fill("已重新发起退款，24 小时内到账")
    alice.get_by_role("button", name="标记为已解决").click()
    expect(alice.locator("#case-status")).to_have_text("已解决")
    expect(chat.locator(BOT_TEXTS, has_text="客服同事已经处理完您的问题")).to_be_visible()
    expect(chat.locator(BOT_TEXTS, has_text="总体评价是几分")).to_be_visible()
    screenshot(chat, "loop-zh-4-widget-survey")
    texts = bot_texts(chat)
    # between the agent's reply and the bot's return: nothing (the customer's answer got no bot reply)
    assert texts[before_reply] == reply and "客服同事已经处理完您的问题" in texts[before_reply + 1], texts
    assert_bot_was_silent(loop, cid, agent_texts=[reply], customer_texts=[answer])

    # 5 by the button, then the rest skipped by typing
    chat.locator(".rw-replies .rw-reply", has_text="5 分").first.click()
    expect(chat.locator(BOT_TEXTS, has_text="服务态度您打几分")).to_be_visible()
    say(chat, "跳过")
    expect(chat.locator(BOT_TEXTS, has_text="感谢您的评价")).to_be_visible()
    screenshot(chat, "loop-zh-5-widget-thanks")

    case = loop.case_of(cid)
    assert case["number"] == number and case["status"] == "resolved"
    assert case["owner"]["username"] == "alice" and case["handler"]["username"] == "alice"
    assert case["result"] == "已重新发起退款，24 小时内到账"
    assert case["csat"]["overall"] == 5
    assert case["csat"]["owner"]["username"] == "alice" and case["csat"]["handler"]["username"] == "alice"
    steps = timeline_actions(loop, case["id"])
    names = [s[0] for s in steps]
    assert names.index("request_handoff") < names.index("accept") < names.index("resolve")
    assert ("accept", "alice", "alice") in steps and ("resolve", "alice", "alice") in steps
    assert "csat_recorded" in names
    messages = loop.api("GET", f"/api/cases/{case['id']}/messages")["messages"]
    assert [(m["direction"], m["text"]) for m in messages] == [("agent", reply), ("customer", answer)], messages
    # the console shows the case resolved, and its timeline
    alice.locator("#timeline").locator("xpath=..").locator("summary").click()
    expect(alice.locator("#timeline")).to_contain_text("alice")
    settled = alice.locator("#mine-list .card", has_text=number)  # settled: no clock, "handled"
    expect(settled).to_contain_text("我处理过")
    expect(settled.locator(".countdown")).to_have_count(0)
    screenshot(alice, "loop-zh-6-console-resolved")
    loop.alive()


def test_english_loop_with_a_transfer_keeps_the_owner(new_page, loop):
    alice = login(new_page(), loop, "alice", lang="en")
    bob = login(new_page(), loop, "bob", lang="en")
    chat = open_chat(new_page(), loop, lang="en")
    expect(chat.locator(".rw-title")).to_have_text("Customer service")

    cid, number = ask_for_a_person(
        chat,
        loop,
        "I want to talk to a human agent",
        "passed you to a colleague",
        "You are number {} in the queue",
        "loop-en-1-widget-queued",
    )

    # alice accepts and transfers to bob before anyone replies
    card = alice.locator("#queue-list .card", has_text=number)
    expect(card).to_be_visible()
    expect(bob.locator("#queue-list .card", has_text=number)).to_be_visible()
    card.click()
    expect(alice.locator("#case-number")).to_have_text(number)
    alice.click("#accept-btn")
    expect(alice.locator("#case-message")).to_have_text("Accepted: you own this case.")
    alice.locator("#transfer-agent").select_option("bob")
    alice.locator("#transfer-note").fill("Bob knows this product")
    alice.locator("#transfer-btn").click()
    expect(alice.locator("#case-message")).to_contain_text("alice")
    expect(alice.locator("#reply-text")).to_be_disabled()
    expect(bob.locator("#queue-list .card", has_text=number)).to_have_count(0)

    # bob finds it in his cases, replies; the reply reaches the widget
    mine = bob.locator("#mine-list .card", has_text=number)
    expect(mine).to_be_visible()
    mine.click()
    expect(bob.locator("#case-number")).to_have_text(number)
    expect(bob.locator("#reply-text")).to_be_enabled()
    before_reply = len(bot_texts(chat))
    reply = "Hello, this is Bob. How can I help you today?"
    send_reply(bob, reply)
    expect(chat.locator(BOT_TEXTS, has_text=reply)).to_be_visible()
    screenshot(chat, "loop-en-2-widget-agent-reply")

    answer = "My parcel has not arrived after ten days"
    say(chat, answer)
    expect(bob.locator("#transcript .msg.customer", has_text=answer)).to_be_visible()
    screenshot(bob, "loop-en-3-console-handler")
    assert bot_texts(chat)[before_reply:] == [reply]

    bob.locator("#resolve-result").fill("Parcel re-sent by express, arrives tomorrow")
    bob.locator("#resolve-btn").click()
    expect(bob.locator("#case-status")).to_have_text("Resolved")
    expect(alice.locator("#mine-list .card", has_text=number)).to_be_visible()
    expect(chat.locator(BOT_TEXTS, has_text="Our colleague has finished handling your matter")).to_be_visible()
    expect(chat.locator(BOT_TEXTS, has_text="How would you rate this service overall")).to_be_visible()
    screenshot(chat, "loop-en-4-widget-survey")
    texts = bot_texts(chat)
    assert texts[before_reply] == reply and "Our colleague has finished" in texts[before_reply + 1], texts
    assert_bot_was_silent(loop, cid, agent_texts=[reply], customer_texts=[answer])

    # typed answers: "4 stars", then "skip" for the rest
    say(chat, "4 stars")
    expect(chat.locator(BOT_TEXTS, has_text="How would you rate the attitude")).to_be_visible()
    say(chat, "skip")
    expect(chat.locator(BOT_TEXTS, has_text="Thank you for your feedback")).to_be_visible()
    screenshot(chat, "loop-en-5-widget-thanks")

    case = loop.case_of(cid)
    assert case["status"] == "resolved" and case["language"] == "en"
    assert case["owner"]["username"] == "alice" and case["handler"]["username"] == "bob"
    assert case["csat"]["overall"] == 4
    assert case["csat"]["owner"]["username"] == "alice" and case["csat"]["handler"]["username"] == "bob"
    steps = timeline_actions(loop, case["id"])
    assert ("accept", "alice", "alice") in steps
    assert ("transfer", "alice", "bob") in steps
    assert ("resolve", "alice", "bob") in steps
    names = [s[0] for s in steps]
    assert names.index("accept") < names.index("transfer") < names.index("resolve") < names.index("csat_recorded")
    messages = loop.api("GET", f"/api/cases/{case['id']}/messages")["messages"]
    assert [(m["direction"], m["text"], (m.get("author") or {}).get("username")) for m in messages] == [
        ("agent", reply, "bob"),
        ("customer", answer, None),
    ], messages
    screenshot(alice, "loop-en-6-console-owner")
    loop.alive()


def test_two_agents_accepting_a_real_handoff_together_end_with_one_owner(new_page, loop):
    """The racing accept of test_console.py, once against the real processes: the case comes from the
    bot (REST channel), both console pages click accept before either answer arrives."""
    alice = login(new_page(), loop, "alice")
    bob = login(new_page(), loop, "bob")
    sender = "race-rest-customer"
    status, replies = loop.gateway_post("rest", {"sender": sender, "message": "转人工"})
    assert status == 200 and any("转接人工客服" in (r.get("text") or "") for r in replies), replies
    number = loop.tracker(sender)["slots"]["case_number"]
    for page in (alice, bob):
        open_case(page, number, "#queue-list")
        expect(page.locator("#accept-btn")).to_be_visible()
    for page in (alice, bob):
        page.evaluate("document.getElementById('accept-btn').click()")
    for page in (alice, bob):
        expect(page.locator("#case-message")).to_have_text(re.compile("已接入|接入失败"))
    case = loop.case_of(sender)
    owner = case["owner"]["username"]
    assert owner in ("alice", "bob") and case["handler"]["username"] == owner
    won, lost = (alice, bob) if owner == "alice" else (bob, alice)
    expect(won.locator("#case-message")).to_have_text("已接入，您是此案件的负责人。")
    expect(lost.locator("#case-message")).to_have_text(f"接入失败：该案件已被 {owner} 接入。")
    expect(lost.locator("#reply-text")).to_be_disabled()
    assert [s for s in timeline_actions(loop, case["id"]) if s[0] == "accept"] == [("accept", owner, owner)]
    screenshot(lost, "loop-race-lost")
    loop.alive()


def test_rasa_api_needs_its_token_and_no_process_shows_it(loop):
    # `make run` and this loop start Rasa through bot.serve, which reads the token from the environment
    rasa = next(proc for proc in loop.procs if proc.name == "rasa")
    assert b"bot.serve" in Path(f"/proc/{rasa.popen.pid}/cmdline").read_bytes()
    for secret in (loop.rasa_token, loop.handoff_token, loop.action_secret):
        shown = [path.parent.name for path in Path("/proc").glob("[0-9]*/cmdline") if secret.encode() in _read(path)]
        assert shown == []
    assert loop.http("GET", f"{loop.rasa_url}/status")[0] == 401
    assert loop.http("GET", f"{loop.rasa_url}/status?token={loop.handoff_token}")[0] == 401  # handoff_service's
    status, data = loop.http("GET", f"{loop.rasa_url}/status?token={loop.rasa_token}")
    assert status == 200 and data["model_file"].endswith(".tar.gz")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # the process ended meanwhile
        return b""
