"""The agent console (/console) in headless Chromium against a real service."""

from __future__ import annotations

import re
import time

from conftest import PASSWORDS, login, screenshot
from playwright.sync_api import expect


def open_case(page, number: str) -> None:
    page.locator(f"#queue-list .card:has-text('{number}'), #mine-list .card:has-text('{number}')").first.click()
    expect(page.locator("#case-number")).to_have_text(number)


def accept(page, number: str) -> None:
    open_case(page, number)
    page.click("#accept-btn")
    expect(page.locator("#case-status")).to_have_text("处理中")


def test_login_refuses_a_wrong_password_then_logs_in(new_page, service):
    page = new_page()
    page.goto(service.url + "/console")
    expect(page.get_by_role("heading", name="坐席登录")).to_be_visible()
    expect(page.get_by_label("用户名")).to_be_focused()
    page.get_by_label("用户名").fill("alice")
    page.get_by_label("密码").fill("not the password")
    page.get_by_label("密码").press("Enter")  # keyboard submits
    expect(page.locator("#login-error")).to_have_text("用户名或密码错误。")
    expect(page.locator("#work-view")).to_be_hidden()
    page.get_by_label("密码").fill(PASSWORDS["alice"])
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#me")).to_have_text("alice · agent · l1")
    expect(page.get_by_role("heading", name="待接入队列")).to_be_visible()
    expect(page.locator("#live")).to_have_text("● 实时连接")
    screenshot(page, "console-after-login")
    # the session survives a reload (cookie), and logging out ends it
    page.reload()
    expect(page.locator("#me")).to_have_text("alice · agent · l1")
    page.get_by_role("button", name="退出登录").click()
    expect(page.locator("#login-view")).to_be_visible()
    page.reload()
    expect(page.locator("#login-view")).to_be_visible()


def test_a_case_handed_off_by_the_bot_appears_live_in_the_queue(new_page, service):
    page = login(new_page(), service, "alice")
    urgent = service.queued_case(problem="账户被锁定，无法登录", tier="critical")
    card = page.locator("#queue-list .card", has_text=urgent["number"])
    expect(card).to_be_visible()  # no reload: pushed over the websocket
    expect(card).to_contain_text("账户被锁定，无法登录")
    expect(card).to_contain_text("紧急")
    expect(card.locator(".countdown")).to_have_text(re.compile(r"^剩余 0:\d\d:\d\d$"))
    normal = service.queued_case(problem="发票抬头写错了")
    expect(page.locator("#queue-list .card", has_text=normal["number"])).to_be_visible()
    # ordered by tier, then deadline: the critical case comes first
    numbers = page.locator("#queue-list .card .number").all_text_contents()
    assert numbers.index(urgent["number"]) < numbers.index(normal["number"])
    screenshot(page, "console-queue")


def test_accept_reply_is_stored_and_delivered_to_rasa(new_page, service):
    case = service.queued_case(problem="退款没有到账")
    service.rasa.events[case["conversation_id"]] = [
        {"event": "user", "text": "我的退款还没到", "timestamp": time.time() - 60},
        {"event": "bot", "text": "明白，请稍等，我为您查询。", "timestamp": time.time() - 59},
    ]
    page = login(new_page(), service, "alice")
    open_case(page, case["number"])
    # summary card and the bot's part of the transcript (from the Rasa tracker)
    summary = page.locator("#summary")
    for text in ("退款没有到账", "order", "A1234", "checked refund status", "upset", "high", "zh"):
        expect(summary).to_contain_text(text)
    transcript = page.locator("#transcript")
    expect(transcript.locator(".msg.customer")).to_contain_text(["我的退款还没到"])
    expect(transcript.locator(".msg.bot")).to_contain_text(["明白，请稍等，我为您查询。"])
    expect(page.locator("#rasa-notice")).to_be_hidden()
    expect(page.locator("#reply-text")).to_be_disabled()  # not mine yet

    page.click("#accept-btn")
    expect(page.locator("#case-message")).to_have_text("已接入，您是此案件的负责人。")
    expect(page.locator("#case-meta")).to_contain_text("Alice Li (alice)")
    # one-click standard phrase, then the rest typed; Ctrl+Enter sends
    page.get_by_role("button", name="请稍等", exact=True).click()
    page.locator("#reply-text").press_sequentially("，我马上为您查询退款进度。")
    expect(page.locator("#reply-text")).to_have_value("请稍等，我马上为您查询退款进度。")
    page.locator("#reply-text").press("Control+Enter")
    reply = transcript.locator(".msg.agent", has_text="请稍等，我马上为您查询退款进度。")
    expect(reply).to_be_visible()
    expect(reply.locator(".delivery")).to_have_text("已送达")  # pushed by the delivery worker
    expect(page.locator("#reply-text")).to_have_value("")
    screenshot(page, "console-case-replied")

    stored = service.staff("GET", f"/api/cases/{case['id']}/messages")["messages"]
    assert [(m["direction"], m["text"], m["author"]["username"], m["delivery"]["status"]) for m in stored] == [
        ("agent", "请稍等，我马上为您查询退款进度。", "alice", "delivered")
    ]
    sent = service.rasa.bot_events(case["conversation_id"])
    assert [e["text"] for e in sent] == ["请稍等，我马上为您查询退款进度。"]
    assert sent[0]["metadata"]["agent"] == "alice" and sent[0]["metadata"]["case"] == case["number"]


