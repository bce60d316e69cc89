"""Outage notices with every process really running (fixture `loop`: handoff_service, the action server and
Rasa with the current model), the console and the chat widget in headless Chromium (issue 27, items 5-8).

A supervisor publishes a payment outage in the console → a customer asks 「付款一直失败」 in the widget → the
bot tells the notice with its recovery time → a complaint links the case to it (and a second customer who
complains straight away hears the notice first and is linked too) → an update is published → each linked
customer gets exactly one message → resolution with a review → exactly one more → the linked cases are
resolved together. The same in English."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from zoneinfo import ZoneInfo

from conftest import login, screenshot
from loop_servers import LoopServers
from playwright.sync_api import Page, expect
from test_full_loop import BOT_TEXTS, conversation_id, open_chat, say

SHOP = ZoneInfo("Asia/Shanghai")


def publish_in_console(page: Page, title: dict[str, str], message: dict[str, str], eta: str, done: str) -> None:
    page.click("#tab-outages")
    expect(page.locator("#outages-view")).to_be_visible()
    page.click("#outage-new")
    page.fill("#op-title-zh", title["zh"])
    page.fill("#op-title-en", title["en"])
    page.fill("#op-message-zh", message["zh"])
    page.fill("#op-message-en", message["en"])
    page.locator("#op-topics input[value=payment]").check()
    page.select_option("#op-status", "investigating")
    page.fill("#op-eta", eta)  # datetime-local, the browser's zone
    page.click("#op-submit")
    expect(page.locator("#outage-message")).to_have_text(done)
    expect(page.locator("#outage-title")).to_have_text(title[page.evaluate("document.documentElement.lang")[:2]])


def the_notice(loop: LoopServers, title_en: str) -> dict[str, Any]:
    [notice] = [n for n in loop.api("GET", "/api/outages?status=in_force")["notices"] if n["title"]["en"] == title_en]
    return loop.api("GET", f"/api/outages/{notice['id']}")


def eta_said(notice: dict[str, Any], lang: str) -> str:
    local = dt.datetime.fromisoformat(notice["expected_recovery_at"]).astimezone(SHOP)
    if lang == "en":
        return local.strftime("%d %b %Y, %H:%M").lstrip("0")
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def outage_events(loop: LoopServers, cid: str, update_id: int) -> list[dict[str, Any]]:
    """The bot events of one update in the conversation's tracker (what the customer was sent)."""
    return [
        e
        for e in loop.tracker(cid)["events"]
        if e["event"] == "bot" and (e.get("metadata") or {}).get("outage_update") == update_id
    ]


def exactly_one(chat: Page, loop: LoopServers, cid: str, update_id: int, text: str) -> None:
    expect(chat.locator(BOT_TEXTS, has_text=text)).to_have_count(1)
    time.sleep(2)  # anything more would have come by now (retries run within a second here)
    expect(chat.locator(BOT_TEXTS, has_text=text)).to_have_count(1)
    assert len(outage_events(loop, cid, update_id)) == 1


