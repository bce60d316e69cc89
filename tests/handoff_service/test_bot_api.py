"""Bot API extensions: idempotent case creation and timeline entries, PATCH of a
case (tier only upwards), and what GET tells the bot (status, result deadline)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select
from test_ws import _next

from handoff_service.app import create_app
from handoff_service.models import Case, CaseEvent

BODY = {"channel": "webchat", "conversation_id": "conv-k", "language": "zh", "category": "refund"}


async def _count(h, model, *where) -> int:
    async with h.deps.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


# ---------------------------------------------------------------- POST /api/bot/cases idempotency


async def test_create_with_repeated_idempotency_key_returns_the_same_case(h):
    status, first = await h.post("/api/bot/cases", h.bot, {**BODY, "idempotency_key": "conv-k:open:1"})
    assert status == 201 and first["idempotency_key"] == "conv-k:open:1"
    # a retry (even with other fields) gets the first case back, unchanged, with 200
    status, again = await h.post(
        "/api/bot/cases", h.bot, {**BODY, "category": "invoice", "idempotency_key": "conv-k:open:1"}
    )
    assert status == 200
    assert again["id"] == first["id"] and again["number"] == first["number"] and again["category"] == "refund"
    assert await _count(h, Case) == 1
    assert await _count(h, CaseEvent, CaseEvent.action == "created") == 1
    # the number counter was not advanced by the retry
    status, other = await h.post("/api/bot/cases", h.bot, {**BODY, "idempotency_key": "conv-k:open:2"})
    assert status == 201 and other["number"] == "C20261124-0002"
    # without a key every call opens a case
    status, plain = await h.post("/api/bot/cases", h.bot, BODY)
    assert status == 201 and plain["idempotency_key"] is None
    status, plain2 = await h.post("/api/bot/cases", h.bot, BODY)
    assert status == 201 and plain2["id"] != plain["id"]


async def test_idempotency_key_is_validated(h):
    for bad in ("", "k" * 129, 5):
        status, body = await h.post("/api/bot/cases", h.bot, {**BODY, "idempotency_key": bad})
        assert status == 400, bad
        assert body["error"]["details"]["field"] == "body.idempotency_key"
    status, _ = await h.post("/api/bot/cases", h.bot, {**BODY, "idempotency_key": "k" * 128})
    assert status == 201


async def test_concurrent_creates_with_one_key_end_with_one_case(h, aiohttp_client, settings, clock):
    other = await aiohttp_client(create_app(settings, clock=clock, run_background=False))
    clients = [h.client, other]

    async def create(i: int) -> tuple[int, dict]:
        resp = await clients[i % 2].post(
            "/api/bot/cases", headers=h.bot, json={**BODY, "conversation_id": f"c{i}", "idempotency_key": "same-key"}
        )
        return resp.status, await resp.json()

    results = await asyncio.gather(*(create(i) for i in range(20)))
    assert sorted(s for s, _ in results) == [200] * 19 + [201]
    assert len({body["id"] for _, body in results}) == 1
    assert await _count(h, Case) == 1
    assert await _count(h, CaseEvent) == 1
    status, nxt = await h.post("/api/bot/cases", h.bot, BODY)
    assert nxt["number"] == "C20261124-0002"  # no gap left by the 19 retries


# ---------------------------------------------------------------- POST timeline idempotency


async def test_timeline_entry_with_repeated_key_is_stored_once(h):
    case = await h.new_case()
    sam = await h.user("sam", role="supervisor")
    path = f"/api/bot/cases/{case['number']}/timeline"
    status, ack = await h.post(path, h.bot, {"action": "calm", "details": {"level": 2}, "idempotency_key": "step-1"})
    assert status == 201 and ack["action"] == "calm" and ack["case"] == case["number"]
    h.clock.advance(minutes=5)
    status, again = await h.post(path, h.bot, {"action": "calm", "details": {"level": 2}, "idempotency_key": "step-1"})
    assert status == 200 and again == ack  # the original acknowledgement, same time
    status, other = await h.post(path, h.bot, {"action": "clarify", "idempotency_key": "step-2"})
    assert status == 201 and other["at"] != ack["at"]
    # without a key, a repeat is a new entry
    for _ in range(2):
        status, _ = await h.post(path, h.bot, {"action": "negotiate"})
        assert status == 201
    events = await h.timeline(case["id"], sam)
    assert [e["action"] for e in events] == ["created", "calm", "clarify", "negotiate", "negotiate"]


async def test_timeline_key_is_per_case(h):
    a = await h.new_case()
    b = await h.new_case(conversation_id="conv-2")
    for case in (a, b):
        status, _ = await h.post(
            f"/api/bot/cases/{case['number']}/timeline", h.bot, {"action": "listen", "idempotency_key": "k1"}
        )
        assert status == 201
    assert await _count(h, CaseEvent, CaseEvent.action == "listen") == 2


async def test_concurrent_timeline_retries_add_one_entry(h, aiohttp_client, settings, clock):
    other = await aiohttp_client(create_app(settings, clock=clock, run_background=False))
    case = await h.new_case()
    clients = [h.client, other]

    async def post(i: int) -> int:
        resp = await clients[i % 2].post(
            f"/api/bot/cases/{case['number']}/timeline",
            headers=h.bot,
            json={"action": "confirm", "idempotency_key": "k"},
        )
        await resp.read()
        return resp.status

    statuses = await asyncio.gather(*(post(i) for i in range(12)))
    assert sorted(statuses) == [200] * 11 + [201]
    assert await _count(h, CaseEvent, CaseEvent.action == "confirm") == 1


# ---------------------------------------------------------------- GET /api/bot/cases/{number}?conversation_id=


async def test_a_case_is_read_only_by_the_conversation_that_opened_it(h):
    mine = await h.new_case(conversation_id="conv-mine")
    path = f"/api/bot/cases/{mine['number']}"
    status, read = await h.get(f"{path}?conversation_id=conv-mine", h.bot)
    assert status == 200 and read["number"] == mine["number"]
    # another conversation gets exactly what a case that does not exist gets
    status, other = await h.get(f"{path}?conversation_id=conv-other", h.bot)
    status_unknown, unknown = await h.get("/api/bot/cases/C20261124-0999?conversation_id=conv-other", h.bot)
    assert status == status_unknown == 404
    assert other["error"]["code"] == unknown["error"]["code"] == "case_not_found"
    assert other["error"]["message"].replace(mine["number"], "X") == unknown["error"]["message"].replace(
        "C20261124-0999", "X"
    )
    # prefixes, case changes and empty values are no way around it
    for bad in ("conv-min", "CONV-MINE", "conv-mine%20"):
        status, _ = await h.get(f"{path}?conversation_id={bad}", h.bot)
        assert status == 404, bad
    status, _ = await h.get(f"{path}?conversation_id=", h.bot)
    assert status == 400
    status, _ = await h.get(f"{path}?conversation_id={'c' * 129}", h.bot)
    assert status == 400


# ---------------------------------------------------------------- PATCH /api/bot/cases/{number}


async def test_patch_updates_fields_in_one_step_with_a_timeline_entry(h):
    sam = await h.user("sam", role="supervisor")
    case = await h.new_case(description="退款没有到账")
    status, out = await h.call(
        "PATCH",
        f"/api/bot/cases/{case['number']}",
        h.bot,
        {"category": "payment_issue", "description": "double charge on order A1", "language": "en"},
    )
    assert status == 200, out
    assert (out["category"], out["description"], out["language"]) == (
        "payment_issue",
        "double charge on order A1",
        "en",
    )
    assert out["version"] == case["version"] + 1
    events = await h.timeline(case["id"], sam)
    assert events[-1]["action"] == "updated" and events[-1]["actor_kind"] == "bot"
    assert events[-1]["details"] == {
        "category": {"from": "refund", "to": "payment_issue"},
        "description": {"from": "退款没有到账", "to": "double charge on order A1"},
        "language": {"from": "zh", "to": "en"},
    }
    _, fresh = await h.get(f"/api/bot/cases/{case['number']}", h.bot)
    assert fresh["category"] == "payment_issue"


async def test_patch_with_nothing_new_changes_nothing(h):
    sam = await h.user("sam", role="supervisor")
    case = await h.new_case()
    status, out = await h.call(
        "PATCH", f"/api/bot/cases/{case['number']}", h.bot, {"category": "refund", "tier": "normal"}
    )
    assert status == 200 and out["version"] == case["version"]
    assert [e["action"] for e in await h.timeline(case["id"], sam)] == ["created"]


async def test_patch_raises_tier_and_recomputes_deadlines(h):
    sam = await h.user("sam", role="supervisor")
    ws = await h.client.ws_connect("/api/ws", headers=sam)
    await _next(ws, "hello")
    created = h.clock.now()
    case = await h.queued_case()
    assert case["tier"] == "normal"
    h.clock.advance(minutes=10)
    status, out = await h.call("PATCH", f"/api/bot/cases/{case['number']}", h.bot, {"tier": "critical"})
    assert status == 200, out
    assert out["tier"] == "critical"
    # like change_tier: deadlines from the case's creation with the new tier's hours
    assert out["sla"]["first_response"]["due"] == (created + timedelta(hours=1)).isoformat()
    assert out["sla"]["result"]["due"] == (created + timedelta(hours=8)).isoformat()
    # the handoff's events first, then the update's
    ev = await _next(ws, "queue.changed")
    assert ev["case"]["tier"] == "normal"
    ev = await _next(ws, "case.updated")
    assert ev["case"]["number"] == case["number"] and ev["case"]["tier"] == "critical"
    ev = await _next(ws, "queue.changed")
    assert ev["case"]["tier"] == "critical"
    await ws.close()
    events = await h.timeline(case["id"], sam)
    assert events[-1]["action"] == "updated" and events[-1]["details"] == {"tier": {"from": "normal", "to": "critical"}}


async def test_patch_refuses_to_lower_the_tier(h):
    case = await h.new_case(tier="high")
    status, body = await h.call("PATCH", f"/api/bot/cases/{case['number']}", h.bot, {"tier": "normal", "category": "x"})
    assert status == 409 and body["error"]["code"] == "tier_lowering_not_allowed"
    _, fresh = await h.get(f"/api/bot/cases/{case['number']}", h.bot)
    assert fresh["tier"] == "high" and fresh["category"] == "refund"  # nothing changed


async def test_patch_bad_bodies_are_400(h):
    case = await h.new_case()
    path = f"/api/bot/cases/{case['number']}"
    for body in (
        {},
        {"priority": "high"},
        {"category": "x", "owner": "alice"},
        {"tier": "urgent"},
        {"description": "x" * 4001},
        {"language": "Chinese!"},
        {"category": ""},
        [],
    ):
        status, out = await h.call("PATCH", path, h.bot, body)
        assert status == 400, (body, out)
        assert out["error"]["code"] in ("invalid_field", "malformed_json")
    resp = await h.client.patch(path, headers={**h.bot, "Content-Type": "application/json"}, data=b"")
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "malformed_json"


async def test_patch_closed_case_is_409_and_route_is_bot_only(h, rasa):
    alice = await h.user("alice")
    case = await h.queued_case()
    await h.post(f"/api/cases/{case['id']}/accept", alice)
    await h.post(f"/api/cases/{case['id']}/resolve", alice, {"result": "done"})
    # resolved: still correctable
    status, _ = await h.call("PATCH", f"/api/bot/cases/{case['number']}", h.bot, {"category": "refund_status"})
    assert status == 200
    await h.post(f"/api/cases/{case['id']}/close", alice, {})
    status, body = await h.call("PATCH", f"/api/bot/cases/{case['number']}", h.bot, {"category": "other"})
    assert status == 409 and body["error"]["code"] == "case_closed"
    status, body = await h.call("PATCH", f"/api/bot/cases/{case['number']}", alice, {"category": "other"})
    assert status == 403 and body["error"]["code"] == "bot_only"
    status, body = await h.call("PATCH", "/api/bot/cases/C20260101-9999", h.bot, {"category": "other"})
    assert status == 404 and body["error"]["code"] == "case_not_found"


# ---------------------------------------------------------------- GET /api/bot/cases/{number}


async def test_get_case_tells_status_and_result_deadline(h):
    created = h.clock.now()
    case = await h.new_case(tier="high")
    status, out = await h.get(f"/api/bot/cases/{case['number']}", h.bot)
    assert status == 200
    assert out["status"] == "open"
    assert out["sla"]["result"] == {"due": (created + timedelta(hours=24)).isoformat(), "state": "pending"}
    await h.post(f"/api/bot/cases/{case['number']}/handoff", h.bot, {"summary": {"problem": "p"}})
    _, out = await h.get(f"/api/bot/cases/{case['number']}", h.bot)
    assert out["status"] == "queued"


async def test_openapi_documents_the_extensions(h):
    _, doc = await h.get("/api/openapi.json")
    create = doc["paths"]["/api/bot/cases"]["post"]["responses"]
    assert {"200", "201"} <= set(create)
    assert "200" in doc["paths"]["/api/bot/cases/{number}/timeline"]["post"]["responses"]
    patch = doc["paths"]["/api/bot/cases/{number}"]["patch"]
    assert patch["security"] == [{"botToken": []}] and "409" in patch["responses"]
    schema = doc["components"]["schemas"]["UpdateCase"]
    assert set(schema["properties"]) == {"category", "description", "tier", "language"}
    assert schema["additionalProperties"] is False and schema["minProperties"] == 1
    assert "idempotency_key" in doc["components"]["schemas"]["CreateCase"]["properties"]
    assert "idempotency_key" in doc["components"]["schemas"]["TimelineEntry"]["properties"]
