"""The supervisor's live board (GET /api/board) and the one-click acknowledgement of an escalated
deadline (POST /api/cases/{id}/escalations/ack): content with a breached case (the SLA monitor on a
moved clock), idempotency, the timeline entry, the live event, and supervisors only."""

from __future__ import annotations

import pytest
from conftest import PASSWORD
from test_ws import _next

OUTAGE = {
    "title": {"zh": "支付异常", "en": "Payment trouble"},
    "message": {"zh": "部分用户付款失败。", "en": "Some payments fail."},
    "topics": ["payment"],
}


async def test_the_board_shows_queue_staff_breached_deadline_and_outages(h):
    sam = await h.user("sam", role="supervisor")
    alice = await h.user("alice", team="l1")
    await h.user("bob", team="l2")
    await h.user("tina", role="trainer")
    ws = await h.client.ws_connect("/api/ws", headers=alice)  # alice has the console open
    urgent = await h.queued_case(tier="critical", conversation_id="c-urgent")  # first response within 1 h
    normal = await h.queued_case(conversation_id="c-normal")  # 24 h
    taken = await h.queued_case(conversation_id="c-taken")
    status, _ = await h.post(f"/api/cases/{taken['id']}/accept", alice)
    assert status == 200
    status, _ = await h.post("/api/outages", sam, OUTAGE)
    assert status == 201
    h.clock.advance(hours=2)
    emitted = await h.deps.sla_monitor.run_once()
    assert [(e["type"], e["case"]["number"]) for e in emitted] == [("sla.breach", urgent["number"])]

    status, board = await h.get("/api/board", sam)
    assert status == 200, board
    tiers = {t["tier"]: t for t in board["queue"]["tiers"]}
    assert [t["tier"] for t in board["queue"]["tiers"]] == ["critical", "high", "normal"]
    assert board["queue"]["total"] == 2
    assert tiers["critical"]["count"] == 1 and tiers["high"]["count"] == 0 and tiers["high"]["cases"] == []
    assert tiers["critical"]["oldest_wait_seconds"] == 7200
    [card] = tiers["critical"]["cases"]
    assert card["number"] == urgent["number"] and card["wait_seconds"] == 7200 and card["status"] == "queued"
    assert card["summary"]["problem"] == "refund missing"  # the console's case card
    assert [c["number"] for c in tiers["normal"]["cases"]] == [normal["number"]]

    people = {u["username"]: u for u in board["staff"]}
    assert "tina" not in people  # trainers work no cases
    assert people["alice"]["online"] is True and people["alice"]["consoles"] == 1
    assert (people["alice"]["handling"], people["alice"]["owned_open"]) == (1, 1)
    assert people["bob"]["online"] is False and people["bob"]["handling"] == 0
    assert board["staff"][0]["username"] == "alice"  # who is online first

    [dl] = board["deadlines"]
    assert dl["case"]["number"] == urgent["number"]
    assert (dl["deadline"], dl["state"], dl["acknowledgement"]) == ("first_response", "breached", None)
    assert dl["due"] == urgent["sla"]["first_response"]["due"]
    [notice] = board["outages"]
    assert notice["title"]["en"] == "Payment trouble" and notice["status"] == "investigating"
    await ws.close()


async def test_acknowledging_is_one_timeline_entry_audited_and_pushed_live(h):
    sam = await h.user("sam", role="supervisor")
    await h.user("pat", role="supervisor")
    pat = await h.user("pat2", role="supervisor")
    ws = await h.client.ws_connect("/api/ws", headers=sam)
    await _next(ws, "hello")
    case = await h.queued_case(tier="critical")
    h.clock.advance(hours=2)
    await h.deps.sla_monitor.run_once()
    ack_at = h.clock.now()

    status, ack = await h.post(f"/api/cases/{case['id']}/escalations/ack", sam, {"deadline": "first_response"})
    assert status == 201, ack
    assert ack["by"]["username"] == "sam" and ack["at"] == ack_at.isoformat()
    assert (ack["deadline"], ack["state"], ack["number"]) == ("first_response", "breached", case["number"])
    event = await _next(ws, "sla.acknowledged")
    assert event["case_id"] == case["id"] and event["acknowledgement"]["event_id"] == ack["event_id"]

    # again, by anyone: the first acknowledgement, no new entry
    h.clock.advance(minutes=5)
    for who in (sam, pat):
        status, again = await h.post(f"/api/cases/{case['id']}/escalations/ack", who, {"deadline": "first_response"})
        assert status == 200 and again == ack
    acks = [e for e in await h.timeline(case["id"], sam) if e["action"] == "escalation_acknowledged"]
    assert len(acks) == 1
    assert acks[0]["actor_id"] == "sam" and acks[0]["actor_kind"] == "agent"
    assert acks[0]["details"] == {
        "deadline": "first_response",
        "due": case["sla"]["first_response"]["due"],
        "state": "breached",
    }

    _, board = await h.get("/api/board", sam)
    [dl] = board["deadlines"]
    assert dl["acknowledgement"]["by"]["username"] == "sam" and dl["acknowledgement"]["at"] == ack_at.isoformat()

    _, log = await h.get("/api/audit?action=case.escalation_acknowledged", sam)
    [entry] = log["entries"]
    assert entry["actor"] == "sam" and entry["target_id"] == case["number"] and entry["outcome"] == "ok"
    await ws.close()


