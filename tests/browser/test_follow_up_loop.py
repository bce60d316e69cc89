"""Follow-up visits (回访) with every process really running: handoff_service (visits due a few
seconds after a resolution), the action server and Rasa with the current model, a customer in the
rasa-webchat widget or on the messaging (callback) channel, agents in the console.

- widget: resolved → the visit arrives in the widget → 「未解决」 → the case is back with its owner,
  with new deadlines → the agent resolves again → a new visit;
- callback channel: the visit reaches the gateway; "not solved" while the owner is away gives the
  case to the owner's team (the owner stays);
- a customer who left: the visit lands on the owner's "visits to make" list, where the agent records
  the phone call."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from conftest import login, screenshot
from loop_servers import LoopServers
from playwright.sync_api import Page, expect
from test_full_loop import BOT_TEXTS, conversation_id, open_chat, say

DELAY_SECONDS = 8  # after a resolution (the survey is skipped before)
VISITS_ENV = {
    "HANDOFF_FOLLOW_UP_DELAY_HOURS": str(DELAY_SECONDS / 3600),
    "HANDOFF_FOLLOW_UP_QUIET_HOURS": "off",
    "HANDOFF_FOLLOW_UP_INTERVAL_SECONDS": "0.5",
}
VISIT_WAIT_MS = 60_000


@pytest.fixture(scope="module")
def visits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopServers]:
    """A loop of its own: visits due seconds after a resolution would interrupt other tests' chats."""
    servers = LoopServers(tmp_path_factory.mktemp("visits"), handoff_env=VISITS_ENV).start()
    try:
        yield servers
    finally:
        servers.stop()


def hand_off(chat: Page, loop: LoopServers, shot: str) -> tuple[str, str]:
    """The customer asks for a person; returns (conversation id, case number)."""
    say(chat, "转人工")
    expect(chat.locator(BOT_TEXTS, has_text="转接人工客服")).to_be_visible()
    screenshot(chat, shot)
    cid = conversation_id(chat)
    number = loop.tracker(cid)["slots"]["case_number"]
    assert number
    return cid, number


def accept_and_resolve(agent: Page, number: str, result: str) -> None:
    card = agent.locator("#queue-list .card", has_text=number)
    expect(card).to_be_visible()
    card.click()
    expect(agent.locator("#case-number")).to_have_text(number)
    agent.click("#accept-btn")
    expect(agent.locator("#case-status")).to_have_text("处理中")
    agent.locator("#resolve-result").fill(result)
    agent.locator("#resolve-btn").click()
    expect(agent.locator("#case-status")).to_have_text("已解决")


def visits_of(loop: LoopServers, case_id: int, state: str | None = None) -> list[dict]:
    query = "/api/follow-ups?scope=all&limit=500" + (f"&state={state}" if state else "")
    return [v for v in loop.api("GET", query)["visits"] if v["case"]["id"] == case_id]


def test_widget_not_solved_reopens_to_the_owner_and_the_next_resolution_plans_a_new_visit(new_page, visits):
    alice = login(new_page(), visits, "alice")
    chat = open_chat(new_page(), visits)
    cid, number = hand_off(chat, visits, "visit-zh-1-queued")
    accept_and_resolve(alice, number, "已重新发起退款")
    expect(chat.locator(BOT_TEXTS, has_text="总体评价是几分")).to_be_visible()
    say(chat, "跳过")
    expect(chat.locator(BOT_TEXTS, has_text="不打扰您了")).to_be_visible()
    first = visits.case_of(cid)
    [planned] = visits_of(visits, first["id"])
    assert planned["cycle"] == 0

    # the visit arrives in the widget, in Chinese, with its buttons
    intro = chat.locator(BOT_TEXTS, has_text="做一次回访")
    expect(intro).to_be_visible(timeout=VISIT_WAIT_MS)
    expect(intro).to_contain_text(number)
    expect(chat.locator(BOT_TEXTS, has_text="已经解决了吗")).to_be_visible()
    screenshot(chat, "visit-zh-2-widget-asked")
    visit_texts = [t for t in chat.locator(BOT_TEXTS).all_inner_texts() if "抱歉" in t]
    assert visit_texts == [], visit_texts  # the visit opens with its question, no "sorry, I didn't understand"
    chat.locator(".rw-replies .rw-reply", has_text="未解决").first.click()
    # the survey was skipped, so the visit asks for a rating too
    expect(chat.locator(BOT_TEXTS, has_text="请打 1 到 5 分")).to_be_visible()
    chat.locator(".rw-replies .rw-reply", has_text="2 分").first.click()
    reopened = chat.locator(BOT_TEXTS, has_text="已重新开启")
    expect(reopened).to_be_visible()
    expect(reopened).to_contain_text("Alice Li")
    screenshot(chat, "visit-zh-3-widget-reopened")

    # the same case, back with its owner (online in the console), a new care cycle with a fresh deadline
    case = visits.case_of(cid)
    assert case["number"] == number and case["status"] == "in_progress" and case["reopen_count"] == 1
    assert case["owner"]["username"] == "alice" and case["handler"]["username"] == "alice"
    assert datetime.fromisoformat(case["sla"]["result"]["due"]) > datetime.fromisoformat(first["sla"]["result"]["due"])
    assert case["csat"]["overall"] == 2
    assert visits_of(visits, case["id"], "not_solved")[0]["answer_channel"] == "chat"
    expect(alice.locator("#case-status")).to_have_text("处理中")  # live, no reload
    # the customer's next message goes to alice again
    say(chat, "退款还是没有到账")
    expect(alice.locator("#transcript .msg.customer", has_text="退款还是没有到账")).to_be_visible()
    screenshot(alice, "visit-zh-4-console-reopened")

    alice.locator("#resolve-result").fill("银行确认已到账")
    alice.locator("#resolve-btn").click()
    expect(alice.locator("#case-status")).to_have_text("已解决")
    expect(alice.locator("#visits-list .card", has_text=number)).to_be_visible()  # the new visit, live
    [second] = [v for v in visits_of(visits, case["id"]) if v["cycle"] == 1]
    assert second["state"] in ("scheduled", "sent")
    alice.locator("#timeline").locator("xpath=..").locator("summary").click()
    expect(alice.locator("#timeline")).to_contain_text("聊天回访已发出")
    expect(alice.locator("#timeline")).to_contain_text("安排回访")
    visits.alive()


