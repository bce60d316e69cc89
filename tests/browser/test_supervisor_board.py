"""The supervisor's live board and audit log in the console, against a real handoff_service whose critical
tier answers within 3.6 seconds and whose SLA monitor runs twice a second: a case breaches while the
supervisor watches, the board shows it live, one click acknowledges it (by whom, when) and the
acknowledgement is on the case's timeline and in the audit log. Agents see neither tab and are refused
by the API."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import RasaStandIn, Service, login, running_service, screenshot
from playwright.sync_api import expect

TIERS = """default_tier: normal
near_breach_fraction: 0.2
tiers:
  critical: {rank: 1, first_response_hours: 0.001, result_hours: 8, follow_up_hours: 12}
  high: {rank: 2, first_response_hours: 4, result_hours: 24, follow_up_hours: 24}
  normal: {rank: 3, first_response_hours: 24, result_hours: 48, follow_up_hours: 24}
"""


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory, rasa: RasaStandIn) -> Iterator[Service]:
    tmp: Path = tmp_path_factory.mktemp("board")
    tiers = tmp / "sla.yml"
    tiers.write_text(TIERS, encoding="utf-8")
    env = {"HANDOFF_SLA_FILE": str(tiers), "HANDOFF_SLA_INTERVAL_SECONDS": "0.5"}
    with running_service(tmp, rasa, env) as svc:
        yield svc


def test_a_supervisor_sees_a_breach_live_and_acknowledges_it(new_page, quick):
    sam = login(new_page(), quick, "sam")
    expect(sam.locator("#tab-board")).to_be_visible()
    sam.click("#tab-board")
    expect(sam.locator("#board-view")).to_be_visible()
    expect(sam.locator("#tab-board")).to_have_attribute("aria-pressed", "true")
    expect(sam.locator("#board-queue-table caption")).to_have_text("各级别排队数量与最长等待")
    quick.staff(
        "POST",
        "/api/outages",
        {
            "title": {"zh": "支付异常", "en": "Payment trouble"},
            "message": {"zh": "部分用户付款失败。", "en": "Some payments fail."},
            "topics": ["payment"],
        },
    )
    waiting = quick.queued_case(problem="普通问题，慢慢来")
    urgent = quick.queued_case(tier="critical", problem="付款失败，急")

    # live: the queue, then the breach (the monitor, 3.6 s later) without reloading the page
    expect(sam.locator("#board-queue-table tr[data-tier=critical] td").first).to_have_text("1")
    expect(sam.locator("#board-queue ol[data-tier=normal] .card", has_text=waiting["number"])).to_be_visible()
    expect(sam.locator("#board-queue ol[data-tier=critical] .card")).to_contain_text("付款失败，急")
    expect(sam.locator("#board-queue ol[data-tier=critical] .wait")).to_contain_text("已等待")
    row = sam.locator(f"#board-deadlines tr[data-case='{urgent['number']}']")
    expect(row).to_have_class("sla-breached", timeout=30_000)
    expect(row.locator(".state")).to_have_text("已超时")
    expect(row).to_contain_text("首次响应时限")
    expect(row.locator(".countdown")).to_contain_text("已超时")
    expect(sam.locator("#board-outages")).to_contain_text("支付异常")

    # an agent opens the console: the board shows her online, live
    alice = login(new_page(), quick, "alice")
    expect(sam.locator("#board-staff-table tr[data-user=alice]")).to_contain_text("在线")
    expect(sam.locator("#board-staff-table tr[data-user=bob]")).to_contain_text("离线")
    # and she sees neither supervisor tab; the API refuses her
    expect(alice.locator("#tab-outages")).to_be_visible()
    expect(alice.locator("#tab-board")).to_be_hidden()
    expect(alice.locator("#tab-audit")).to_be_hidden()
    expect(alice.locator("#board-view")).to_be_hidden()
    statuses = alice.evaluate(
        """async () => Promise.all(["/api/board", "/api/audit", "/api/audit/export"].map(
            async (p) => (await fetch(p, {credentials: "same-origin"})).status))"""
    )
    assert statuses == [403, 403, 403]

    # one click: acknowledged, by whom and when
    button = row.get_by_role("button", name=f"确认 {urgent['number']} 的首次响应时限")
    button.click()
    expect(row.locator(".ack")).to_contain_text("Sam Zhao 于")
    expect(row.locator(".ack")).to_contain_text("确认")
    expect(row.get_by_role("button", name="确认", exact=True)).to_have_count(0)
    screenshot(sam, "supervisor-board")

    # on the case's timeline
    row.get_by_role("button", name=urgent["number"]).click()
    expect(sam.locator("#case-view")).to_be_visible()
    expect(sam.locator("#case-number")).to_have_text(urgent["number"])
    sam.locator("summary", has_text="处理时间线").click()
    entry = sam.locator("#timeline li", has_text="主管确认升级")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("agent:sam")
    expect(entry).to_contain_text("首次响应时限")
    expect(sam.locator("#timeline li", has_text="时限超时")).to_have_count(1)

    # and in the audit log, found by the case number
    sam.click("#tab-audit")
    expect(sam.locator("#audit-view")).to_be_visible()
    sam.fill("#af-target", urgent["number"])
    sam.click("#af-apply")
    rows = sam.locator("#audit-list tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("case.escalation_acknowledged")
    expect(rows.first).to_contain_text("sam")
    expect(rows.first).to_contain_text("成功")
    sam.fill("#af-target", "")
    sam.select_option("#af-outcome", "denied")
    sam.click("#af-apply")
    expect(sam.locator("#audit-list tr", has_text="alice")).to_have_count(3)  # her three refused calls
    with sam.expect_download() as download:
        sam.click("#af-export")
    path = download.value.path()
    data = Path(path).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"wrong_role") == 3

    sam.get_by_role("button", name="English").click()
    expect(sam.locator("#tab-board")).to_have_text("Board")
    expect(sam.locator("#tab-audit")).to_have_text("Audit log")


def test_the_dashboard_counts_filters_and_exports_what_it_shows(new_page, quick):
    """High-tier cases exist only here (the board test makes normal and critical ones): two in
    English, one in Chinese; one English case is accepted, answered and resolved."""
    english = [quick.queued_case(language="en", tier="high", problem=f"Parcel lost {i}") for i in (1, 2)]
    quick.queued_case(language="zh", tier="high", problem="包裹丢了")
    done = english[0]
    quick.call("POST", f"/api/cases/{done['id']}/accept", quick.sam_token)
    quick.staff("POST", f"/api/cases/{done['id']}/messages", {"text": "We are checking the parcel now."})
    quick.staff("POST", f"/api/cases/{done['id']}/resolve", {"result": "Parcel found and re-sent"})
    quick.bot("POST", f"/api/bot/cases/{done['number']}/csat", {"overall": 4, "attitude": 5, "speed": 3})

    sam = login(new_page(), quick, "sam")
    sam.click("#tab-dashboard")
    expect(sam.locator("#dashboard-view")).to_be_visible()
    expect(sam.locator("#tab-dashboard")).to_have_attribute("aria-pressed", "true")
    cards = sam.locator("#dash-cards")
    expect(cards.locator("[data-key=cases_new] .kpi-label")).to_have_text("新建案件")  # the dictionary's name
    # every chart is drawn by the vendored Chart.js and has its table
    expect(sam.locator("#chart-series")).to_be_visible()
    assert sam.evaluate("typeof window.Chart") == "function"
    for table in ("series", "buckets", "sla", "csat", "categories", "heatmap", "agents", "teams", "times"):
        expect(sam.locator(f"#table-{table}")).to_have_count(1)

    sam.select_option("#dash-tier", "high")
    sam.select_option("#dash-language", "en")
    sam.click("#dash-filters button[type=submit]")
    expect(cards.locator("[data-key=cases_new] .kpi-value")).to_have_text("2")
    expect(cards.locator("[data-key=cases_resolved] .kpi-value")).to_have_text("1")
    expect(cards.locator("[data-key=handoff_rate] .kpi-value")).to_have_text("100.0%")
    expect(sam.locator("#table-sla")).to_contain_text("高")
    dims = sam.locator("#table-csat-dims")
    expect(dims.locator("tr", has_text="满意度均分")).to_contain_text("4.00")
    expect(dims.locator("tr", has_text="服务态度")).to_contain_text("5.00")
    expect(dims.locator("tr", has_text="服务效率")).to_contain_text("3.00")
    expect(dims.locator("tr", has_text="评价率")).to_contain_text("100.0%")
    expect(sam.locator("#fc-grid")).to_be_visible()  # next week's staffing under the dashboard
    screenshot(sam, "supervisor-dashboard")

    # the download holds exactly the cases of the view
    link = sam.locator("#dash-export-cases")
    assert "tier=high" in (link.get_attribute("href") or "") and "language=en" in (link.get_attribute("href") or "")
    with sam.expect_download() as download:
        link.click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert sorted(r["case"] for r in rows) == sorted(c["number"] for c in english)
    assert sum(int(r["created_in_period"]) for r in rows) == 2  # = the "new cases" card

    # the plan entered in the staffing grid is saved (PUT with the session's CSRF token)
    sam.fill("#fc-0-9", "3")
    sam.click("#fc-save")
    expect(sam.locator("#fc-saved")).to_have_text("排班已保存。")
    plan = quick.staff("GET", "/api/staffing/plan")["hours"]
    assert [h["agents"] for h in plan if (h["weekday"], h["hour"]) == (0, 9)] == [3]

    sam.get_by_role("button", name="English").click()
    expect(sam.locator("#tab-dashboard")).to_have_text("Dashboard")
    expect(cards.locator("[data-key=cases_new] .kpi-label")).to_have_text("New cases")

    # agents do not see the dashboard, and its APIs refuse them
    alice = login(new_page(), quick, "alice")
    expect(alice.locator("#tab-dashboard")).to_be_hidden()
    statuses = alice.evaluate(
        """async () => Promise.all(["/api/metrics/dashboard", "/api/metrics/export?table=cases",
            "/api/staffing/forecast"].map(async (p) => (await fetch(p, {credentials: "same-origin"})).status))"""
    )
    assert statuses == [403, 403, 403]