def test_customer_messages_appear_live_in_the_open_case_as_text(new_page, service, guard):
    case = service.queued_case()
    page = login(new_page(), service, "alice")
    accept(page, case["number"])
    service.relay(case["number"], "还在吗？我等了很久了")
    transcript = page.locator("#transcript")
    expect(transcript.locator(".msg.customer", has_text="还在吗？我等了很久了")).to_be_visible()
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    service.relay(case["number"], hostile)
    last = transcript.locator(".msg.customer .text").last
    expect(last).to_have_text(hostile)  # shown as text
    assert transcript.locator("script, img").count() == 0  # not as markup
    # also after a full reload of the case from the server
    page.reload()
    open_case(page, case["number"])
    expect(page.locator("#transcript .msg.customer .text").last).to_have_text(hostile)
    assert page.locator("#transcript script, #transcript img").count() == 0
    assert guard.dialogs == []
    screenshot(page, "console-script-as-text")


def test_taboo_phrases_are_flagged_while_typing(new_page, service):
    case = service.queued_case()
    page = login(new_page(), service, "alice")
    accept(page, case["number"])
    box = page.get_by_label("回复内容（Ctrl+Enter 发送）")
    warning = page.locator("#taboo-warning")
    box.fill("Please calm down, I am checking.")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("「calm down」")
    box.fill("您好，请稍等，我马上为您处理。")
    expect(warning).to_be_hidden()
    box.fill("你冷静点，我在查")
    expect(warning).to_contain_text("「你冷静点」")
    box.fill("你冷靜點")  # Traditional characters: same rule as the linter
    expect(warning).to_contain_text("「你冷静点」")
    screenshot(page, "console-taboo-warning")
    box.fill("")
    expect(warning).to_be_hidden()


def test_two_agents_accepting_together_end_with_one_owner(new_page, service):
    case = service.queued_case(problem="两位坐席同时接入")
    alice = login(new_page(), service, "alice")
    bob = login(new_page(), service, "bob")
    for page in (alice, bob):
        open_case(page, case["number"])
        expect(page.locator("#accept-btn")).to_be_visible()
    # both clicks are dispatched before either answer can arrive
    for page in (alice, bob):
        page.evaluate("document.getElementById('accept-btn').click()")
    # wait until both pages have their answer
    for page in (alice, bob):
        expect(page.locator("#case-message")).to_have_text(re.compile("已接入|接入失败"))
    winner = service.staff("GET", f"/api/cases/{case['id']}")
    owner = winner["owner"]["username"]
    assert owner in ("alice", "bob") and winner["handler"]["username"] == owner
    won, lost = (alice, bob) if owner == "alice" else (bob, alice)
    expect(won.locator("#case-message")).to_have_text("已接入，您是此案件的负责人。")
    expect(lost.locator("#case-message")).to_have_text(f"接入失败：该案件已被 {owner} 接入。")
    expect(lost.locator("#case-meta")).to_contain_text(f"({owner})")
    expect(lost.locator("#reply-text")).to_be_disabled()
    accepts = [
        e for e in service.staff("GET", f"/api/cases/{case['id']}/timeline")["events"] if e["action"] == "accept"
    ]
    assert len(accepts) == 1
    screenshot(lost, "console-accept-lost")


