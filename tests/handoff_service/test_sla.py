"""Tier configuration, deadlines and the SLA monitor (with a fake clock)."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest

from handoff_service.core.config import DEFAULT_SLA_FILE
from handoff_service.core.tiers import SLAConfigError, load_sla, parse_sla


def _cfg(**tiers):
    return {"default_tier": "normal", "tiers": tiers}


NORMAL = {"rank": 3, "first_response_hours": 24, "result_hours": 48, "follow_up_hours": 24}


def test_default_file_follows_the_standard():
    sla = load_sla(DEFAULT_SLA_FILE)
    normal = sla.tier("normal")
    assert normal.first_response.total_seconds() == 24 * 3600
    assert normal.result.total_seconds() == 48 * 3600
    assert normal.follow_up.total_seconds() == 24 * 3600
    assert sla.names == ["critical", "high", "normal"]
    ranked = [sla.tier(n) for n in sla.names]
    for urgent, lesser in pairwise(ranked):
        assert urgent.first_response <= lesser.first_response and urgent.result <= lesser.result


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_cfg(normal={**NORMAL, "first_response_hours": 25}), "looser than the standard"),
        (_cfg(normal={**NORMAL, "result_hours": 72}), "looser than the standard"),
        (_cfg(normal=NORMAL, high={**NORMAL, "rank": 1, "result_hours": 47, "first_response_hours": 30}), "looser"),
        (
            _cfg(
                normal=NORMAL, high={"rank": 1, "first_response_hours": 4, "result_hours": 24, "follow_up_hours": 24.5}
            ),
            "looser",
        ),
        (
            _cfg(
                normal=NORMAL, high={"rank": 2, "first_response_hours": 30, "result_hours": 24, "follow_up_hours": 24}
            ),
            "looser",
        ),
        (_cfg(normal=NORMAL, high={**NORMAL, "rank": 3}), "unique"),
        (_cfg(normal={**NORMAL, "first_response_hours": 0}), "positive"),
        (_cfg(normal={**NORMAL, "extra": 1}), "unknown keys"),
        ({"default_tier": "gold", "tiers": {"normal": NORMAL}}, "default_tier"),
        ({"default_tier": "normal", "tiers": {}}, "non-empty"),
    ],
)
def test_invalid_configs_are_rejected(data, message):
    with pytest.raises(SLAConfigError, match=message):
        parse_sla(data)


def test_app_refuses_to_start_with_a_looser_tier(settings, tmp_path: Path):
    from handoff_service.app import create_app

    bad = tmp_path / "sla.yml"
    bad.write_text(
        "default_tier: normal\ntiers:\n  normal: {rank: 1, first_response_hours: 30, result_hours: 48, follow_up_hours: 24}\n"
    )
    with pytest.raises(SLAConfigError):
        create_app(settings.with_(sla_file=bad))


async def test_tiers_endpoint(h):
    alice = await h.user("alice")
    status, body = await h.get("/api/sla/tiers", alice)
    assert status == 200
    assert [t["name"] for t in body["tiers"]] == ["critical", "high", "normal"]
    assert body["tiers"][2]["result_hours"] == 48


async def _events(h, case_id, headers):
    return [e for e in await h.timeline(case_id, headers) if e["action"].startswith("sla_")]


async def test_warning_then_breach_escalates_to_supervisors_once(h):
    sup = await h.user("sam", role="supervisor")
    ws = await h.client.ws_connect("/api/ws", headers=sup)
    case = await h.queued_case()  # normal: first response due in 24 h
    monitor = h.deps.sla_monitor
    assert await monitor.run_once() == []
    h.clock.advance(hours=19)  # 80% of 24 h is 19.2 h: not yet
    assert await monitor.run_once() == []
    h.clock.advance(hours=1)
    [warn] = await monitor.run_once()
    assert warn["type"] == "sla.warning" and warn["deadline"] == "first_response"
    assert await monitor.run_once() == []  # not emitted twice
    h.clock.advance(hours=4, minutes=1)
    [breach] = await monitor.run_once()
    assert breach["type"] == "sla.breach" and breach["case"]["number"] == case["number"]
    _, fresh = await h.get(f"/api/cases/{case['id']}", sup)
    assert fresh["sla"]["first_response"]["state"] == "breached"
    assert fresh["sla"]["result"]["state"] == "pending"
    evs = await _events(h, case["id"], sup)
    assert [(e["action"], e["actor_kind"], e["details"]["deadline"]) for e in evs] == [
        ("sla_warning", "system", "first_response"),
        ("sla_breached", "system", "first_response"),
    ]
    got = []
    while len(got) < 2:
        data = json.loads((await ws.receive(timeout=5)).data)
        if data["type"].startswith("sla."):
            got.append(data["type"])
    assert got == ["sla.warning", "sla.breach"]
    await ws.close()


async def test_accepting_in_time_meets_first_response(h):
    alice = await h.user("alice")
    case = await h.queued_case(tier="critical")
    h.clock.advance(minutes=30)
    _, body = await h.post(f"/api/cases/{case['id']}/accept", alice)
    assert body["sla"]["first_response"]["state"] == "met"
    h.clock.advance(hours=2)
    emitted = await h.deps.sla_monitor.run_once()
    assert all(e["deadline"] != "first_response" for e in emitted)


async def test_late_accept_is_recorded_as_breached(h):
    alice = await h.user("alice")
    case = await h.queued_case(tier="critical")
    h.clock.advance(hours=2)
    _, body = await h.post(f"/api/cases/{case['id']}/accept", alice)
    assert body["sla"]["first_response"]["state"] == "breached"


async def test_result_and_follow_up_deadlines(h):
    alice = await h.user("alice")
    case = await h.queued_case(tier="high")  # result 24 h, follow-up 24 h
    await h.post(f"/api/cases/{case['id']}/accept", alice)
    h.clock.advance(hours=25)
    emitted = await h.deps.sla_monitor.run_once()
    assert [(e["type"], e["deadline"]) for e in emitted] == [("sla.breach", "result")]
    _, body = await h.post(f"/api/cases/{case['id']}/resolve", alice, {"result": "done late"})
    assert body["sla"]["result"]["state"] == "breached"
    assert body["sla"]["follow_up"]["state"] == "pending"
    h.clock.advance(hours=25)
    emitted = await h.deps.sla_monitor.run_once()
    assert [(e["type"], e["deadline"]) for e in emitted] == [("sla.breach", "follow_up")]


async def test_tier_change_moves_deadlines_and_rearms_warning(h):
    alice = await h.user("alice")
    case = await h.queued_case()
    await h.post(f"/api/cases/{case['id']}/accept", alice)
    h.clock.advance(hours=3)
    _, body = await h.post(f"/api/cases/{case['id']}/tier", alice, {"tier": "critical"})
    # critical: result within 8 h of creation -> 5 h left, warning at 6.4 h
    assert body["sla"]["result"]["state"] == "pending"
    h.clock.advance(hours=3, minutes=30)
    [warn] = await h.deps.sla_monitor.run_once()
    assert warn["deadline"] == "result" and warn["type"] == "sla.warning"


async def test_background_task_runs_from_cleanup_ctx(aiohttp_client, settings, clock, h):
    """The monitor started by the app (not called by hand) marks a breach."""
    from handoff_service.app import create_app
    from handoff_service.core.deps import DEPS

    case = await h.queued_case(tier="critical")
    clock.advance(hours=2)
    app = create_app(settings.with_(sla_interval_seconds=0.05), clock=clock)
    client = await aiohttp_client(app)
    deps = client.server.app[DEPS]
    import asyncio

    for _ in range(100):
        async with deps.engine.connect() as conn:
            from sqlalchemy import select

            from handoff_service.models import Case

            state = (await conn.execute(select(Case.sla_first_response).where(Case.id == case["id"]))).scalar_one()
        if state == "breached":
            break
        await asyncio.sleep(0.05)
    assert state == "breached"


async def test_stopping_ends_a_background_task_that_swallowed_its_cancellation():
    """The database driver can swallow a cancellation that arrives while it awaits a reply (seen on
    PostgreSQL: the SLA monitor went on looping and the app's shutdown waited forever). Stopping
    cancels again until the task has ended."""
    import asyncio

    from handoff_service.core.loops import stop_tasks

    swallowed = []

    async def monitor() -> None:
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed.append(True)  # as the driver did: the loop goes on

    loop = asyncio.get_running_loop()
    task = loop.create_task(monitor())
    await asyncio.sleep(0)
    stopping = loop.create_task(stop_tasks([task], every=0.05))
    done, _ = await asyncio.wait({stopping}, timeout=5)  # cancelling once, it would wait forever
    for t in (stopping, task):
        t.cancel()
    assert stopping in done and task.cancelled() and swallowed == [True]