def test_a_supervisor_publishes_a_payment_outage_and_customers_are_told_in_chinese(new_page, loop):
    sam = login(new_page(), loop, "sam")
    title = {"zh": "支付服务异常", "en": "Payment service disruption"}
    message = {"zh": "部分用户付款失败，技术同事正在排查。", "en": "Some payments fail; we are investigating."}
    publish_in_console(sam, title, message, "2030-01-02T15:30", "通知已发布。")
    published = time.monotonic()
    notice = the_notice(loop, title["en"])

    # the customer asks: the bot tells the notice, with its recovery time, before the usual steps
    chat = open_chat(new_page(), loop)
    say(chat, "付款一直失败")
    told = chat.locator(BOT_TEXTS, has_text="支付服务异常")
    expect(told).to_be_visible()
    assert time.monotonic() - published < 10, "the bot knew of the notice within 10 s of publishing"
    said = told.inner_text()
    assert "正在排查" in said and "部分用户付款失败" in said and eta_said(notice, "zh") in said
    assert "感谢您的理解" in said
    cid = conversation_id(chat)
    assert loop.tracker(cid)["slots"]["outage_notice"] == str(notice["id"])

    # a complaint of this customer: its case is linked to the notice
    say(chat, "付款失败好几次了，太气人了，我要投诉你们")
    expect(chat.locator(BOT_TEXTS, has_text="案件编号").first).to_be_visible()
    # a second customer complains straight away: the notice first, then the complaint; linked too
    other = open_chat(new_page(), loop)
    say(other, "我要投诉，付款总是失败，太让人失望了")
    expect(other.locator(BOT_TEXTS, has_text="支付服务异常")).to_be_visible()
    other_cid = conversation_id(other)

    deadline = time.monotonic() + 30
    while the_notice(loop, title["en"])["reports"] < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    linked = the_notice(loop, title["en"])
    assert linked["reports"] == 2 and len(linked["cases"]) == 2, linked
    expect(sam.locator("#outage-cases .card")).to_have_count(2)  # the console heard of it (websocket)

    # an update with a new status: each linked customer gets exactly one message
    sam.select_option("#ou-status", "identified")
    sam.fill("#ou-message-zh", "已定位到支付网关故障，正在修复。")
    sam.fill("#ou-message-en", "The payment gateway fault is found and being fixed.")
    sam.click("#ou-submit")
    expect(sam.locator("#outage-message")).to_have_text("进展已发布，将通知 2 位顾客。")
    update = the_notice(loop, title["en"])["latest"]
    for page, conv in ((chat, cid), (other, other_cid)):
        exactly_one(page, loop, conv, update["id"], "已定位到支付网关故障")
    expect(chat.locator(BOT_TEXTS, has_text="已定位到支付网关故障")).to_contain_text("感谢您的理解")
    expect(sam.locator("#outage-updates li")).to_have_count(2)
    expect(sam.locator("#outage-updates li").last).to_contain_text("sam")
    screenshot(sam, "outage-console-update")

    # resolution with its review: one more message each
    sam.fill("#or-message-zh", "支付功能已恢复正常。")
    sam.fill("#or-message-en", "Payments work normally again.")
    sam.fill("#or-cause", "支付网关证书过期")
    sam.fill("#or-fix", "更新证书")
    sam.fill("#or-prevention", "证书到期前 30 天告警")
    sam.click("#or-submit")
    expect(sam.locator("#outage-message")).to_have_text("已标记为恢复，将通知 2 位顾客。")
    expect(sam.locator("#outage-review")).to_contain_text("支付网关证书过期")
    resolved = loop.api("GET", f"/api/outages/{notice['id']}")
    assert resolved["status"] == "resolved" and resolved["review"]["prevention"] == "证书到期前 30 天告警"
    for page, conv in ((chat, cid), (other, other_cid)):
        exactly_one(page, loop, conv, resolved["latest"]["id"], "【服务恢复通知】")
        assert len(outage_events(loop, conv, update["id"])) == 1  # still one of the earlier update
    screenshot(chat, "outage-widget-resolved")

    # the linked cases are resolved together, in one action
    sam.fill("#orc-result", "支付故障已修复，订单支付已恢复。")
    sam.click("#orc-submit")
    expect(sam.locator("#outage-message")).to_have_text("已解决 2 个关联案件；0 个暂不能解决（如仍在排队）。")
    for c in loop.api("GET", f"/api/outages/{notice['id']}")["cases"]:
        case = loop.api("GET", f"/api/cases/{c['id']}")
        assert case["status"] == "resolved" and case["sla"]["follow_up"]["due"], case
    audit = loop.api("GET", "/api/audit?actor=sam&limit=50")["entries"]
    assert {"outage.publish", "outage.update", "outage.resolve", "outage.resolve_cases"} <= {e["action"] for e in audit}


def test_the_same_in_english(new_page, loop):
    sam = login(new_page(), loop, "sam", lang="en")
    title = {"zh": "支付通道故障", "en": "Payment gateway outage"}
    message = {"zh": "部分付款失败。", "en": "Some card payments fail."}
    publish_in_console(sam, title, message, "2030-03-04T08:00", "Notice published.")
    notice = the_notice(loop, title["en"])

    chat = open_chat(new_page(), loop, lang="en")
    say(chat, "my payment failed")
    told = chat.locator(BOT_TEXTS, has_text="Payment gateway outage")
    expect(told).to_be_visible()
    said = told.inner_text()
    assert "Investigating" in said and eta_said(notice, "en") in said and "Thank you for your understanding" in said
    say(chat, "i want to file a complaint")
    expect(chat.locator(BOT_TEXTS, has_text="case number").first).to_be_visible()
    cid = conversation_id(chat)
    deadline = time.monotonic() + 30
    while not the_notice(loop, title["en"])["cases"] and time.monotonic() < deadline:
        time.sleep(0.5)

    sam.select_option("#ou-status", "monitoring")
    sam.fill("#ou-message-zh", "已修复，正在观察。")
    sam.fill("#ou-message-en", "A fix is in place and being monitored.")
    sam.click("#ou-submit")
    expect(sam.locator("#outage-message")).to_have_text("Update posted; 1 customers will be told.")
    update = the_notice(loop, title["en"])["latest"]
    exactly_one(chat, loop, cid, update["id"], "A fix is in place and being monitored.")
    expect(chat.locator(BOT_TEXTS, has_text="A fix is in place")).to_contain_text("Thank you for your understanding")
    done = loop.api(
        "POST",
        f"/api/outages/{notice['id']}/resolve",
        {
            "message": {"zh": "已恢复。", "en": "Card payments work again."},
            "review": {"cause": "expired certificate", "fix": "renewed", "prevention": "expiry alerts"},
        },
    )
    exactly_one(chat, loop, cid, done["latest"]["id"], "Card payments work again.")
