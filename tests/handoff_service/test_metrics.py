"""KPI dashboard (metrics/): every figure of the dictionary against a day of hand-written cases
driven through the real API with the fake clock; the expected values are worked out here by hand.
Also: export = view, agent rows sum to team rows and to the total, rollup rebuild = incremental."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from test_metrics_rollups import rows as rollup_rows

from handoff_service.followups.models import FollowUpVisit
from handoff_service.metrics import blocks
from handoff_service.metrics import service as metrics
from handoff_service.metrics.states import CARDS, METRICS

DAY = "from=2026-11-24&to=2026-11-24"  # a Tuesday; Asia/Shanghai, so 2026-11-23 16:00 UTC to 11-24 16:00 UTC


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 24, hour, minute, tzinfo=UTC)


async def step(h: Any, when: datetime, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    h.clock.set(when)
    status, data = await h.call(method, path, headers, body)
    assert status in (200, 201), (path, data)
    return data


async def scenario(h: Any, rasa: Any) -> dict[str, Any]:
    """Five cases on 2026-11-24 (times UTC; Shanghai = UTC+8, so 16:00-21:00 local):
    A conv-a refund normal: 08:00 created+handoff, 08:10 alice accepts, 08:20 alice replies, 08:30 customer
      writes, 08:40 alice replies, 08:50 transfer to bob, 09:00 customer writes, 09:30 bob replies,
      09:40 bob resolves, 09:50 follow-up "solved" (closes), CSAT 4 (attitude 5, speed 3, solved 4).
    B conv-b delivery high: 10:00 created+handoff, 10:30 carl accepts, 11:00 carl replies, 11:10 resolves,
      11:20 follow-up "not solved" (reopen: cycle 1; to team t1,
      carl being offline), 11:30 carl claims it, 11:40 carl resolves again, CSAT 2.
    C conv-c faq: 12:00 opened, 12:05 the bot resolves it.
    D conv-d refund critical: 12:10 created+handoff, never accepted; first response due 13:10, breached
      when the SLA monitor runs at 14:00.
    E conv-c faq: 13:00 opened (a new contact 55 min after C's resolution), 13:01 the bot resolves it."""
    p = {
        "alice": await h.user("alice", team="t1"),
        "bob": await h.user("bob", team="t2"),
        "carl": await h.user("carl", team="t1"),
        "sam": await h.user("sam", role="supervisor"),
        "tina": await h.user("tina", role="trainer"),
    }
    bot = h.bot
    h.clock.set(at(8))
    a = await h.queued_case(conversation_id="conv-a", category="refund")
    await step(h, at(8, 10), "POST", f"/api/cases/{a['id']}/accept", p["alice"])
    await step(h, at(8, 20), "POST", f"/api/cases/{a['id']}/messages", p["alice"], {"text": "hello"})
    await step(h, at(8, 30), "POST", f"/api/bot/cases/{a['number']}/messages", bot, {"text": "where is it"})
    await step(h, at(8, 40), "POST", f"/api/cases/{a['id']}/messages", p["alice"], {"text": "checking"})
    await step(h, at(8, 50), "POST", f"/api/cases/{a['id']}/transfer", p["alice"], {"to_agent": "bob"})
    await step(h, at(9), "POST", f"/api/bot/cases/{a['number']}/messages", bot, {"text": "any news?"})
    await step(h, at(9, 30), "POST", f"/api/cases/{a['id']}/messages", p["bob"], {"text": "done"})
    await step(h, at(9, 40), "POST", f"/api/cases/{a['id']}/resolve", p["bob"], {"result": "refund 13812345678"})
    await step(h, at(9, 50), "POST", f"/api/bot/cases/{a['number']}/follow-up", bot, {"solved": True})
    csat = {"overall": 4, "attitude": 5, "speed": 3, "solved": 4, "comment": "=HYPERLINK(1)"}
    await step(h, at(9, 55), "POST", f"/api/bot/cases/{a['number']}/csat", bot, csat)
    h.clock.set(at(10))
    b = await h.queued_case(tier="high", conversation_id="conv-b", category="delivery")
    await step(h, at(10, 30), "POST", f"/api/cases/{b['id']}/accept", p["carl"])
    await step(h, at(11), "POST", f"/api/cases/{b['id']}/messages", p["carl"], {"text": "hi"})
    await step(h, at(11, 10), "POST", f"/api/cases/{b['id']}/resolve", p["carl"], {"result": "sent"})
    await step(h, at(11, 20), "POST", f"/api/bot/cases/{b['number']}/follow-up", bot, {"solved": False})
    await step(h, at(11, 30), "POST", f"/api/cases/{b['id']}/claim", p["carl"])  # carl is offline: it went to t1
    await step(h, at(11, 40), "POST", f"/api/cases/{b['id']}/resolve", p["carl"], {"result": "sent again"})
    await step(h, at(11, 45), "POST", f"/api/bot/cases/{b['number']}/csat", bot, {"overall": 2})
    h.clock.set(at(12))
    c = await h.new_case(conversation_id="conv-c", category="faq")
    await step(h, at(12, 5), "POST", f"/api/bot/cases/{c['number']}/resolve", bot, {"result": "answered"})
    h.clock.set(at(12, 10))
    await h.queued_case(tier="critical", conversation_id="conv-d", category="refund")
    h.clock.set(at(13))
    e = await h.new_case(conversation_id="conv-c", category="faq")
    await step(h, at(13, 1), "POST", f"/api/bot/cases/{e['number']}/resolve", bot, {"result": "answered"})
    h.clock.set(at(14))
    await h.deps.sla_monitor.run_once()
    # what Rasa recorded (the review feed): every customer message, with the action that answered it
    for conv, when, intent, answer, language in [
        ("conv-a", at(7, 59), "refund", "action_handoff", "zh"),
        ("conv-a", at(8, 30), "refund", "action_relay_to_agent", "zh"),  # relayed: not the bot's traffic
        ("conv-a", at(9), "refund", "action_relay_to_agent", "zh"),
        ("conv-b", at(9, 59), "delivery", "action_handoff", "zh"),
        ("conv-c", at(11, 59), "nlu_fallback", "utter_default", "zh"),
        ("conv-c", at(12, 58), "faq", "utter_faq", "zh"),
        ("conv-d", at(12, 9), "complaint", "action_handoff", "zh"),
        ("conv-x", at(14), "nlu_fallback", "utter_default", "zh"),  # no case at all
        ("conv-y", at(14, 30), "greet", "utter_greet", "en"),
    ]:
        stamp = when.timestamp()
        rasa.record(type="user", sender_id=conv, timestamp=stamp, text="…", intent=intent, language=language)
        rasa.record(type="action", sender_id=conv, timestamp=stamp + 0.01, name=answer)
    h.clock.set(at(15))
    await h.deps.review_feed.read_rasa()
    return p


async def dashboard(h: Any, headers: dict[str, str], query: str = DAY) -> dict[str, Any]:
    status, data = await h.get(f"/api/metrics/dashboard?{query}", headers)
    assert status == 200, data
    return data


def cards(data: dict[str, Any]) -> dict[str, Any]:
    return {c["key"]: c for c in data["cards"]}


async def test_every_metric_of_the_dictionary_on_a_hand_worked_day(h: Any, rasa: Any) -> None:
    p = await scenario(h, rasa)
    data = await dashboard(h, p["sam"])
    assert data["period"] == {"from": "2026-11-24", "to": "2026-11-24", "tz": "Asia/Shanghai"}
    assert data["previous"] == {"from": "2026-11-23", "to": "2026-11-23"}
    k = cards(data)
    assert list(k) == list(CARDS)
    v = {key: card["value"] for key, card in k.items()}
    assert v["cases_new"] == 5  # A B C D E
    assert (v["cases_resolved"], k["cases_resolved"]["events"]) == (4, 5)  # A, B twice, C, E
    assert (v["cases_reopened"], k["cases_reopened"]["events"]) == (1, 1)  # B, by its "not solved" follow-up
    assert v["backlog"] == 1  # D: its first cycle never ended
    assert v["handoff_rate"] == pytest.approx(3 / 5)  # A B D
    # contacts: a [07:59-09:00] b d (handed off), c [11:59-12:58] x y; none has ended 24 h later yet
    assert v["containment"] is None
    # the bot's own messages: a 07:59, b, c twice, d, x (zh) and y (en); fallbacks: c 11:59, x
    assert v["fallback_rate"] == pytest.approx(2 / 7)
    # claim: A 600 s, B 1800 s -> nearest rank p50 = 600, p90 = 1800, mean 1200
    assert data["times"]["claim_time"] == {"p50": 600, "p90": 1800, "mean": 1200, "cases": 2, "events": 2}
    # first response (handoff -> first agent reply): A 1200 s, B 3600 s
    assert data["times"]["first_response"] == {"p50": 1200, "p90": 3600, "mean": 2400, "cases": 2, "events": 2}
    # waits: A 08:30->08:40 600 s, 09:00->09:30 1800 s
    assert data["times"]["reply_time"] == {"p50": 600, "p90": 1800, "mean": 1200, "cases": 1, "events": 2}
    # cycles ended: A0 6000 (08:00-09:40), B0 4200 (10:00-11:10), B1 1200 (11:20-11:40), C0 300, E0 60
    # sorted 60 300 1200 4200 6000: p50 = 3rd = 1200, p90 = 5th = 6000, mean 11760 / 5 = 2352
    assert data["times"]["resolution_time"] == {"p50": 1200, "p90": 6000, "mean": 2352, "cases": 4, "events": 5}
    assert (v["claim_time_p50"], v["first_response_p50"], v["reply_time_p50"], v["resolution_time_p50"]) == (
        600,
        1200,
        600,
        1200,
    )
    # first response: A B (accepted in time), C E (the bot answered) met; D breached -> 4 / 5
    assert v["sla_first_response"] == pytest.approx(4 / 5)
    assert v["sla_result"] == 1.0  # A B C E met; D still running
    assert v["sla_follow_up"] == 1.0  # A answered in time; B's next cycle is still running
    assert v["reopen_rate"] == pytest.approx(1 / 4)  # of A B C E (resolved at least once), B was reopened
    assert v["csat_mean"] == 3.0 and v["csat_share_4_5"] == 0.5  # ratings 4 and 2
    assert v["csat_response_rate"] == 0.5  # 2 ratings / 4 resolved cases
    assert data["csat"] == {
        "mean": 3.0,
        "share_4_5": 0.5,
        "responses": 2,
        "response_rate": 0.5,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0},
        "dimensions": {"attitude": 5.0, "speed": 3.0, "solved": 4.0},  # B gave no dimensions
    }
    h.clock.set(datetime(2026, 11, 26, tzinfo=UTC))  # every contact has ended (24 h without a message)
    later = cards(await dashboard(h, p["sam"]))
    assert later["containment"]["value"] == 0.5 and later["containment"]["events"] == 6  # c x y of a b c d x y
    later = cards(await dashboard(h, p["sam"], DAY + "&language=zh"))
    assert later["containment"]["value"] == pytest.approx(2 / 5)  # c x of a b c d x
    assert later["fallback_rate"]["value"] == pytest.approx(2 / 6)
    assert cards(await dashboard(h, p["sam"], DAY + "&tier=normal"))["containment"]["value"] is None  # n/a
    # 2026-11-23 is empty, except the fallback rate: its week (from Monday 11-23) is the same
    assert all(c["previous"] in (0, None) and c["change"] is None for c in data["cards"] if c["key"] != "fallback_rate")
    assert k["fallback_rate"]["previous"] == v["fallback_rate"] and k["fallback_rate"]["change"] == 0
    assert data["first_response_buckets"] == [
        {"bucket": "0-1h", "cases": 1},  # A 1200 s
        {"bucket": "1-4h", "cases": 1},  # B 3600 s (1 h is the start of 1-4h)
        {"bucket": "4-8h", "cases": 0},
        {"bucket": "8-24h", "cases": 0},
        {"bucket": "24h+", "cases": 0},
    ]
    # Tuesday (1), local hours 16, 18, 20, 20, 21
    hot = {(c["weekday"], c["hour"]): c["cases"] for c in data["heatmap"] if c["cases"]}
    assert hot == {(1, 16): 1, (1, 18): 1, (1, 20): 2, (1, 21): 1} and len(data["heatmap"]) == 168
    assert data["categories"] == [
        {"category": "faq", "cases": 2, "share": 0.4},
        {"category": "refund", "cases": 2, "share": 0.4},
        {"category": "delivery", "cases": 1, "share": 0.2},
    ]
    sla = {(r["tier"], r["deadline"]): (r["met"], r["breached"]) for r in data["sla"]}
    assert sla[("critical", "first_response")] == (0, 1)  # D
    assert sla[("high", "first_response")] == (1, 0)  # B
    assert sla[("normal", "first_response")] == (3, 0)  # A C E
    assert data["series"]["points"] == [
        {
            "t": "2026-11-24",
            "cases_new": 5,
            "cases_resolved": 4,
            "cases_reopened": 1,
            "handoffs": 3,
            "first_response_p50": 1200,
        }
    ]
    agents = {r["agent"]: r for r in data["agents"]}
    assert agents["alice"] | {} == {
        "agent": "alice",
        "display_name": "alice",
        "team": "t1",
        "cases_owned": 1,
        "cases_handled": 0,  # A's last handler is bob
        "resolved": 0,
        "first_response_p50": 1200,
        "sla_first_response_attainment": 1.0,
        "csat_owner_mean": 4.0,  # credited to the owner...
        "csat_handler_mean": None,
    }
    assert (agents["bob"]["cases_handled"], agents["bob"]["resolved"], agents["bob"]["csat_handler_mean"]) == (
        1,
        1,
        4.0,  # ...and to the last handler, separately
    )
    assert (agents["carl"]["cases_owned"], agents["carl"]["resolved"], agents["carl"]["csat_owner_mean"]) == (1, 2, 2.0)
    # no owner: C D E; resolutions without an agent: C E (the bot)
    assert (agents[None]["cases_owned"], agents[None]["resolved"]) == (3, 2)
    assert agents[None]["sla_first_response_attainment"] == pytest.approx(2 / 3)  # C E met, D breached


