"""Each case use case through the HTTP API, from the app factory."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from handoff_service.models import Case, CaseEvent


async def test_create_case_gives_sequential_daily_numbers(h):
    a = await h.new_case()
    b = await h.new_case(conversation_id="conv-2")
    assert a["number"] == "C20261124-0001"
    assert b["number"] == "C20261124-0002"
    assert a["status"] == "open" and a["owner"] is None
    # the service day follows the configured zone (Asia/Shanghai): 16:00 UTC is the next day there
    h.clock.advance(hours=8)
    c = await h.new_case(conversation_id="conv-3")
    assert c["number"] == "C20261125-0001"


async def test_create_case_sets_sla_deadlines_from_tier(h):
    case = await h.new_case(tier="critical")
    created = h.clock.now()
    assert case["tier"] == "critical"
    assert case["sla"]["first_response"]["due"] == (created + timedelta(hours=1)).isoformat()
    assert case["sla"]["result"]["due"] == (created + timedelta(hours=8)).isoformat()
    default = await h.new_case(conversation_id="c2")
    assert default["tier"] == "normal"
    assert default["sla"]["first_response"]["due"] == (created + timedelta(hours=24)).isoformat()
    assert default["sla"]["result"]["due"] == (created + timedelta(hours=48)).isoformat()


async def test_full_lifecycle_owner_stays_and_every_step_is_in_the_timeline(h, rasa):
    alice = await h.user("alice")
    bob = await h.user("bob", team="billing")
    case = await h.queued_case()
    cid = case["id"]
    assert case["status"] == "queued"

    status, accepted = await h.post(f"/api/cases/{cid}/accept", alice)
    assert status == 200
    assert accepted["owner"]["username"] == "alice" and accepted["handler"]["username"] == "alice"

    status, moved = await h.post(f"/api/cases/{cid}/transfer", alice, {"to_agent": "bob", "note": "billing question"})
    assert status == 200, moved
    assert moved["owner"]["username"] == "alice" and moved["handler"]["username"] == "bob"

    status, done = await h.post(f"/api/cases/{cid}/resolve", bob, {"result": "refund re-issued"})
    assert status == 200, done
    assert done["status"] == "resolved" and done["result"] == "refund re-issued"
    assert done["owner"]["username"] == "alice"

    status, again = await h.post(f"/api/cases/{cid}/reopen", alice, {"reason": "customer says not received"})
    assert status == 200, again
    assert again["status"] == "in_progress"
    assert again["owner"]["username"] == "alice" and again["handler"]["username"] == "alice"
    assert again["reopen_count"] == 1

    events = await h.timeline(cid, alice)
    assert [e["action"] for e in events] == ["created", "request_handoff", "accept", "transfer", "resolve", "reopen"]
    # the owner is recorded on every step after the accept
    assert all(e["owner"]["username"] == "alice" for e in events[2:])
    assert [e["handler"]["username"] for e in events[2:]] == ["alice", "bob", "bob", "alice"]
    assert [e["actor_kind"] for e in events] == ["bot", "bot", "agent", "agent", "agent", "agent"]
    assert events[3]["details"]["to_agent"] == "bob"
    assert events[4]["status_from"] == "in_progress" and events[4]["status_to"] == "resolved"


async def test_transfer_to_team_then_claim(h):
    alice = await h.user("alice", team="l1")
    carol = await h.user("carol", team="l2")
    dave = await h.user("dave", team="l1")
    case = await h.queued_case()
    await h.post(f"/api/cases/{case['id']}/accept", alice)
    status, moved = await h.post(f"/api/cases/{case['id']}/transfer", alice, {"to_team": "l2"})
    assert status == 200, moved
    assert moved["status"] == "transferred" and moved["handler"] is None and moved["handler_team"] == "l2"
    assert moved["owner"]["username"] == "alice"
    # the team's queue shows it to carol, not to dave
    _, q = await h.get("/api/queue", carol)
    assert [c["number"] for c in q["cases"]] == [case["number"]]
    _, q = await h.get("/api/queue", dave)
    assert q["cases"] == []
    status, body = await h.post(f"/api/cases/{case['id']}/claim", dave)
    assert status == 403 and body["error"]["code"] == "not_in_team"
    status, claimed = await h.post(f"/api/cases/{case['id']}/claim", carol)
    assert status == 200
    assert claimed["handler"]["username"] == "carol" and claimed["owner"]["username"] == "alice"


async def test_transfer_needs_exactly_one_known_target(h):
    alice = await h.user("alice")
    case = await h.queued_case()
    await h.post(f"/api/cases/{case['id']}/accept", alice)
    status, body = await h.post(f"/api/cases/{case['id']}/transfer", alice, {})
    assert status == 400 and body["error"]["code"] == "invalid_transfer_target"
    status, body = await h.post(f"/api/cases/{case['id']}/transfer", alice, {"to_agent": "bob", "to_team": "x"})
    assert status == 400
    status, body = await h.post(f"/api/cases/{case['id']}/transfer", alice, {"to_agent": "nobody"})
    assert status == 404 and body["error"]["code"] == "unknown_agent"
    status, body = await h.post(f"/api/cases/{case['id']}/transfer", alice, {"to_team": "noteam"})
    assert status == 404 and body["error"]["code"] == "unknown_team"
    status, body = await h.post(f"/api/cases/{case['id']}/transfer", alice, {"to_agent": "alice"})
    assert status == 409 and body["error"]["code"] == "already_handler"


async def test_only_participants_may_transfer_resolve_reopen(h):
    alice = await h.user("alice")
    eve = await h.user("eve")
    sup = await h.user("sam", role="supervisor")
    case = await h.queued_case()
    cid = case["id"]
    await h.post(f"/api/cases/{cid}/accept", alice)
    status, body = await h.post(f"/api/cases/{cid}/transfer", eve, {"to_agent": "eve"})
    assert status == 403 and body["error"]["code"] == "not_case_participant"
    status, body = await h.post(f"/api/cases/{cid}/resolve", eve, {"result": "x"})
    assert status == 403 and body["error"]["code"] == "not_case_handler"
    # a supervisor may step in
    status, body = await h.post(f"/api/cases/{cid}/transfer", sup, {"to_agent": "eve"})
    assert status == 200 and body["handler"]["username"] == "eve" and body["owner"]["username"] == "alice"
    status, body = await h.post(f"/api/cases/{cid}/resolve", alice, {"result": "x"})
    assert status == 403 and body["error"]["code"] == "not_case_handler"  # the owner is no longer the handler


async def test_resolve_requires_a_result_text(h):
    alice = await h.user("alice")
    case = await h.queued_case()
    await h.post(f"/api/cases/{case['id']}/accept", alice)
    for body in ({}, {"result": ""}, {"result": "   "}, {"result": 5}):
        status, err = await h.post(f"/api/cases/{case['id']}/resolve", alice, body)
        assert status == 400, body
        assert err["error"]["code"] in ("invalid_field",)
    _, fresh = await h.get(f"/api/cases/{case['id']}", alice)
    assert fresh["status"] == "in_progress" and fresh["result"] is None


async def test_follow_up_solved_closes_not_solved_reopens_to_owner(h):
    alice = await h.user("alice")
    bob = await h.user("bob")
    one = await h.queued_case()
    two = await h.queued_case(conversation_id="conv-2")
    for c in (one, two):
        await h.post(f"/api/cases/{c['id']}/accept", alice)
        await h.post(f"/api/cases/{c['id']}/transfer", alice, {"to_agent": "bob"})
        status, _ = await h.post(f"/api/cases/{c['id']}/resolve", bob, {"result": "done"})
        assert status == 200
    status, closed = await h.post(f"/api/bot/cases/{one['number']}/follow-up", h.bot, {"solved": True})
    assert status == 200 and closed["status"] == "closed"
    assert closed["follow_up"]["solved"] is True and closed["sla"]["follow_up"]["state"] == "met"
    status, reopened = await h.post(
        f"/api/bot/cases/{two['number']}/follow-up", h.bot, {"solved": False, "comment": "still broken"}
    )
    assert status == 200
    assert reopened["status"] == "in_progress"
    assert reopened["owner"]["username"] == "alice" and reopened["handler"]["username"] == "alice"
    events = await h.timeline(two["id"], alice)
    assert [e["action"] for e in events][-2:] == ["follow_up", "reopen"]
    assert events[-1]["actor_kind"] == "bot"


async def test_close_by_owner_or_supervisor_only(h):
    alice = await h.user("alice")
    bob = await h.user("bob")
    case = await h.queued_case()
    await h.post(f"/api/cases/{case['id']}/accept", alice)
    await h.post(f"/api/cases/{case['id']}/transfer", alice, {"to_agent": "bob"})
    await h.post(f"/api/cases/{case['id']}/resolve", bob, {"result": "done"})
    status, body = await h.post(f"/api/cases/{case['id']}/close", bob, {})
    assert status == 403 and body["error"]["code"] == "not_case_owner"
    status, body = await h.post(f"/api/cases/{case['id']}/close", alice, {"note": "archived"})
    assert status == 200 and body["status"] == "closed" and body["closed_at"]


async def test_bot_resolves_open_case_and_reopen_goes_back_to_queue(h):
    sup = await h.user("sam", role="supervisor")
    case = await h.new_case()
    status, body = await h.post(
        f"/api/bot/cases/{case['number']}/resolve", h.bot, {"result": "answered by the assistant"}
    )
    assert status == 200 and body["status"] == "resolved" and body["owner"] is None
    status, body = await h.post(f"/api/cases/{case['id']}/reopen", sup, {"reason": "not solved"})
    assert status == 200 and body["status"] == "queued"


async def test_csat_after_resolution_credited_to_owner_and_last_handler(h):
    alice = await h.user("alice")
    bob = await h.user("bob")
    case = await h.queued_case()
    num = case["number"]
    status, body = await h.post(f"/api/bot/cases/{num}/csat", h.bot, {"overall": 5})
    assert status == 409 and body["error"]["code"] == "case_not_resolved"
    await h.post(f"/api/cases/{case['id']}/accept", alice)
    await h.post(f"/api/cases/{case['id']}/transfer", alice, {"to_agent": "bob"})
    await h.post(f"/api/cases/{case['id']}/resolve", bob, {"result": "ok"})
    status, body = await h.post(
        f"/api/bot/cases/{num}/csat", h.bot, {"overall": 4, "attitude": 5, "speed": 3, "solved": 4, "comment": "thanks"}
    )
    assert status == 200, body
    assert body["csat"]["overall"] == 4 and body["csat"]["speed"] == 3
    assert body["csat"]["owner"]["username"] == "alice" and body["csat"]["handler"]["username"] == "bob"
    status, body = await h.post(f"/api/bot/cases/{num}/csat", h.bot, {"overall": 1})
    assert status == 409 and body["error"]["code"] == "csat_already_recorded"
    status, body = await h.post(f"/api/bot/cases/{num}/csat", h.bot, {"overall": 6})
    assert status == 400


async def test_bot_reads_case_by_number_and_appends_timeline(h):
    alice = await h.user("alice", role="supervisor")  # a case still with the bot: not in any agent's sight
    case = await h.new_case()
    status, body = await h.post(
        f"/api/bot/cases/{case['number']}/timeline", h.bot, {"action": "calm", "details": {"emotion": "angry"}}
    )
    assert status == 201
    status, got = await h.get(f"/api/bot/cases/{case['number']}", h.bot)
    assert status == 200 and got["id"] == case["id"]
    events = await h.timeline(case["id"], alice)
    assert events[-1]["action"] == "calm" and events[-1]["actor_kind"] == "bot"
    assert events[-1]["details"] == {"emotion": "angry"}
    status, body = await h.get("/api/bot/cases/C20261124-9999", h.bot)
    assert status == 404 and body["error"]["code"] == "case_not_found"
    status, body = await h.get("/api/bot/cases/not-a-number", h.bot)
    assert status == 404


async def test_handoff_reports_queue_position_and_agents_online(h):
    case1 = await h.queued_case()
    case = await h.new_case(conversation_id="c2")
    status, body = await h.post(
        f"/api/bot/cases/{case['number']}/handoff", h.bot, {"summary": {"problem": "p"}, "tier": "critical"}
    )
    assert status == 200
    assert body["queue_position"] == 1  # critical jumps ahead of the normal case
    assert body["agents_online"] == 0
    assert body["case"]["tier"] == "critical"
    assert case1["status"] == "queued"


async def test_queue_orders_by_tier_then_deadline(h):
    alice = await h.user("alice")
    n1 = await h.queued_case(conversation_id="a")
    h.clock.advance(minutes=1)
    h1 = await h.queued_case(tier="high", conversation_id="b")
    h.clock.advance(minutes=1)
    c1 = await h.queued_case(tier="critical", conversation_id="c")
    h.clock.advance(minutes=1)
    h2 = await h.queued_case(tier="high", conversation_id="d")
    status, q = await h.get("/api/queue", alice)
    assert status == 200
    assert [c["number"] for c in q["cases"]] == [c1["number"], h1["number"], h2["number"], n1["number"]]
    assert [c["position"] for c in q["cases"]] == [1, 2, 3, 4]


async def test_tier_change_recomputes_deadlines(h):
    alice = await h.user("alice")
    case = await h.queued_case()
    created = case["created_at"]
    await h.post(f"/api/cases/{case['id']}/accept", alice)
    h.clock.advance(minutes=30)
    status, body = await h.post(f"/api/cases/{case['id']}/tier", alice, {"tier": "high", "reason": "VIP"})
    assert status == 200, body
    assert body["tier"] == "high"
    from datetime import datetime

    start = datetime.fromisoformat(created)
    assert body["sla"]["result"]["due"] == (start + timedelta(hours=24)).isoformat()
    events = await h.timeline(case["id"], alice)
    assert events[-1]["action"] == "tier_changed" and events[-1]["details"]["to"] == "high"
    status, body = await h.post(f"/api/cases/{case['id']}/tier", alice, {"tier": "high"})
    assert status == 409 and body["error"]["code"] == "tier_unchanged"
    status, body = await h.post(f"/api/cases/{case['id']}/tier", alice, {"tier": "urgent!"})
    assert status == 400


async def test_list_cases_filters(h):
    alice = await h.user("alice")
    a = await h.queued_case()
    await h.queued_case(conversation_id="x")
    await h.post(f"/api/cases/{a['id']}/accept", alice)
    _, mine = await h.get("/api/cases?mine=true", alice)
    assert [c["id"] for c in mine["cases"]] == [a["id"]]
    _, queued = await h.get("/api/cases?status=queued", alice)
    assert len(queued["cases"]) == 1
    status, _ = await h.get("/api/cases?status=bogus", alice)
    assert status == 400


async def test_failed_use_case_leaves_no_partial_rows(h, monkeypatch):
    """create_case writes the day counter, the case and a timeline entry in one
    transaction: a failure at the last step must leave none of them."""
    import handoff_service.cases.intake as cases_mod

    await h.new_case()

    async def boom(*a, **kw):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cases_mod, "append_event", boom)
    status, body = await h.post(
        "/api/bot/cases", h.bot, {"channel": "web", "conversation_id": "z", "language": "en", "category": "x"}
    )
    assert status == 500 and body["error"]["code"] == "internal_error"
    monkeypatch.undo()
    async with h.deps.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(Case))).scalar_one() == 1
        assert (await conn.execute(select(func.count()).select_from(CaseEvent))).scalar_one() == 1
    nxt = await h.new_case(conversation_id="y")
    assert nxt["number"] == "C20261124-0002"  # the counter increment was rolled back too
