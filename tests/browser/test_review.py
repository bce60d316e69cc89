"""The trainers' review view of the console (/console, role trainer; supervisors too) and the agents'
"the customer meant…" on a transcript message, in headless Chromium against a real service.

Review items are put into the service's database by its own use case (Service.collect, as the
importer does). Each test seeds its items on a channel of its own and narrows the list to it with
the filter bar, so the tests do not see each other's items."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from conftest import PASSWORDS, login, screenshot
from playwright.sync_api import Page, expect

INTENTS = [["nlu_fallback", 0.41], ["refund", 0.33], ["order_status", 0.12]]
ZONE = ZoneInfo("Asia/Shanghai")
_seq = [0]


def seed(service, channel: str, *texts: str, **over: Any) -> list[int]:
    """One review item per text on `channel`, the first the most recent (so listed first)."""
    now = datetime.now(UTC)
    messages = []
    for i, text in enumerate(texts):
        _seq[0] += 1
        messages.append(
            {
                "source": f"{channel}:{_seq[0]}",
                "conversation_id": over.get("conversation_id", f"{channel}-conv-{i}"),
                "at": (over.get("at", now) - timedelta(minutes=i)).isoformat(),
                "text": text,
                "reasons": over.get("reasons", ["fallback"]),
                "intents": over.get("intents", INTENTS),
                "language": over.get("language", "zh"),
                "script": "simplified",
                "channel": channel,
            }
        )
    ids = service.collect(*messages)
    assert all(isinstance(i, int) for i in ids), ids
    return ids  # type: ignore[return-value]


def item(service, item_id: int, channel: str) -> dict[str, Any]:
    """The item as the API has it (sam, a supervisor, may read the review list)."""
    for status in ("open", "labelled", "flagged", "ignored", "applied"):
        found = [
            i
            for i in service.staff("GET", f"/api/review/items?channel={channel}&status={status}&limit=500")["items"]
            if i["id"] == item_id
        ]
        if found:
            return found[0]
    raise AssertionError(f"review item {item_id} not found")


def signin(page: Page, service, username: str, *, lang: str = "zh") -> Page:
    page.goto(service.url + "/console")
    if lang == "en":
        page.get_by_role("button", name="English").click()
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORDS[username])
    page.click("#login-submit")
    expect(page.locator("#logout")).to_be_visible()
    return page


def review_as(new_page, service, channel: str, username: str = "tina", *, lang: str = "zh") -> Page:
    """Signed in as a trainer, the review list narrowed to `channel`, the focus back on the list."""
    page = signin(new_page(), service, username, lang=lang)
    if username != "tina":
        page.click("#tab-review")
    expect(page.locator("#review-view")).to_be_visible()
    page.fill("#rf-channel", channel)
    page.press("#rf-channel", "Enter")
    page.press("#rf-channel", "Escape")  # leaves the text box: the keys work again
    expect(page.locator("#review-table")).to_be_focused()
    return page


def rows(page: Page):
    return page.locator("#review-list .review-row")


def selected(page: Page):
    return page.locator("#review-list .review-row.selected")


def test_the_review_tab_is_for_trainers_and_supervisors_not_agents(new_page, service):
    agent = login(new_page(), service, "alice")
    expect(agent.locator("#tab-outages")).to_be_visible()  # agents read the outage notices (their only other tab)
    expect(agent.locator("#tab-review")).to_be_hidden()
    expect(agent.locator("#review-view")).to_be_hidden()

    trainer = signin(new_page(), service, "tina")
    expect(trainer.locator("#me")).to_have_text("tina · trainer")
    expect(trainer.get_by_role("button", name="待审")).to_be_visible()
    expect(trainer.locator("#tab-cases")).to_be_hidden()  # trainers do not work cases
    expect(trainer.locator("#review-view")).to_be_visible()
    expect(trainer.locator("#work-view")).to_be_hidden()
    expect(trainer.locator("#kpi-backlog")).to_be_visible()
    expect(trainer.locator("#notice")).to_be_hidden()  # no failed case-list call on the way in
    expect(trainer.locator("#live")).to_have_text("")
    screenshot(trainer, "review-trainer")

    supervisor = login(new_page(), service, "sam")
    expect(supervisor.locator("#tab-cases")).to_have_attribute("aria-pressed", "true")
    supervisor.get_by_role("button", name="待审").click()
    expect(supervisor.locator("#review-view")).to_be_visible()
    expect(supervisor.locator("#work-view")).to_be_hidden()
    supervisor.get_by_role("button", name="案件").click()
    expect(supervisor.locator("#work-view")).to_be_visible()


def test_keyboard_labelling_labels_the_item_and_moves_to_the_next(new_page, service):
    first, second, third = seed(service, "t-label", "东西坏了怎么弄", "钱什么时候回来", "快递到哪了")
    page = review_as(new_page, service, "t-label")
    expect(rows(page)).to_have_count(3)
    expect(selected(page)).to_have_attribute("data-item-id", str(first))  # the first is selected
    expect(page.locator("#review-text")).to_have_text("东西坏了怎么弄")
    page.keyboard.press("j")
    expect(selected(page)).to_have_attribute("data-item-id", str(second))
    expect(page.locator("#review-text")).to_have_text("钱什么时候回来")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("k")
    expect(selected(page)).to_have_attribute("data-item-id", str(second))

    # keys do not fire while typing: "i", "f", "u" typed into the comment box do nothing
    page.click("#review-comment")
    page.keyboard.type("if u ask")
    page.fill("#review-comment", "")
    page.keyboard.press("Escape")
    expect(page.locator("#review-table")).to_be_focused()
    assert item(service, second, "t-label")["status"] == "open"

    page.keyboard.press("l")
    expect(page.locator("#review-label")).to_be_focused()
    page.keyboard.type("refund")
    page.keyboard.press("Enter")
    expect(page.locator("#review-message")).to_have_text("已标注为 refund。")
    expect(selected(page)).to_have_attribute("data-item-id", str(third))  # moved on
    expect(page.locator("#review-table")).to_be_focused()
    labelled = rows(page).nth(1)
    expect(labelled).to_contain_text("已标注")  # updated in place
    expect(labelled).to_contain_text("refund")
    got = item(service, second, "t-label")
    assert (got["status"], got["label"]) == ("labelled", "refund")
    assert item(service, first, "t-label")["status"] == "open"
    screenshot(page, "review-labelled")


def test_i_ignores_a_accepts_the_prediction_and_u_reopens(new_page, service):
    first, second = seed(service, "t-ignore", "哈哈哈哈哈", "我要把钱要回来")
    page = review_as(new_page, service, "t-ignore")
    expect(rows(page)).to_have_count(2)
    page.keyboard.press("i")
    expect(page.locator("#review-message")).to_have_text("已忽略：相同的消息以后不会再出现。")
    expect(selected(page)).to_have_attribute("data-item-id", str(second))
    assert item(service, first, "t-ignore")["status"] == "ignored"
    expect(rows(page).first).to_contain_text("已忽略")
    # a: no agent suggested a label, so the best predicted intent that is not the fallback
    page.keyboard.press("a")
    expect(page.locator("#review-message")).to_have_text("已标注为 refund。")
    got = item(service, second, "t-ignore")
    assert (got["status"], got["label"]) == ("labelled", "refund")
    page.keyboard.press("k")
    page.keyboard.press("u")
    expect(page.locator("#review-message")).to_have_text("已重新打开。")
    assert item(service, first, "t-ignore")["status"] == "open"


def test_a_flag_needs_a_comment(new_page, service):
    (only,) = seed(service, "t-flag", "这个算退货还是换货")
    page = review_as(new_page, service, "t-flag")
    expect(rows(page)).to_have_count(1)
    page.keyboard.press("f")
    expect(page.locator("#review-comment")).to_be_focused()
    page.keyboard.press("Enter")  # no comment yet
    expect(page.locator("#review-message")).to_have_text("提交讨论需要填写备注：请写明原因后回车。")
    expect(page.locator("#review-comment")).to_be_focused()
    assert item(service, only, "t-flag")["status"] == "open"
    page.keyboard.type("退货和换货的意图要不要分开？")
    page.keyboard.press("Enter")
    expect(page.locator("#review-message")).to_have_text("已提交讨论。")
    got = item(service, only, "t-flag")
    assert (got["status"], got["comment"]) == ("flagged", "退货和换货的意图要不要分开？")
    expect(rows(page).first).to_contain_text("待讨论")


def test_filters_narrow_the_list(new_page, service):
    seed(service, "t-filter", "退款没到账", "发票怎么开")
    seed(
        service,
        "t-filter",
        "where is my parcel",
        language="en",
        reasons=["low_confidence"],
        intents=[["order_status", 0.72]],
    )
    page = review_as(new_page, service, "t-filter")
    expect(rows(page)).to_have_count(3)
    page.select_option("#rf-language", "en")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("where is my parcel")
    page.select_option("#rf-language", "")
    expect(rows(page)).to_have_count(3)
    page.select_option("#rf-reason", "low_confidence")
    expect(rows(page)).to_have_count(1)
    page.select_option("#rf-reason", "")
    page.fill("#rf-min", "0.6")
    page.press("#rf-min", "Enter")
    expect(rows(page)).to_have_count(1)
    page.fill("#rf-min", "")
    page.fill("#rf-max", "0.5")
    page.press("#rf-max", "Enter")
    expect(rows(page)).to_have_count(2)
    page.fill("#rf-max", "")
    page.fill("#rf-intent", "order_status")
    page.press("#rf-intent", "Enter")
    expect(rows(page)).to_have_count(1)
    page.fill("#rf-intent", "")
    page.press("#rf-intent", "Enter")
    expect(rows(page)).to_have_count(3)
    # dates are the trainer's days in the service's zone
    today = datetime.now(ZONE).date()
    page.fill("#rf-since", (today + timedelta(days=1)).isoformat())
    expect(page.locator("#review-empty")).to_be_visible()
    expect(rows(page)).to_have_count(0)
    page.fill("#rf-since", today.isoformat())
    page.fill("#rf-until", today.isoformat())
    expect(rows(page)).to_have_count(3)
    page.fill("#rf-until", (today - timedelta(days=1)).isoformat())
    expect(rows(page)).to_have_count(0)
    page.fill("#rf-since", "")
    page.fill("#rf-until", "")
    page.select_option("#rf-status", "ignored")
    expect(rows(page)).to_have_count(0)
    page.click("#rf-clear")  # everything, on every channel
    expect(page.locator("#rf-channel")).to_have_value("")
    expect(rows(page).filter(has_text="where is my parcel")).to_have_count(1)


def test_markup_in_a_message_is_shown_as_text(new_page, service, guard):
    hostile = "<img src=x onerror=alert(1)><script>alert(2)</script>退款"
    seed(service, "t-markup", hostile)
    page = review_as(new_page, service, "t-markup")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first.locator(".r-text")).to_have_text(hostile)
    expect(page.locator("#review-text")).to_have_text(hostile)
    assert page.locator("#review-view img, #review-view script").count() == 0
    assert guard.dialogs == []


def test_chinese_first_and_english_on_switch(new_page, service):
    seed(service, "t-i18n", "你们几点下班")
    page = review_as(new_page, service, "t-i18n")
    view = page.locator("#review-view")
    expect(page.locator("#review-h")).to_contain_text("待审消息")
    expect(view.get_by_role("heading", name="训练指标")).to_be_visible()
    expect(page.get_by_label("原因")).to_be_visible()
    expect(rows(page).first).to_contain_text("兜底回复")
    expect(rows(page).first).to_contain_text("待处理")
    page.keyboard.press("?")
    expect(page.locator("#review-help")).to_be_visible()
    expect(page.locator("#review-help")).to_contain_text("快捷键")
    expect(page.locator("#review-help")).to_contain_text("聚焦标注框")
    screenshot(page, "review-help-zh")
    page.get_by_role("button", name="English").click()
    expect(page.locator("#review-h")).to_contain_text("Review")
    expect(view.get_by_role("heading", name="Trainer KPIs")).to_be_visible()
    expect(page.get_by_label("Reason")).to_be_visible()
    expect(rows(page).first).to_contain_text("fallback")
    expect(rows(page).first).to_contain_text("open")
    expect(page.locator("#review-help")).to_contain_text("focus the label")
    expect(page.locator("#tab-review")).to_have_text("Review")
    page.keyboard.press("Escape")
    expect(page.locator("#review-help")).to_be_hidden()
    screenshot(page, "review-en")
    page.get_by_role("button", name="中文").click()
    expect(rows(page).first).to_contain_text("兜底回复")


def test_kpis_show_the_backlog_the_days_and_the_fallback_rates(new_page, service):
    seed(service, "t-kpi", "这个怎么用")
    page = review_as(new_page, service, "t-kpi")
    kpis = service.staff("GET", "/api/review/kpis?days=14")
    expect(page.locator("#kpi-backlog")).to_have_text(str(kpis["backlog"]))
    expect(page.locator("#kpi-per-day tbody tr").nth(1).locator("td")).to_have_count(14)
    expect(page.locator("#kpi-per-day caption")).to_contain_text("Asia/Shanghai")
    rates = kpis.get("fallback_rate") or []
    fallback = page.locator("#kpi-fallback tbody tr")
    if rates:
        expect(fallback).to_have_count(len(rates))
    else:
        expect(fallback).to_have_text("暂无数据")
    # a label counts today, and the strip follows
    page.keyboard.press("a")
    expect(page.locator("#review-message")).to_have_text("已标注为 refund。")
    today = service.staff("GET", "/api/review/kpis?days=14")["labelled_per_day"][-1]["count"]
    expect(page.locator("#kpi-per-day tbody tr").nth(1).locator("td").last).to_have_text(str(today))


def test_failing_context_and_intents_calls_are_said_plainly(new_page, service):
    """When the context or the intents call fails, the view says so, and labelling still works
    (a typed label is then not checked against a list, and the picker says that)."""
    seed(service, "t-fail", "我想问个事")
    page = new_page()
    failure = {"error": {"code": "internal_error", "message": "internal error"}}
    for pattern in ("**/api/review/items/*/context", "**/api/review/intents"):
        page.route(pattern, lambda r: r.fulfill(status=500, content_type="application/json", body=json.dumps(failure)))
    page.goto(service.url + "/console")
    page.fill("#login-username", "tina")
    page.fill("#login-password", PASSWORDS["tina"])
    page.click("#login-submit")
    page.fill("#rf-channel", "t-fail")
    page.press("#rf-channel", "Enter")
    expect(rows(page)).to_have_count(1)
    note = page.locator("#review-context-note")
    expect(note).to_have_text("无法加载对话上下文：操作失败：internal error")
    expect(page.locator("#review-intents-warning")).to_contain_text("意图列表暂不可用")
    page.press("#rf-channel", "Escape")
    page.keyboard.press("l")
    page.keyboard.type("faq/business_hours")
    page.keyboard.press("Enter")
    expect(page.locator("#review-message")).to_have_text("已标注为 faq/business_hours。")


def test_without_rasa_the_context_and_intents_say_they_are_unavailable(new_page, service):
    seed(service, "t-down", "有人在吗", conversation_id="down-review-1")
    page = review_as(new_page, service, "t-down")
    expect(rows(page)).to_have_count(1)
    expect(page.locator("#review-context-note")).to_contain_text("无法读取这段对话（机器人服务暂不可用）")
    expect(page.locator("#review-intents-warning")).to_contain_text("意图列表暂不可用")
    screenshot(page, "review-unavailable")


def test_the_context_shows_the_turns_around_the_message_and_its_case(new_page, service):
    case = service.queued_case(problem="上下文测试")
    cid = case["conversation_id"]
    at = datetime.now(UTC) - timedelta(minutes=5)
    events = []
    for n in range(8):
        events.append({"event": "user", "text": f"顾客第{n}句", "timestamp": at.timestamp() + n * 2 - 8})
        events.append({"event": "bot", "text": f"机器人第{n}句", "timestamp": at.timestamp() + n * 2 - 7})
    events[8]["timestamp"] = at.timestamp()  # 顾客第4句: the collected message
    service.rasa.events[cid] = events
    seed(service, "t-context", "顾客第4句", conversation_id=cid, at=at)
    page = review_as(new_page, service, "t-context", "sam")
    context = page.locator("#review-context")
    expect(context.locator(".msg.current")).to_contain_text("顾客第4句")
    assert 1 < context.locator(".msg").count() <= 11
    link = page.locator("#review-cases .case-link", has_text=case["number"])
    expect(link).to_be_visible()
    link.click()
    expect(page.locator("#work-view")).to_be_visible()
    expect(page.locator("#case-number")).to_have_text(case["number"])


def accepted_case_with(service, new_page, text: str) -> tuple[Page, dict[str, Any]]:
    """alice has accepted a case whose conversation (in Rasa's tracker) has the customer's `text`."""
    case = service.queued_case(problem="纠正意图")
    now = datetime.now(UTC).timestamp()
    service.rasa.events[case["conversation_id"]] = [
        {"event": "user", "text": text, "timestamp": now - 30, "input_channel": "socketio"},
        {"event": "bot", "text": "抱歉，我没有理解您的意思。", "timestamp": now - 29},
    ]
    page = login(new_page(), service, "alice")
    page.locator("#queue-list .card", has_text=case["number"]).click()
    page.click("#accept-btn")
    expect(page.locator("#case-status")).to_have_text("处理中")
    return page, case


def test_a_failing_correction_is_said_plainly(new_page, service):
    page, _ = accepted_case_with(service, new_page, "那个钱的事")
    page.route(
        "**/api/cases/*/corrections",
        lambda r: r.fulfill(
            status=404,
            content_type="application/json",
            body=json.dumps({"error": {"code": "correction_message_not_found", "message": "not found"}}),
        ),
    )
    msg = page.locator("#transcript .msg.customer", has_text="那个钱的事")
    assert page.locator("#transcript .msg.agent .meant-toggle, #transcript .msg.bot .meant-toggle").count() == 0
    msg.get_by_role("button", name="客户实际想问…").click()
    msg.get_by_label("顾客实际想问的意图").fill("refund")
    msg.get_by_role("button", name="提交给训练师").click()
    expect(msg.locator(".meant-status")).to_have_text("在此案件的顾客消息中找不到这条消息。")


def test_an_agent_says_what_the_customer_meant_and_a_trainer_accepts_it(new_page, service):
    service.rasa.intent_names = ["refund", "order_status", "faq/shipping"]  # the model's, from the bridge
    try:
        page, case = accepted_case_with(service, new_page, "那个钱能不能退回来")
        msg = page.locator("#transcript .msg.customer", has_text="那个钱能不能退回来")
        msg.get_by_role("button", name="客户实际想问…").click()
        box = msg.get_by_label("顾客实际想问的意图")
        expect(box).to_be_focused()
        box.fill("refunds")  # not one of the model's intents: refused in the page
        box.press("Enter")
        expect(msg.locator(".meant-status")).to_have_text("“refunds”不是已知意图，请从列表中选择。")
        box.fill("refund")
        box.press("Enter")
        expect(msg.locator(".meant-status")).to_have_text("已提交给训练师")
        screenshot(page, "console-customer-meant")
        found = [
            i
            for i in service.staff("GET", "/api/review/items?reason=agent_correction&limit=500")["items"]
            if i["text"] == "那个钱能不能退回来"
        ]
        assert len(found) == 1 and found[0]["suggested_label"] == "refund", found

        trainer = signin(new_page(), service, "tina")
        trainer.select_option("#rf-reason", "agent_correction")
        rows(trainer).filter(has_text="那个钱能不能退回来").click()
        expect(trainer.locator("#review-suggested")).to_have_text("坐席认为顾客实际想问：refund（按 a 采纳）")
        expect(trainer.locator("#review-intents-warning")).to_be_hidden()  # the list is there
        context = trainer.locator("#review-context")
        expect(context.locator(".msg.current")).to_contain_text("那个钱能不能退回来")
        expect(context.locator(".msg.bot")).to_contain_text("抱歉，我没有理解您的意思。")
        expect(trainer.locator("#review-cases")).to_have_text("")  # trainers open no cases
        trainer.locator("#review-table").focus()
        trainer.keyboard.press("a")
        expect(trainer.locator("#review-message")).to_have_text("已标注为 refund。")
        got = item(service, found[0]["id"], found[0]["channel"] or "")
        assert (got["status"], got["label"]) == ("labelled", "refund")
    finally:
        service.rasa.intent_names = None


def test_with_an_intent_list_the_picker_takes_only_listed_intents(new_page, service):
    """GET /api/review/intents answered with a list (as it does when Rasa is up; the browser tests
    run without Rasa, so the answer is given here): an unlisted name is refused in the page."""
    (only,) = seed(service, "t-picker", "运费谁出")
    page = new_page()
    listed = {"intents": ["refund", "faq/shipping", "order_status"], "available": True, "error": None}
    page.route(
        "**/api/review/intents",
        lambda r: r.fulfill(status=200, content_type="application/json", body=json.dumps(listed)),
    )
    page = review_as(lambda: page, service, "t-picker")
    expect(rows(page)).to_have_count(1)
    expect(page.locator("#intent-options option")).to_have_count(3)
    expect(page.locator("#review-intents-warning")).to_be_hidden()
    page.keyboard.press("l")
    page.keyboard.type("shipping")
    page.keyboard.press("Enter")
    expect(page.locator("#review-message")).to_have_text("“shipping”不是已知意图，请从列表中选择。")
    expect(page.locator("#review-label")).to_be_focused()
    assert item(service, only, "t-picker")["status"] == "open"
    page.fill("#review-label", "faq/shipping")
    page.press("#review-label", "Enter")
    expect(page.locator("#review-message")).to_have_text("已标注为 faq/shipping。")
    got = item(service, only, "t-picker")
    assert (got["status"], got["label"]) == ("labelled", "faq/shipping")


def test_evaluation_reports_are_shown_as_text_newest_first(new_page, service, guard):
    older = service.staff("POST", "/api/review/reports", {"title": "m1 vs m0", "passed": True, "markdown": "# 旧报告"})
    markdown = "# 评估报告\n| intent | F1 |\n|---|---|\n| refund | 0.91 → 0.95 |\n<img src=x onerror=alert(1)>"
    newer = service.staff("POST", "/api/review/reports", {"title": "m2 vs m1", "passed": False, "markdown": markdown})
    page = signin(new_page(), service, "tina")
    listed = page.locator("#reports-list li")
    expect(listed.first).to_contain_text("未通过 · m2 vs m1")
    expect(listed.nth(1)).to_contain_text("通过 · m1 vs m0")
    page.locator(f'#reports-list [data-report-id="{newer["id"]}"]').click()
    expect(page.locator("#report-text")).to_have_text(markdown)  # the Markdown as written, as text
    assert page.locator("#report-text img").count() == 0 and guard.dialogs == []
    page.locator(f'#reports-list [data-report-id="{older["id"]}"]').click()
    expect(page.locator("#report-text")).to_have_text("# 旧报告")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Evaluation reports")).to_be_visible()
    expect(listed.first).to_contain_text("failed · m2 vs m1")


def test_a_long_list_loads_page_by_page(new_page, service):
    letters = "abcdefghijklmnopqrstuvwxyz"
    seed(service, "t-paging", *[f"问题 {letters[i // 26]}{letters[i % 26]}" for i in range(205)])
    page = review_as(new_page, service, "t-paging")
    expect(rows(page)).to_have_count(200)
    expect(page.locator("#review-more")).to_be_visible()
    rows(page).nth(199).click()
    page.locator("#review-table").focus()
    page.keyboard.press("j")  # past the last row: the next page comes, and the selection moves on
    expect(rows(page)).to_have_count(205)
    expect(selected(page)).to_contain_text("问题 hs")  # the 201st
    expect(page.locator("#review-more")).to_be_hidden()