async def test_agent_rows_sum_to_team_rows_and_to_the_total(h: Any, rasa: Any) -> None:
    p = await scenario(h, rasa)
    data = await dashboard(h, p["sam"])
    k = cards(data)
    total = {"cases_owned": k["cases_new"]["value"], "cases_handled": k["cases_new"]["value"]}
    total["resolved"] = k["cases_resolved"]["events"]  # resolutions are credited to the handler who resolved
    for col, expected in total.items():
        assert sum(r[col] for r in data["agents"]) == expected, col
        assert sum(r[col] for r in data["teams"]) == expected, col
    teams = {r["team"]: r for r in data["teams"]}
    for team, rows in (("t1", ["alice", "carl"]), ("t2", ["bob"])):
        for col in total:
            assert teams[team][col] == sum(r[col] for r in data["agents"] if r["agent"] in rows), (team, col)


async def test_filters_select_the_owners_and_dimensions(h: Any, rasa: Any) -> None:
    p = await scenario(h, rasa)
    k = cards(await dashboard(h, p["sam"], DAY + "&tier=critical"))
    assert (k["cases_new"]["value"], k["backlog"]["value"], k["sla_first_response"]["value"]) == (1, 1, 0.0)
    k = cards(await dashboard(h, p["sam"], DAY + "&agent=carl"))  # cases carl owns: B
    assert (k["cases_new"]["value"], k["cases_resolved"]["events"], k["cases_reopened"]["value"]) == (1, 2, 1)
    k = cards(await dashboard(h, p["sam"], DAY + "&team=t1"))  # owners alice and carl: A B
    assert k["cases_new"]["value"] == 2
    k = cards(await dashboard(h, p["sam"], DAY + "&category=faq&language=zh"))
    assert (k["cases_new"]["value"], k["containment"]["value"]) == (2, None)  # contacts have no category
    k = cards(await dashboard(h, p["sam"], "from=2026-11-25&to=2026-11-26"))  # after: nothing new, D waits
    assert (k["cases_new"]["value"], k["backlog"]["value"], k["handoff_rate"]["value"]) == (0, 1, None)
    assert k["cases_new"]["previous"] == 5 and k["cases_new"]["change"] == -1.0  # (0 - 5) / 5
    data = await dashboard(h, p["sam"], DAY + "&granularity=hour&tz=UTC")
    points = {pt["t"]: pt["cases_new"] for pt in data["series"]["points"] if pt["cases_new"]}
    assert points == {"2026-11-24T08:00": 1, "2026-11-24T10:00": 1, "2026-11-24T12:00": 2, "2026-11-24T13:00": 1}
    assert len(data["series"]["points"]) == 24


