"""The demo history (issue 28, "Done when"): every case follows the real state machine with
ordered times, the first accepted agent stays owner, SLA states agree with the times, the same
seed gives the same data, a database with real cases is refused without --force, and
--remove takes the demo rows out again."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handoff_service.cases.models import Case, CaseEvent
from handoff_service.cases.states import CASE_NUMBER_PATTERN, QUEUED, TRANSITIONS
from handoff_service.core.orm import table_of
from handoff_service.core.tiers import load_sla
from handoff_service.demo import service as demo
from handoff_service.demo.generator import Agent, Options, generate
from handoff_service.followups.models import FollowUpVisit
from handoff_service.messages.models import Message
from handoff_service.staff.models import StaffUser

ROOT = Path(__file__).resolve().parents[2]
SLA = load_sla(ROOT / "handoff_service" / "sla.yml")
ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=timezone.utc)  # Monday 14:00 in Shanghai
AGENTS = [Agent(i, f"demo-agent-{i}", ("demo-aftersales", "demo-billing", "demo-general")[i % 3]) for i in range(1, 9)]
C, EV, M, V = table_of(Case), table_of(CaseEvent), table_of(Message), table_of(FollowUpVisit)
U = table_of(StaffUser)


def _opts(seed=42, cases=1500, weeks=2, now=NOW, detail="standard"):
    return Options(seed=seed, now=now, days=7 * weeks, cases=cases, zone=ZONE, sla=SLA, detail=detail)


def _transition(ev):
    """The state machine's action behind a timeline entry (the timeline writes `transfer` and
    `reopen` for several of them)."""
    action = ev["action"]
    if action == "transfer":
        return "transfer_team" if "to_team" in ev["details"] else "transfer_agent"
    if action == "reopen":
        if ev["status_to"] == QUEUED:
            return "reopen_unowned"
        return "reopen_to_team" if "to_team" in ev["details"] else "reopen"
    return action


@pytest.fixture(scope="module", params=["standard", "full"])
def cases(request):
    return list(generate(_opts(detail=request.param), AGENTS))


def test_every_sequence_is_valid_under_the_state_machine(cases):
    assert len(cases) == 1500
    seen = set()
    for c in cases:
        status = None
        for ev in c.events:
            if ev["status_from"] is None:
                assert ev["status_to"] == status or (status is None and ev["action"] == "created"), (
                    c.row["number"],
                    ev,
                )
            else:
                assert ev["status_from"] == status, (c.row["number"], ev)
                assert TRANSITIONS[(status, _transition(ev))] == ev["status_to"], (c.row["number"], ev)
                seen.add(_transition(ev))
            status = ev["status_to"]
        assert c.row["status"] == status
        assert c.events[-1]["owner_id"] == c.row["owner_id"]
        assert c.events[-1]["handler_id"] == c.row["handler_id"]
        assert re.match(CASE_NUMBER_PATTERN, c.row["number"]) and c.row["number"][10] == "9"
    # the whole machine is exercised (reopen_to_team: the owner's presence is not simulated)
    assert seen >= {"request_handoff", "accept", "transfer_agent", "transfer_team", "claim", "resolve"}
    assert seen >= {"reopen", "reopen_unowned", "close"}


def test_times_are_ordered_and_before_now(cases):
    start = NOW - timedelta(weeks=2)
    for c in cases:
        times = [e["at"] for e in c.events] + [m["created_at"] for m in c.messages]
        assert all(start <= t <= NOW for t in times)
        ats = [e["at"] for e in c.events]
        assert ats == sorted(ats), c.row["number"]
        assert ats[0] == c.row["created_at"]
        msgs = [m["created_at"] for m in c.messages]
        assert msgs == sorted(msgs)
    numbers = [c.row["number"] for c in cases]
    assert len(set(numbers)) == len(numbers)


def test_the_first_accepted_agent_stays_owner(cases):
    accepted = 0
    for c in cases:
        first = next((e for e in c.events if e["action"] == "accept"), None)
        if first is None:
            assert c.row["owner_id"] is None
            continue
        accepted += 1
        after = c.events[c.events.index(first) :]
        assert {e["owner_id"] for e in after} == {first["owner_id"]}
        assert c.row["owner_id"] == first["owner_id"] == first["handler_id"]
        assert first["details"] == {"owner": next(a.username for a in AGENTS if a.id == first["owner_id"])}
    assert accepted > 300


def test_sla_states_agree_with_the_times(cases):
    checked = 0
    for c in cases:
        r = c.row
        tier = SLA.tier(r["tier"])
        assert r["first_response_due"] == r["created_at"] + tier.first_response
        if r["reopen_count"]:
            continue
        accept = next((e for e in c.events if e["action"] == "accept"), None)
        bot_resolve = next((e for e in c.events if e["action"] == "resolve" and e["actor_kind"] == "bot"), None)
        done = accept or bot_resolve
        if done is not None:
            assert r["sla_first_response"] == ("met" if done["at"] <= r["first_response_due"] else "breached")
            checked += 1
        elif r["status"] == QUEUED:
            warn = SLA.warn_at(r["created_at"], r["first_response_due"])
            want = "breached" if NOW >= r["first_response_due"] else "warning" if NOW >= warn else "pending"
            assert r["sla_first_response"] == want
        if r["resolved_at"] is not None:
            assert r["sla_result"] == ("met" if r["resolved_at"] <= r["result_due"] else "breached")
            assert r["follow_up_due"] == r["resolved_at"] + tier.follow_up
        # a breach is on the timeline at the deadline, only when the step was not done in time
        for ev in c.events:
            if ev["action"] == "sla_breached" and ev["details"]["deadline"] == "first_response":
                assert ev["at"] == r["first_response_due"] and r["sla_first_response"] == "breached"
    assert checked > 1000
    states = {c.row["sla_first_response"] for c in cases}
    assert {"met", "breached"} <= states  # night-time handoffs of the 1 h tier are late


def test_no_demo_visit_is_left_for_the_scheduler_to_send(cases):
    """A running service would ask Rasa to reach every visit still scheduled or sent; demo
    conversations exist nowhere, so visits the history leaves open wait on the phone list."""
    states = [v["state"] for c in cases for v in c.visits]
    assert "to_call" in states and not {"scheduled", "sent"} & set(states)
    waiting = [v for c in cases for v in c.visits if v["state"] == "to_call" and v["answered_at"] is None]
    assert waiting and all(v["next_attempt_at"] is None for v in waiting)


def test_same_seed_same_data_other_seed_other_data():
    a = [(c.row, c.events, c.messages, c.visits) for c in generate(_opts(cases=200), AGENTS)]
    b = [(c.row, c.events, c.messages, c.visits) for c in generate(_opts(cases=200), AGENTS)]
    other = [(c.row, c.events) for c in generate(_opts(seed=7, cases=200), AGENTS)]
    assert a == b
    assert [x[:2] for x in a] != other


def test_full_detail_says_more():
    """--detail full (the KPI benchmark's): more than 10 timeline entries a case over a long
    history, with the agents' private notes and the bot's corrections of its first category."""
    opts = {"cases": 3000, "weeks": 17}
    standard = list(generate(_opts(**opts), AGENTS))
    full = list(generate(_opts(**opts, detail="full"), AGENTS))
    per_case = {name: sum(len(c.events) for c in cs) / len(cs) for name, cs in (("s", standard), ("f", full))}
    assert 9 < per_case["s"] < 10 and per_case["f"] > 10.3, per_case
    assert sum(len(c.messages) for c in full) > 1.2 * sum(len(c.messages) for c in standard)
    names = {a.username: a.id for a in AGENTS}
    notes = [e for c in full for e in c.events if e["action"] == "note"]
    assert len(notes) > 0.8 * len(full) and not any(e["action"] == "note" for c in standard for e in c.events)
    for ev in notes:  # by the case's handler, text only, no change of status
        assert ev["actor_kind"] == "agent" and names[ev["actor_id"]] == ev["handler_id"]
        assert ev["status_from"] is None and set(ev["details"]) == {"text"}
    updated = [c for c in full if any(e["action"] == "updated" for e in c.events)]
    assert 0.15 * len(full) < len(updated) < 0.3 * len(full)
    for c in updated:
        created, ev = c.events[0], next(e for e in c.events if e["action"] == "updated")
        assert ev["details"] == {"category": {"from": created["details"]["category"], "to": c.row["category"]}}
        assert ev["details"]["category"]["from"] != c.row["category"]


def test_arrival_pattern_busy_evenings_quiet_weekends():
    rows = [c.row for c in generate(_opts(cases=6000, weeks=4), AGENTS)]
    local = [r["created_at"].astimezone(ZONE) for r in rows]
    evening = sum(1 for t in local if 19 <= t.hour < 22) / 3
    night = sum(1 for t in local if 2 <= t.hour < 5) / 3
    weekday = sum(1 for t in local if t.weekday() < 5) / 5
    weekend = sum(1 for t in local if t.weekday() >= 5) / 2
    assert evening > 8 * night
    assert weekday > 1.3 * weekend
    assert {r["language"] for r in rows} == {"zh", "en"}
    assert {r["channel"] for r in rows} == {"socketio", "callback"}
    assert {r["tier"] for r in rows} == {"critical", "high", "normal"}


async def _count(engine, table, where=None):
    async with engine.begin() as conn:
        q = select(func.count()).select_from(table)
        return (await conn.execute(q if where is None else q.where(where))).scalar_one()


async def test_write_refuse_force_remove(h):
    engine = h.deps.engine
    summary = await demo.write(engine, _opts(cases=150, weeks=1), agents=4)
    assert summary["cases"] == 150 and summary["events"] == await _count(engine, EV)
    assert summary["messages"] == await _count(engine, M)
    # the timeline's visit ids point at the visits written
    async with engine.begin() as conn:
        visit_ids = set((await conn.execute(select(V.c.id))).scalars())
        refs = {
            r.details["visit"]
            for r in await conn.execute(select(EV.c.details).where(EV.c.action == "follow_up_scheduled"))
        }
    assert refs == visit_ids and visit_ids
    # a demo agent cannot log in
    status, body = await h.post("/api/auth/login", json={"username": "demo-agent-1", "password": "x" * 12})
    assert status == 401
    # writing again replaces the demo history
    again = await demo.write(engine, _opts(cases=100, weeks=1), agents=4)
    assert again["replaced"] == 150 and await _count(engine, C) == 100
    # a real case: refused without force
    real = await h.new_case(conversation_id="real-customer-1")
    with pytest.raises(demo.DemoRefused):
        await demo.write(engine, _opts(cases=50, weeks=1), agents=4)
    assert await _count(engine, C) == 101
    forced = await demo.write(engine, _opts(cases=50, weeks=1), agents=4, force=True)
    assert forced["cases"] == 50 and await _count(engine, C) == 51
    removed = await demo.remove(engine)
    assert removed["cases"] == 50 and removed["agents"] == 4
    assert await _count(engine, C) == 1
    status, case = await h.get(f"/api/bot/cases/{real['number']}", h.bot)
    assert status == 200 and case["number"] == real["number"]
    # the timeline is append-only again after the removal
    from sqlalchemy import delete
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError):
        async with engine.begin() as conn:
            await conn.execute(delete(EV))


async def test_written_rows_read_back_as_generated(h):
    """The bulk write (ids reserved, values bound by the columns' own processors, the driver's
    executemany) stores what the generator made, handed to existing staff (the benchmark's way)."""
    staff = []
    for i, team in enumerate(("team0", "team1", "team0")):
        await h.user(f"agent{i}", "agent", team=team)
        staff.append(Agent(h.ids[f"agent{i}"], f"agent{i}", team))
    opts = _opts(cases=150, weeks=1, detail="full")
    summary = await demo.write(h.deps.engine, opts, agents=staff)
    made = list(generate(opts, staff))
    assert summary["agents"] == ["agent0", "agent1", "agent2"]
    assert summary["visits"] == sum(len(c.visits) for c in made) == await _count(h.deps.engine, V)
    async with h.deps.engine.begin() as conn:
        rows = (await conn.execute(select(C).order_by(C.c.id))).mappings().all()
        events = (await conn.execute(select(EV).order_by(EV.c.id))).mappings().all()
        messages = (await conn.execute(select(M).order_by(M.c.id))).mappings().all()
        visits = (await conn.execute(select(V).order_by(V.c.id))).mappings().all()
        demo_users = (await conn.execute(select(func.count()).where(U.c.username.like("demo-agent-%")))).scalar()
    assert demo_users == 0
    assert [r["number"] for r in rows] == [c.row["number"] for c in made]
    for r, c in zip(rows, made, strict=True):
        assert {k: r[k] for k in c.row if k != "id"} == {k: v for k, v in c.row.items() if k != "id"}, r["number"]
    visit_id = {}  # (case id, the visit's place in its case) -> visit id
    for v in visits:
        visit_id[(v["case_id"], sum(1 for k in visit_id if k[0] == v["case_id"]))] = v["id"]

    def details(case_id, e):
        return e["details"] if "_visit" not in e else {**e["details"], "visit": visit_id[(case_id, e["_visit"])]}

    assert [(e["case_id"], e["at"], e["action"], e["status_to"], e["owner_id"], e["details"]) for e in events] == [
        (r["id"], e["at"], e["action"], e["status_to"], e["owner_id"], details(r["id"], e))
        for r, c in zip(rows, made, strict=True)
        for e in c.events
    ]
    assert [(m["case_id"], m["created_at"], m["author_id"], m["text"]) for m in messages] == [
        (r["id"], m["created_at"], m["author_id"], m["text"])
        for r, c in zip(rows, made, strict=True)
        for m in c.messages
    ]
    assert [(v["case_id"], v["cycle"], v["state"], v["due_at"]) for v in visits] == [
        (r["id"], v["cycle"], v["state"], v["due_at"]) for r, c in zip(rows, made, strict=True) for v in c.visits
    ]
    # demo agents in more teams than the three named ones
    await demo.remove(h.deps.engine)
    await demo.write(h.deps.engine, _opts(cases=20, weeks=1), agents=6, teams=5)
    async with h.deps.engine.begin() as conn:
        teams = dict((await conn.execute(select(U.c.username, U.c.team).where(U.c.username.like("demo-%")))).all())
    assert demo.team_names(5)[3:] == ["demo-team-4", "demo-team-5"]
    assert [teams[f"demo-agent-{i}"] for i in range(1, 7)] == [*demo.team_names(5), "demo-aftersales"]


async def test_forecast_over_demo_history(h):
    sup = await h.user("sam", "supervisor")
    await demo.write(h.deps.engine, _opts(cases=2000, weeks=4), agents=6)
    h.clock.set(NOW)
    status, body = await h.get("/api/staffing/forecast", sup)
    assert status == 200, body
    hours = body["hours"]
    evening = sum(x["arrivals"]["total"] for x in hours if 19 <= x["hour"] < 22)
    night = sum(x["arrivals"]["total"] for x in hours if 2 <= x["hour"] < 5)
    assert evening > 5 * night
    assert body["handle_time"]["normal"]["measured"] is True
    assert 120 < body["handle_time"]["all"]["seconds"] < 3600
    assert max(x["agents_needed"]["total"] for x in hours) >= 2


def test_cli_refuses_a_real_database_without_force(db_url, tmp_path):
    env = {**os.environ, "HANDOFF_DATABASE_URL": db_url, "PYTHONWARNINGS": "ignore"}
    run = [sys.executable, "-m", "handoff_service", "demo-data", "--cases", "30", "--weeks", "1", "--agents", "3"]
    run += ["--now", "2026-12-07T06:00:00+00:00"]
    first = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert '"cases": 30' in first.stdout
    # a real case arrives (an ordinary number, an ordinary conversation)
    import asyncio

    from handoff_service.core.db import build_engine

    async def add_real() -> None:
        engine = build_engine(db_url, pool_size=1)
        async with engine.begin() as conn:
            row = (await conn.execute(select(C).limit(1))).mappings().one()
            await conn.execute(
                C.insert(),
                {**{k: v for k, v in row.items() if k != "id"}, "number": "C20261207-0001", "conversation_id": "abc"},
            )
        await engine.dispose()

    asyncio.run(add_real())
    refused = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert "not demo cases" in refused.stderr and "--force" in refused.stderr
    more = ["--days", "10", "--detail", "full", "--teams", "2"]
    forced = subprocess.run([*run, "--force", *more], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert forced.returncode == 0, forced.stderr
    assert '"visits": ' in forced.stdout
    too_many = subprocess.run([*run, "--teams", "4"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert too_many.returncode != 0 and "--teams" in too_many.stderr
    removed = subprocess.run([*run[:4], "--remove"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert removed.returncode == 0 and '"cases": 30' in removed.stdout