def test_callback_customer_not_solved_while_the_owner_is_away_goes_to_the_owners_team(visits):
    sender = "gateway-user-visit-1"
    visits.callback_say(sender, "I want to talk to a human agent")
    visits.callback.wait_for(sender, lambda b: "passed" in (b.get("text") or ""))  # no agent online: a deadline
    case = visits.case_of(sender)
    visits.as_agent("bob", "POST", f"/api/cases/{case['id']}/accept")
    visits.as_agent("bob", "POST", f"/api/cases/{case['id']}/resolve", {"result": "replacement sent"})
    visits.callback.wait_for(sender, lambda b: "rate this service overall" in (b.get("text") or ""))
    visits.callback_say(sender, "4")
    visits.callback.wait_for(sender, lambda b: "attitude" in (b.get("text") or ""))
    visits.callback_say(sender, "skip")
    visits.callback.wait_for(sender, lambda b: "Thank you for your feedback" in (b.get("text") or ""))

    asked = visits.callback.wait_for(sender, lambda b: "Is your problem solved now" in (b.get("text") or ""), 60)
    assert [b["title"] for b in asked.get("buttons") or []] == ["Solved", "Not solved"]
    visits.callback_say(sender, "/deny")
    told = visits.callback.wait_for(sender, lambda b: "is reopened" in (b.get("text") or ""))
    assert "Bob Wang" in told["text"] and "Beijing time" in told["text"]
    case = visits.case_of(sender)
    # bob has no console open: his team takes it, and he stays its owner
    assert case["status"] == "transferred" and case["handler_team"] == "l1" and case["handler"] is None
    assert case["owner"]["username"] == "bob" and case["csat"]["overall"] == 4


def test_a_customer_who_left_is_on_the_owners_call_list_and_the_call_is_recorded(new_page, visits):
    alice = login(new_page(), visits, "alice")
    chat = open_chat(new_page(), visits)
    cid, number = hand_off(chat, visits, "visit-call-1-queued")
    accept_and_resolve(alice, number, "已补发商品")
    expect(chat.locator(BOT_TEXTS, has_text="总体评价是几分")).to_be_visible()
    say(chat, "跳过")
    expect(chat.locator(BOT_TEXTS, has_text="不打扰您了")).to_be_visible()
    chat.close()  # the customer leaves: nobody holds the conversation

    card = alice.locator("#visits-list .card", has_text=number)
    expect(card).to_contain_text("待电话回访", timeout=VISIT_WAIT_MS)
    screenshot(alice, "visit-call-2-console-list")
    card.click()
    expect(alice.locator("#case-number")).to_have_text(number)
    expect(alice.locator("#follow-up-panel")).to_be_visible()
    alice.locator("#follow-up-comment").fill("电话回访，顾客确认已收到")
    alice.locator("#follow-up-solved").click()
    expect(alice.locator("#case-status")).to_have_text("已归档")
    expect(alice.locator("#visits-list .card", has_text=number)).to_have_count(0)
    case = visits.case_of(cid)
    [visit] = visits_of(visits, case["id"], "solved")
    assert visit["answer_channel"] == "phone" and visit["answered_by"]["username"] == "alice"
    assert visit["comment"] == "电话回访，顾客确认已收到"
    screenshot(alice, "visit-call-3-console-closed")