def read_csv(body: str) -> list[dict[str, str]]:
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


async def export(h: Any, headers: dict[str, str], table: str, query: str = DAY) -> list[dict[str, str]]:
    resp = await h.client.get(f"/api/metrics/export?table={table}&{query}", headers=headers)
    body = await resp.text()
    assert resp.status == 200, body
    assert resp.content_type == "text/csv"
    assert 'filename="metrics-' in resp.headers["Content-Disposition"]
    return read_csv(body)


@pytest.mark.parametrize("query", [DAY, DAY + "&team=t1", DAY + "&category=refund", DAY + "&tier=normal"])
async def test_the_csv_of_a_view_sums_to_its_cards(h: Any, rasa: Any, query: str) -> None:
    p = await scenario(h, rasa)
    data = await dashboard(h, p["sam"], query)
    k = cards(data)
    rows = await export(h, p["sam"], "cases", query)
    assert sum(int(r["created_in_period"]) for r in rows) == k["cases_new"]["value"]
    assert sum(int(r["resolutions_in_period"]) for r in rows) == k["cases_resolved"]["events"]
    assert sum(int(r["reopens_in_period"]) for r in rows) == k["cases_reopened"]["events"]
    assert sum(int(r["waits_in_period"]) for r in rows) == data["times"]["reply_time"]["events"]
    agents = await export(h, p["sam"], "agents", query)
    assert sum(int(r["cases_owned"]) for r in agents) == k["cases_new"]["value"]
    assert sum(int(r["resolved"]) for r in agents) == k["cases_resolved"]["events"]
    series = await export(h, p["sam"], "series", query)
    assert sum(int(r["cases_new"]) for r in series) == k["cases_new"]["value"]
    heat = await export(h, p["sam"], "heatmap", query)
    assert sum(int(r["cases"]) for r in heat) == k["cases_new"]["value"]
    buckets = await export(h, p["sam"], "first_response_buckets", query)
    assert sum(int(r["cases"]) for r in buckets) == data["times"]["first_response"]["cases"]
    cats = await export(h, p["sam"], "categories", query)
    assert [(r["category"], int(r["cases"])) for r in cats] == [(c["category"], c["cases"]) for c in data["categories"]]
    sla = await export(h, p["sam"], "sla", query)
    met = sum(int(r["met"]) for r in sla if r["deadline"] == "first_response")
    decided = met + sum(int(r["breached"]) for r in sla if r["deadline"] == "first_response")
    assert (met / decided if decided else None) == k["sla_first_response"]["value"]
    for table in ("teams", "csat"):
        assert await export(h, p["sam"], table, query) is not None