async def test_a_warning_and_the_later_breach_are_two_escalations(h):
    sam = await h.user("sam", role="supervisor")
    case = await h.queued_case()  # normal: first response within 24 h, warning from 19.2 h
    h.clock.advance(hours=20)
    await h.deps.sla_monitor.run_once()
    status, warn = await h.post(f"/api/cases/{case['id']}/escalations/ack", sam, {"deadline": "first_response"})
    assert status == 201 and warn["state"] == "warning"
    h.clock.advance(hours=5)
    await h.deps.sla_monitor.run_once()
    _, board = await h.get("/api/board", sam)
    assert board["deadlines"][0]["state"] == "breached" and board["deadlines"][0]["acknowledgement"] is None
    status, breach = await h.post(f"/api/cases/{case['id']}/escalations/ack", sam, {"deadline": "first_response"})
    assert status == 201 and breach["state"] == "breached" and breach["event_id"] != warn["event_id"]


async def test_a_deadline_not_escalated_is_a_clear_409_and_audited(h):
    sam = await h.user("sam", role="supervisor")
    case = await h.queued_case()
    status, err = await h.post(f"/api/cases/{case['id']}/escalations/ack", sam, {"deadline": "result"})
    assert status == 409 and err["error"]["code"] == "deadline_not_escalated"
    assert err["error"]["details"] == {"deadline": "result", "state": "pending"}
    status, err = await h.post("/api/cases/999/escalations/ack", sam, {"deadline": "result"})
    assert status == 404 and err["error"]["code"] == "case_not_found"
    status, err = await h.post(f"/api/cases/{case['id']}/escalations/ack", sam, {"deadline": "lunch"})
    assert status == 400 and err["error"]["code"] == "invalid_field"
    _, log = await h.get("/api/audit?outcome=denied", sam)
    assert [(e["action"], e["details"]["code"]) for e in log["entries"]] == [
        ("acknowledge_escalation", "deadline_not_escalated")
    ]
    assert not [e for e in await h.timeline(case["id"], sam) if e["action"] == "escalation_acknowledged"]


NEW_ROUTES = [
    ("GET", "/api/board", None),
    ("POST", "/api/cases/{id}/escalations/ack", {"deadline": "first_response"}),
    ("GET", "/api/audit", None),
    ("GET", "/api/audit/export", None),
]


@pytest.mark.parametrize("role", ["agent", "trainer"])
@pytest.mark.parametrize(("method", "path", "body"), NEW_ROUTES, ids=[p for _, p, _ in NEW_ROUTES])
async def test_agents_and_trainers_are_refused_and_the_refusal_is_audited(h, role, method, path, body):
    sam = await h.user("sam", role="supervisor")
    who = await h.user("someone", role=role, team="l1" if role == "agent" else None)
    case = await h.queued_case(tier="critical")
    h.clock.advance(hours=2)
    await h.deps.sla_monitor.run_once()  # an escalation there is to acknowledge
    url = path.replace("{id}", str(case["id"]))
    status, err = await h.call(method, url, who, body)
    assert status == 403 and err["error"]["code"] == "wrong_role", err
    _, log = await h.get("/api/audit?outcome=denied&actor=someone", sam)
    assert [(e["target_id"], e["details"]["code"]) for e in log["entries"]] == [(url, "wrong_role")]
    assert not [e for e in await h.timeline(case["id"], sam) if e["action"] == "escalation_acknowledged"]


async def test_supervisors_hear_who_comes_online_and_goes(h):
    sam = await h.user("sam", role="supervisor")
    alice = await h.user("alice")
    ws = await h.client.ws_connect("/api/ws", headers=sam)
    await _next(ws, "hello")
    own = await _next(ws, "presence.changed")  # sam's own console first
    assert own == {"type": "presence.changed", "user": "sam", "online": True}
    ws_alice = await h.client.ws_connect("/api/ws", headers=alice)
    came = await _next(ws, "presence.changed")
    assert came == {"type": "presence.changed", "user": "alice", "online": True}
    await ws_alice.close()
    went = await _next(ws, "presence.changed")
    assert went == {"type": "presence.changed", "user": "alice", "online": False}
    await ws.close()


async def test_the_console_session_of_a_supervisor_acknowledges_with_csrf(h):
    await h.user("sam", role="supervisor")
    case = await h.queued_case(tier="critical")
    h.clock.advance(hours=2)
    await h.deps.sla_monitor.run_once()
    resp = await h.client.post("/api/auth/login", json={"username": "sam", "password": PASSWORD})
    csrf = (await resp.json())["csrf_token"]
    url = f"/api/cases/{case['id']}/escalations/ack"
    status, err = await h.post(url, {}, {"deadline": "first_response"})
    assert status == 403 and err["error"]["code"] == "csrf_failed"
    status, ack = await h.post(url, {"X-CSRF-Token": csrf}, {"deadline": "first_response"})
    assert status == 201 and ack["by"]["username"] == "sam"


async def test_supervisors_clicking_together_make_one_acknowledgement(h):
    import asyncio

    sam = await h.user("sam", role="supervisor")
    pat = await h.user("pat", role="supervisor")
    case = await h.queued_case(tier="critical")
    h.clock.advance(hours=2)
    await h.deps.sla_monitor.run_once()
    url = f"/api/cases/{case['id']}/escalations/ack"
    answers = await asyncio.gather(*(h.post(url, who, {"deadline": "first_response"}) for who in [sam, pat] * 5))
    assert sorted(status for status, _ in answers) == [200] * 9 + [201]
    assert len({body["event_id"] for _, body in answers}) == 1
    acks = [e for e in await h.timeline(case["id"], sam) if e["action"] == "escalation_acknowledged"]
    assert len(acks) == 1
    _, log = await h.get("/api/audit?action=case.escalation_acknowledged", sam)
    assert len(log["entries"]) == 1
