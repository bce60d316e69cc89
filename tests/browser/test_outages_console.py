"""The console's Outages / 服务中断 page against a real handoff_service (Rasa stood in): a supervisor
publishes, updates and resolves from the keyboard, sees updates with time and author and the linked cases;
data are shown as text; an agent reads the notices without any form; English strings."""

from __future__ import annotations

from conftest import login, screenshot
from playwright.sync_api import expect

HOSTILE = '<img src=x onerror="alert(1)">支付异常'


def test_a_supervisor_runs_a_notice_from_the_keyboard_and_an_agent_only_reads_it(new_page, service):
    sam = login(new_page(), service, "sam")
    sam.locator("#tab-outages").focus()
    sam.keyboard.press("Enter")
    expect(sam.locator("#outages-view")).to_be_visible()
    expect(sam.locator("#tab-outages")).to_have_attribute("aria-pressed", "true")
    expect(sam.locator("#outage-new")).to_be_visible()  # once the vocabulary is in
    sam.locator("#outage-new").focus()
    sam.keyboard.press("Enter")
    expect(sam.locator("#op-title-zh")).to_be_focused()
    sam.keyboard.type(HOSTILE)
    sam.keyboard.press("Tab")
    sam.keyboard.type("Payment trouble")
    sam.fill("#op-message-zh", "部分用户付款失败。")
    sam.fill("#op-message-en", "Some payments fail.")
    sam.locator("#op-topics input[value=payment]").check()
    sam.locator("#op-submit").focus()
    sam.keyboard.press("Enter")
    expect(sam.locator("#outage-message")).to_have_text("通知已发布。")
    expect(sam.locator("#outage-title")).to_have_text(HOSTILE)  # as text, never markup
    assert sam.locator("#outage-title img").count() == 0
    card = sam.locator("#outage-list .card", has_text="支付异常")
    expect(card).to_contain_text("正在排查")
    expect(card).to_contain_text("0 个关联案件 · 0 位顾客反馈")
    notice = service.staff("GET", "/api/outages")["notices"][0]

    case = service.queued_case()
    service.staff("POST", f"/api/outages/{notice['id']}/cases", {"case": case["number"]})
    expect(sam.locator("#outage-cases .card", has_text=case["number"])).to_be_visible()  # live refresh
    expect(card).to_contain_text("1 个关联案件 · 1 位顾客反馈")

    expect(sam.locator("#ou-status option")).to_have_text(["正在排查", "已找到原因，正在修复", "已修复，正在观察"])
    sam.select_option("#ou-status", "identified")
    sam.fill("#ou-message-zh", "网关故障，修复中。")
    sam.fill("#ou-message-en", "Gateway fault, being fixed.")
    sam.click("#ou-submit")
    expect(sam.locator("#outage-message")).to_have_text("进展已发布，将通知 1 位顾客。")
    updates = sam.locator("#outage-updates li")
    expect(updates).to_have_count(2)
    expect(updates.last).to_contain_text("sam · 已找到原因，正在修复")
    expect(updates.last).to_contain_text("已通知 1 位顾客")
    expect(sam.locator("#ou-status option")).to_have_text(["已找到原因，正在修复", "已修复，正在观察"])

    alice = login(new_page(), service, "alice")
    alice.click("#tab-outages")
    alice.locator("#outage-list .card", has_text="支付异常").click()
    expect(alice.locator("#outage-title")).to_have_text(HOSTILE)
    expect(alice.locator("#outage-new")).to_be_hidden()
    expect(alice.locator("#outage-update")).to_be_hidden()
    expect(alice.locator("#outage-resolve")).to_be_hidden()
    expect(alice.locator("#outage-resolve-cases")).to_be_hidden()

    sam.fill("#or-message-zh", "已恢复。")
    sam.fill("#or-message-en", "Working again.")
    sam.fill("#or-cause", "证书过期")
    sam.fill("#or-fix", "更新证书")
    sam.fill("#or-prevention", "到期告警")
    sam.click("#or-submit")
    expect(sam.locator("#outage-message")).to_have_text("已标记为恢复，将通知 1 位顾客。")
    expect(sam.locator("#outage-review")).to_have_text("复盘 — 原因：证书过期；修复：更新证书；预防：到期告警")
    expect(sam.locator("#outage-update")).to_be_hidden()
    expect(sam.locator("#outage-resolve-cases")).to_be_hidden()  # the linked case is queued: nothing to resolve
    expect(sam.locator("#outage-list .card", has_text="支付异常")).to_have_count(0)  # no longer in force
    sam.select_option("#outage-filter", "resolved")
    expect(sam.locator("#outage-list .card", has_text="支付异常")).to_contain_text("已恢复")
    screenshot(sam, "outage-console-resolved")

    sam.get_by_role("button", name="English").click()
    expect(sam.locator("#tab-outages")).to_have_text("Outages")
    expect(sam.locator("#outage-list .card", has_text="Payment trouble")).to_contain_text("Resolved")
    expect(sam.locator("#outage-updates li").last).to_contain_text("Working again.")