async def test_the_cases_csv_masks_free_text_and_escapes_formulas_and_is_audited(h: Any, rasa: Any) -> None:
    p = await scenario(h, rasa)
    rows = {r["case"]: r for r in await export(h, p["sam"], "cases", DAY + "&category=refund")}
    a = next(r for r in rows.values() if r["result"])
    assert "13812345678" not in a["result"] and a["csat_comment"].startswith("'=")
    assert a["owner"] == "alice" and a["last_handler"] == "bob" and a["csat_handler"] == "bob"
    status, data = await h.get("/api/audit?action=metrics.export", p["sam"])
    assert status == 200, data
    entry = data["entries"][0]
    assert entry["details"]["table"] == "cases" and entry["details"]["filters"]["category"] == "refund"


async def test_the_rollups_kept_after_each_commit_equal_a_rebuild_from_the_raw_tables(h: Any, rasa: Any) -> None:
    await scenario(h, rasa)
    incremental = await rollup_rows(h)
    assert len(incremental["metric_cases"]) == 5 and len(incremental["metric_cycles"]) == 6
    assert len(incremental["metric_waits"]) == 2
    assert await metrics.rebuild(h.deps.engine, batch=2) == 5
    assert await rollup_rows(h) == incremental


async def test_the_dictionary_names_every_card_and_has_both_languages(h: Any) -> None:
    sup = await h.user("sam", role="supervisor")
    status, data = await h.get("/api/metrics/dictionary", sup)
    assert status == 200
    keys = {m["key"] for m in data["metrics"]}
    assert set(CARDS.values()) <= keys and data["metrics"] == METRICS
    assert all(
        m["label"]["zh"] and m["label"]["en"] and m["definition"]["zh"] and m["definition"]["en"] for m in METRICS
    )