def test_transfer_to_another_agent_keeps_the_owner(new_page, service):
    case = service.queued_case(problem="需要转交的案件")
    alice = login(new_page(), service, "alice")
    bob = login(new_page(), service, "bob")
    accept(alice, case["number"])
    alice.get_by_label("转给坐席").select_option("bob")
    alice.get_by_label("交接说明").fill("退款问题请 Bob 跟进")
    alice.get_by_role("button", name="转交", exact=True).click()
    expect(alice.locator("#case-message")).to_have_text("已转交，负责人仍为 alice。")
    meta = alice.locator("#case-meta")
    expect(meta.locator("div", has_text="负责人").first).to_contain_text("Alice Li (alice)")
    expect(meta.locator("div", has_text="当前处理人")).to_contain_text("Bob Wang (bob)")
    expect(alice.locator("#reply-text")).to_be_disabled()
    # alice still sees it in her cases as its owner
    expect(alice.locator("#mine-list .card", has_text=case["number"])).to_contain_text("我负责")

    # bob sees it arrive in his cases (live) as its handler, and can reply
    mine = bob.locator("#mine-list .card", has_text=case["number"])
    expect(mine).to_contain_text("我处理中")
    mine.click()
    expect(bob.locator("#case-meta div", has_text="负责人").first).to_contain_text("Alice Li (alice)")
    expect(bob.locator("#reply-text")).to_be_enabled()
    bob.locator("#reply-text").fill("您好，我是 Bob，接下来由我为您处理。")
    bob.get_by_role("button", name="发送").click()
    expect(bob.locator("#transcript .msg.agent .delivery").last).to_have_text("已送达")
    # a private note, visible to the owner too, never sent to the customer
    bob.get_by_label("新备注").fill("已联系财务")
    bob.get_by_role("button", name="添加备注").click()
    expect(bob.locator("#notes-list")).to_contain_text("已联系财务")
    expect(alice.locator("#notes-list")).to_contain_text("已联系财务")
    screenshot(bob, "console-transferred-handler-view")

    fresh = service.staff("GET", f"/api/cases/{case['id']}")
    assert fresh["owner"]["username"] == "alice" and fresh["handler"]["username"] == "bob"
    assert [e["text"] for e in service.rasa.bot_events(case["conversation_id"])] == [
        "您好，我是 Bob，接下来由我为您处理。"
    ]

    # bob resolves with a result; alice (the owner) sees the case resolved
    bob.get_by_label("处理结果（顾客将收到满意度调查）").fill("已重新发起退款，24 小时内到账")
    bob.get_by_role("button", name="标记为已解决").click()
    expect(bob.locator("#case-status")).to_have_text("已解决")
    expect(alice.locator("#case-status")).to_have_text("已解决")
    fresh = service.staff("GET", f"/api/cases/{case['id']}")
    assert fresh["status"] == "resolved" and fresh["owner"]["username"] == "alice"
    assert any(
        p.get("name") == "EXTERNAL_handoff_resolved"
        for p in service.rasa.posts
        if p["conversation_id"] == case["conversation_id"]
    )


def test_transcript_notice_when_rasa_is_unreachable(new_page, service):
    case = service.queued_case(conversation_id="down-0001")
    service.relay(case["number"], "有人吗？")
    page = login(new_page(), service, "alice")
    open_case(page, case["number"])
    expect(page.locator("#rasa-notice")).to_be_visible()
    expect(page.locator("#rasa-notice")).to_contain_text("无法读取机器人对话记录")
    expect(page.locator("#transcript .msg.customer .text")).to_have_text(["有人吗？"])


def test_english_ui_and_keyboard_use(new_page, service):
    case = service.queued_case(language="en", problem="The parcel never arrived")
    page = new_page()
    page.goto(service.url + "/console")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Agent login")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORDS["alice"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    card = page.locator("#queue-list .card", has_text=case["number"])
    expect(card).to_contain_text("Queued")
    # keyboard only: focus the card, Enter opens it, the accept button is reachable
    card.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#case-number")).to_have_text(case["number"])
    page.locator("#accept-btn").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#case-message")).to_have_text("Accepted: you own this case.")
    # standard phrases follow the customer's language
    expect(page.get_by_role("button", name="One moment, please")).to_be_visible()
    page.locator("#reply-text").fill("Calm down please")
    expect(page.locator("#taboo-warning")).to_contain_text("Careful: your reply contains a service taboo")
    screenshot(page, "console-english")
    # back to Chinese without reloading
    page.get_by_role("button", name="中文").click()
    expect(page.locator("#case-status")).to_have_text("处理中")
    expect(page.get_by_role("heading", name="待接入队列")).to_be_visible()
