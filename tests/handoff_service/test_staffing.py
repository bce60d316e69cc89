"""Staffing forecast (issue 28 item 5, standard 5.3): Erlang C against textbook values, the
forecast over a hand-made history (expected values worked out here), the weekly plan, roles."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from handoff_service.staffing import erlang
from handoff_service.staffing.forecast import Params, hour_need, next_week_start, slot

SHANGHAI = timezone(timedelta(hours=8))


def local(*args: int) -> datetime:
    """A time in the service zone (Asia/Shanghai: UTC+8, no daylight saving)."""
    return datetime(*args, tzinfo=SHANGHAI).astimezone(timezone.utc)


# ---------------------------------------------------------------- Erlang C


def _erlang_c_direct(n: int, a: float) -> float:
    """Erlang C from its textbook form with factorials (independent of the recurrence)."""
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


def test_erlang_c_textbook_example():
    # Call Centre Helper's worked example of the Erlang C formula: 100 calls in 30 minutes
    # (200 per hour), 180 s average handle time -> A = 10 Erlangs; target 80 % answered in 20 s.
    a = erlang.traffic(200, 180)
    assert a == pytest.approx(10.0)
    # with 11 agents a call waits with probability 0.682 and only 39 % are answered in 20 s
    assert erlang.wait_probability(11, a) == pytest.approx(0.6821, abs=1e-4)
    assert erlang.service_level(11, a, 180, 20) == pytest.approx(0.3896, abs=1e-4)
    # 13 agents reach 79.6 % (not enough), 14 reach 88.8 %: 14 agents, P(wait) 17.4 %, ASA 7.8 s
    assert erlang.service_level(13, a, 180, 20) == pytest.approx(0.7956, abs=1e-4)
    req = erlang.agents_needed(200, 180, target=0.8, answer_seconds=20, shrinkage=0.3)
    assert req.agents == 14
    assert req.service_level == pytest.approx(0.8884, abs=1e-4)
    assert req.wait_probability == pytest.approx(0.1741, abs=1e-4)
    assert req.asa_seconds == pytest.approx(7.84, abs=0.01)
    assert req.occupancy == pytest.approx(10 / 14)
    assert req.binding == "service_level"
    # 30 % shrinkage: 14 / 0.7 = 20 agents to schedule
    assert req.staff == 20


@pytest.mark.parametrize("n,a", [(1, 0.5), (2, 1.2), (5, 3.7), (14, 10.0), (30, 25.5)])
def test_erlang_c_recurrence_equals_factorial_formula(n, a):
    assert erlang.wait_probability(n, a) == pytest.approx(_erlang_c_direct(n, a), rel=1e-9)
    # one agent: M/M/1, P(wait) = utilisation, ASA = rho/(1-rho) * AHT
    assert erlang.wait_probability(1, 0.25) == pytest.approx(0.25)
    assert erlang.average_speed_of_answer(1, 0.25, 100) == pytest.approx(0.25 * 100 / 0.75)


def test_occupancy_cap_and_edges():
    # A = 10: 11 agents answer 50 % within 60 s (SL 0.58), but 85 % occupancy needs ceil(10/0.85) = 12
    loose = erlang.agents_needed(200, 180, target=0.5, answer_seconds=60)
    assert loose.agents == 11 and loose.binding == "service_level"
    capped = erlang.agents_needed(200, 180, target=0.5, answer_seconds=60, max_occupancy=0.85)
    assert capped.agents == 12 and capped.binding == "occupancy"
    none = erlang.agents_needed(0, 180, target=0.8, answer_seconds=20, shrinkage=0.3)
    assert (none.agents, none.staff, none.binding) == (0, 0, "none")
    assert erlang.wait_probability(10, 10.0) == 1.0  # unstable queue
    assert erlang.service_level(9, 10.0, 180, 20) == 0.0
    assert math.isinf(erlang.average_speed_of_answer(10, 10.0, 180))
    for bad in ({"target": 1.0}, {"target": 0.8, "shrinkage": 1.0}, {"target": 0.8, "max_occupancy": 0}):
        with pytest.raises(ValueError):
            erlang.agents_needed(10, 180, answer_seconds=20, **bad)


def test_week_and_slot_arithmetic():
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    # 2026-12-02 is a Wednesday; next week starts Monday 2026-12-07 00:00 in Shanghai
    assert next_week_start(local(2026, 12, 2, 12, 30), zone).isoformat() == "2026-12-07T00:00:00+08:00"
    assert next_week_start(local(2026, 12, 7, 0, 0), zone).isoformat() == "2026-12-14T00:00:00+08:00"
    # Monday 00:30 Shanghai is Sunday 16:30 UTC: slot 0, not Sunday's
    assert slot(local(2026, 12, 7, 0, 30), zone) == 0
    assert slot(local(2026, 12, 6, 23, 59), zone) == 167


# ---------------------------------------------------------------- forecast over a hand-made history


async def _handoff_at(h, when, tier="normal", conv="c"):
    h.clock.set(when)
    return await h.queued_case(tier=tier, conversation_id=conv)


async def _work(h, agent, case, accept_after, handle):
    h.clock.advance(seconds=accept_after)
    status, body = await h.post(f"/api/cases/{case['id']}/accept", agent)
    assert status == 200, body
    h.clock.advance(seconds=handle)
    status, body = await h.post(f"/api/cases/{case['id']}/resolve", agent, {"result": "done"})
    assert status == 200, body


async def test_forecast_over_hand_made_history(h):
    sup = await h.user("sam", "supervisor")
    ann = await h.user("ann", "agent")
    # "now" is Wednesday 2026-12-02 12:30 in Shanghai: the 4-week window is
    # [Wed 2026-11-04 12:00, Wed 2026-12-02 12:00) local; next week starts Mon 2026-12-07.
    # Tuesday 10:00-10:59 is hour-of-week 1*24+10 = 34.
    n = 0

    async def handoff(when, tier="normal"):
        nonlocal n
        n += 1
        return await _handoff_at(h, when, tier, conv=f"c{n}")

    # Tue 2026-12-01 10:xx: 3 normal (handled 300, 600, 900 s) and 1 critical (handled 600 s)
    for minute, handle in ((5, 300), (15, 600), (25, 900)):
        await _work(h, ann, await handoff(local(2026, 12, 1, 10, minute)), 30, handle)
    await _work(h, ann, await handoff(local(2026, 12, 1, 10, 50), "critical"), 30, 600)
    # Tue 2026-11-24 10:40: 1 normal (handled 1200 s)
    await _work(h, ann, await handoff(local(2026, 11, 24, 10, 40)), 30, 1200)
    # Tue 2026-11-10 10:05 and 10:06: 2 normal (300 s, and 5 h: over the 4 h cap, left out)
    await _work(h, ann, await handoff(local(2026, 11, 10, 10, 5)), 30, 300)
    await _work(h, ann, await handoff(local(2026, 11, 10, 10, 6)), 30, 5 * 3600)
    # outside the window: Tue 2026-11-03 10:05 (too old) and in the current hour (not yet complete)
    for _ in range(5):
        await handoff(local(2026, 11, 3, 10, 5))
    await handoff(local(2026, 12, 2, 12, 10))
    h.clock.set(local(2026, 12, 2, 12, 30))

    status, body = await h.get("/api/staffing/forecast", sup)
    assert status == 200, body
    assert body["zone"] == "Asia/Shanghai"
    assert body["week_start"] == "2026-12-07T00:00:00+08:00"
    assert body["history"]["from"] == "2026-11-04T12:00:00+08:00"
    assert body["history"]["to"] == "2026-12-02T12:00:00+08:00"
    assert body["history"]["handoffs"] == {"critical": 1, "high": 0, "normal": 6}
    # handle time: normal 300, 600, 900, 1200, 300 -> mean 660 (5 cases, measured); critical has
    # 1 case (< 5): the mean over all 6 kept, (3300 + 600) / 6 = 650; the 5 h case excluded
    ht = body["handle_time"]
    assert ht["normal"] == {"seconds": 660.0, "cases": 5, "measured": True}
    assert ht["critical"] == {"seconds": 650.0, "cases": 1, "measured": False}
    assert ht["all"]["excluded"] == 1
    hours = body["hours"]
    assert len(hours) == 168
    assert hours[0]["start"] == "2026-12-07T00:00:00+08:00"
    tue10 = hours[34]
    assert (tue10["weekday"], tue10["hour"], tue10["start"]) == (1, 10, "2026-12-08T10:00:00+08:00")
    # expected arrivals: normal (3 + 1 + 2) / 4 weeks = 1.5, critical 1 / 4 = 0.25
    assert tue10["arrivals"] == {"critical": 0.25, "high": 0.0, "normal": 1.5, "total": 1.75}
    aht = (1.5 * 660 + 0.25 * 650) / 1.75  # 658.6 s
    assert tue10["handle_seconds"] == pytest.approx(aht, abs=0.1)
    # pooled: A = 1.75 * 658.6 / 3600 = 0.320 Erlangs. One agent: P(wait) = A = 0.320, answered in
    # 60 s: 1 - 0.320 * exp(-(1 - 0.320) * 60 / 658.6) = 0.702 < 0.8 -> two agents (SL 0.98).
    a = 1.75 * aht / 3600
    assert 1 - a * math.exp(-(1 - a) * 60 / aht) < 0.8
    assert tue10["agents_needed"]["total"] == 2
    assert tue10["binding"] == "answer_time"
    # per tier: normal alone (A = 0.275): 1 - 0.275 * exp(-0.725 * 60 / 660) = 0.742 -> 2;
    # critical alone (A = 0.045): 1 - 0.045 * exp(-0.955 * 60 / 650) = 0.959 -> 1; high: none
    assert tue10["agents_needed"]["normal"] == 2
    assert tue10["agents_needed"]["critical"] == 1
    assert tue10["agents_needed"]["high"] == 0
    # 30 % shrinkage: ceil(2 / 0.7) = 3 to schedule; no plan yet
    assert tue10["staff_needed"] == 3
    assert (tue10["scheduled"], tue10["gap"]) == (0, -3)
    # hours with no history need nobody
    assert hours[0]["agents_needed"]["total"] == 0 and hours[0]["binding"] == "none"
    # the current hour (Wednesday 12:00, hour-of-week 60): no handoffs then in past weeks
    assert body["now"]["start"] == "2026-12-02T12:00:00+08:00"
    assert (body["now"]["weekday"], body["now"]["hour"], body["now"]["online"]) == (2, 12, 0)

    # weeks=2: only 2026-11-18 12:00 onwards counts: normal (3 + 1) / 2 = 2, critical 1 / 2
    status, body = await h.get("/api/staffing/forecast?weeks=2", sup)
    assert status == 200, body
    assert body["hours"][34]["arrivals"] == {"critical": 0.5, "high": 0.0, "normal": 2.0, "total": 2.5}

    # an answer time longer than the critical tier's 1 h deadline: that deadline binds
    status, body = await h.get("/api/staffing/forecast?answer_seconds=7200&shrinkage=0", sup)
    assert status == 200, body
    tue10 = body["hours"][34]
    assert tue10["binding"] == "first_response_deadline" and tue10["answer_seconds"] == 3600
    assert tue10["staff_needed"] == tue10["agents_needed"]["total"]


def test_pooled_need_matches_erlang():
    from handoff_service.staffing.forecast import TierInfo

    tiers = [TierInfo("critical", 1, 3600), TierInfo("normal", 3, 86400)]
    need = hour_need({"critical": 20, "normal": 180}, {"critical": 180, "normal": 180}, tiers, Params())
    # 200 per hour at 180 s = the textbook's A = 10; 80 % in 60 s, occupancy <= 85 %
    ref = erlang.agents_needed(200, 180, target=0.8, answer_seconds=60, max_occupancy=0.85, shrinkage=0.3)
    assert need["agents_needed"]["total"] == ref.agents
    assert need["staff_needed"] == ref.staff
    assert need["agents_needed"]["critical"] + need["agents_needed"]["normal"] >= ref.agents  # pooling helps


async def test_online_now(h):
    sup = await h.user("sam", "supervisor")
    await h.user("ann", "agent")
    sub = h.deps.hub.subscribe(h.ids["ann"], "agent")
    try:
        status, body = await h.get("/api/staffing/forecast", sup)
    finally:
        h.deps.hub.unsubscribe(sub)
    assert status == 200 and body["now"]["online"] == 1


# ---------------------------------------------------------------- the plan


async def test_plan_round_trip_audited(h):
    sup = await h.user("sam", "supervisor")
    status, body = await h.get("/api/staffing/plan", sup)
    assert status == 200, body
    assert len(body["hours"]) == 168 and all(x["agents"] == 0 for x in body["hours"])
    assert body["updated_at"] is None
    plan = {"hours": [{"weekday": 0, "hour": 9, "agents": 3}, {"weekday": 6, "hour": 23, "agents": 1}]}
    status, body = await h.call("PUT", "/api/staffing/plan", sup, plan)
    assert status == 200, body
    by_slot = {(x["weekday"], x["hour"]): x["agents"] for x in body["hours"]}
    assert by_slot[(0, 9)] == 3 and by_slot[(6, 23)] == 1 and sum(by_slot.values()) == 4
    assert body["updated_by"]["username"] == "sam"
    status, again = await h.get("/api/staffing/plan", sup)
    assert again["hours"] == body["hours"]
    # the forecast shows the plan next to the need
    status, fc = await h.get("/api/staffing/forecast", sup)
    assert fc["hours"][9]["scheduled"] == 3 and fc["hours"][167]["scheduled"] == 1
    # replacing: hours not given have no agents
    status, body = await h.call("PUT", "/api/staffing/plan", sup, {"hours": [{"weekday": 0, "hour": 9, "agents": 5}]})
    assert status == 200
    assert sum(x["agents"] for x in body["hours"]) == 5
    status, log = await h.get("/api/audit?action=staffing.plan", sup)
    entries = log["entries"]
    assert len(entries) == 2
    assert entries[0]["details"]["changed"] == [
        {"weekday": 0, "hour": 9, "from": 3, "to": 5},
        {"weekday": 6, "hour": 23, "from": 1, "to": 0},
    ]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"hours": "all"},
        {"hours": [{"weekday": 7, "hour": 0, "agents": 1}]},
        {"hours": [{"weekday": 0, "hour": 24, "agents": 1}]},
        {"hours": [{"weekday": 0, "hour": 1, "agents": -1}]},
        {"hours": [{"weekday": 0, "hour": 1, "agents": 1.5}]},
        {"hours": [{"weekday": 0, "hour": 1}]},
        {"hours": [{"weekday": 0, "hour": 1, "agents": 1, "x": 1}]},
        {"hours": [{"weekday": 0, "hour": 1, "agents": 1}, {"weekday": 0, "hour": 1, "agents": 2}]},
        {"hours": [{"weekday": 0, "hour": 1, "agents": 1}] * 169},
    ],
)
async def test_plan_bad_input_400(h, body):
    sup = await h.user("sam", "supervisor")
    status, answer = await h.call("PUT", "/api/staffing/plan", sup, body)
    assert status == 400, answer
    assert answer["error"]["code"] in ("invalid_field", "invalid_request")


@pytest.mark.parametrize(
    "query",
    [
        "weeks=0",
        "weeks=13",
        "weeks=two",
        "target=1",
        "target=0.2",
        "target=nan",
        "answer_seconds=0",
        "answer_seconds=inf",
        "shrinkage=-0.1",
        "shrinkage=0.95",
        "max_occupancy=1.5",
    ],
)
async def test_forecast_bad_params_400(h, query):
    sup = await h.user("sam", "supervisor")
    status, body = await h.get(f"/api/staffing/forecast?{query}", sup)
    assert status == 400, body
    assert body["error"]["code"] == "invalid_field"


@pytest.mark.parametrize("role", ["agent", "trainer"])
async def test_only_supervisors(h, role):
    sup = await h.user("sam", "supervisor")
    other = await h.user("olly", role)
    plan = {"hours": [{"weekday": 0, "hour": 9, "agents": 3}]}
    for method, path, body in (
        ("GET", "/api/staffing/forecast", None),
        ("GET", "/api/staffing/plan", None),
        ("PUT", "/api/staffing/plan", plan),
    ):
        status, answer = await h.call(method, path, other, body)
        assert status == 403, (method, path, answer)
        assert answer["error"]["code"] == "wrong_role"
    status, log = await h.get("/api/audit?actor=olly", sup)
    denied = {(e["action"], e["outcome"], e["details"]["code"]) for e in log["entries"]}
    assert denied == {
        ("staffing_forecast", "denied", "wrong_role"),
        ("staffing_plan_get", "denied", "wrong_role"),
        ("staffing_plan_put", "denied", "wrong_role"),
    }
    status, body = await h.get("/api/staffing/plan", sup)
    assert all(x["agents"] == 0 for x in body["hours"])  # the refused PUT changed nothing


async def test_plan_put_from_the_console_needs_the_csrf_token(h):
    await h.user("sam", "supervisor")
    status, login = await h.post("/api/auth/login", json={"username": "sam", "password": "correct horse battery"})
    assert status == 200, login
    plan = {"hours": [{"weekday": 0, "hour": 9, "agents": 3}]}
    status, body = await h.call("PUT", "/api/staffing/plan", None, plan)
    assert status == 403 and body["error"]["code"] == "csrf_failed"
    status, body = await h.call("PUT", "/api/staffing/plan", {"X-CSRF-Token": login["csrf_token"]}, plan)
    assert status == 200 and body["hours"][9]["agents"] == 3


async def test_half_hour_zone_counts_each_handoff(h):
    """Counting per UTC hour is right only for whole-hour offsets: Asia/Kolkata (UTC+5:30) counts
    each handoff at its own local hour."""
    import dataclasses
    from zoneinfo import ZoneInfo

    from handoff_service.staffing import service as staffing
    from handoff_service.staffing.forecast import whole_hour_offsets

    kolkata, shanghai = ZoneInfo("Asia/Kolkata"), ZoneInfo("Asia/Shanghai")
    assert whole_hour_offsets(shanghai, NOW_UTC, NOW_UTC) and not whole_hour_offsets(kolkata, NOW_UTC, NOW_UTC)
    # Tuesday 2026-12-01 10:10 in Kolkata = 04:40 UTC (the UTC hour 04:00 would be 09:30-10:30 local)
    when = datetime(2026, 12, 1, 4, 40, tzinfo=timezone.utc)
    await _handoff_at(h, when, "normal", conv="k1")
    deps = dataclasses.replace(h.deps, settings=h.deps.settings.with_(case_number_tz="Asia/Kolkata"))
    body = await staffing.build_forecast(deps, Params(weeks=1), now=datetime(2026, 12, 2, 0, 0, tzinfo=timezone.utc))
    assert body["week_start"] == "2026-12-07T00:00:00+05:30"
    assert body["hours"][34]["arrivals"]["normal"] == 1.0  # Tuesday 10:00-10:59 local
    assert sum(x["arrivals"]["total"] for x in body["hours"]) == 1.0


NOW_UTC = datetime(2026, 12, 2, 0, 0, tzinfo=timezone.utc)