@pytest.mark.parametrize("role", ["agent", "trainer"])
async def test_agents_and_trainers_get_403_on_every_metrics_route(h: Any, role: str) -> None:
    who = await h.user("someone", role=role)
    for path in ("/api/metrics/dictionary", "/api/metrics/dashboard", "/api/metrics/export?table=cases"):
        status, body = await h.get(path, who)
        assert status == 403 and body["error"]["code"] == "wrong_role", path
    status, _ = await h.get("/api/metrics/dashboard")
    assert status == 401


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-13-01",
        "from=2026-11-30&to=2026-11-01",
        "from=2025-01-01&to=2026-11-30",
        "tz=Mars/Olympus",
        "granularity=week",
        "granularity=hour&from=2026-10-01&to=2026-11-30",
        "tier=urgent",
        "agent=nobody",
        "channel=%3Dcmd",
    ],
)
async def test_bad_filters_are_400(h: Any, query: str) -> None:
    sup = await h.user("sam", role="supervisor")
    for path in ("/api/metrics/dashboard?", "/api/metrics/export?table=agents&"):
        status, body = await h.get(path + query, sup)
        assert status == 400 and body["error"]["code"] == "invalid_field", (path, query, body)
    status, body = await h.get("/api/metrics/export?table=bogus", sup)
    assert status == 400 and body["error"]["code"] == "invalid_field"


async def test_follow_up_completion_counts_answered_over_finished_visits(h: Any, rasa: Any) -> None:
    p = await scenario(h, rasa)
    now = at(15)
    visits = [  # case ids: A=1, B=2, C=3, D=4, E=5
        (1, 0, "solved"),
        (2, 0, "not_solved"),
        (2, 1, "no_answer"),
        (3, 0, "cancelled"),  # not planned any more
        (5, 0, "scheduled"),  # planned, not finished
    ]
    async with h.deps.tx() as conn:
        await conn.execute(
            insert(FollowUpVisit),
            [
                {
                    "case_id": c,
                    "cycle": n,
                    "state": s,
                    "due_at": now,
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for c, n, s in visits
            ],
        )
    await metrics.refresh_cases(h.deps, [1, 2, 3, 5])
    data = await dashboard(h, p["sam"])
    # planned: 5 visits - 1 cancelled = 4; answered: solved 1 + not solved 1 = 2; finished: 2 + no answer 1 = 3
    assert data["follow_ups"] == {
        "planned": 4,
        "answered": 2,
        "solved": 1,
        "not_solved": 1,
        "no_answer": 1,
        "completion": pytest.approx(2 / 3),
    }
    assert cards(data)["follow_up_completion"]["value"] == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "query",
    [
        DAY,
        DAY + "&tier=normal",
        DAY + "&agent=carl",
        DAY + "&language=zh&channel=webchat",
        DAY + "&granularity=hour&tz=America/New_York",
        "from=2026-11-20&to=2026-11-26",
    ],
)
async def test_the_dashboard_of_packed_days_equals_the_dashboard_of_their_rows(h: Any, rasa: Any, query: str) -> None:
    """Each commit marks the days it changed (read from the rows); packing them (blocks.py) changes
    no figure of any view, whatever its filters, zone and granularity."""
    p = await scenario(h, rasa)
    h.clock.set(datetime(2026, 11, 26, tzinfo=UTC))  # contacts finished: containment defined
    async with h.deps.read_engine.begin() as conn:
        marked = (await conn.execute(select(func.count()).select_from(blocks.MS))).scalar_one()
    assert marked >= 4  # the scenario's day of each kind: cases, resolved, reopened, waits
    from_rows = await dashboard(h, p["sam"], query)
    assert await blocks.pack_marked(h.deps.tx, limit=1000) == marked
    async with h.deps.read_engine.begin() as conn:
        assert (await conn.execute(select(func.count()).select_from(blocks.MS))).scalar_one() == 0
        assert (await conn.execute(select(func.count()).select_from(blocks.MB))).scalar_one() == marked
    assert await dashboard(h, p["sam"], query) == from_rows
