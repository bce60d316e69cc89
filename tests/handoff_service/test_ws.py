"""Staff websocket: Origin and authentication checks, and the events it carries."""

from __future__ import annotations

import json

import aiohttp
import pytest
from conftest import PASSWORD

ORIGIN = "http://127.0.0.1:8080"


async def _next(ws, type_: str, limit: int = 30) -> dict:
    for _ in range(limit):
        msg = await ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        data = json.loads(msg.data)
        if data["type"] == type_:
            return data
    raise AssertionError(f"no {type_} event")


async def _login(h, username: str) -> str:
    resp = await h.client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert resp.status == 200
    return (await resp.json())["csrf_token"]


async def test_bearer_client_gets_queue_and_message_events(h):
    alice = await h.user("alice")
    ws = await h.client.ws_connect("/api/ws", headers=alice)
    hello = await _next(ws, "hello")
    assert hello["user"] == "alice"
    case = await h.queued_case()
    ev = await _next(ws, "queue.changed")
    assert ev["case"]["number"] == case["number"] and ev["case"]["status"] == "queued"
    await h.post(f"/api/cases/{case['id']}/accept", alice)
    ev = await _next(ws, "queue.changed")
    assert ev["case"]["status"] == "in_progress" and ev["case"]["owner"]["username"] == "alice"
    await h.post(f"/api/bot/cases/{case['number']}/messages", h.bot, {"text": "are you there?"})
    ev = await _next(ws, "message.new")
    assert ev["message"]["text"] == "are you there?" and ev["case_id"] == case["id"]
    await ws.close()


async def test_agents_online_counts_connected_agents(h):
    alice = await h.user("alice")
    ws = await h.client.ws_connect("/api/ws", headers=alice)
    await _next(ws, "hello")
    case = await h.new_case()
    status, body = await h.post(f"/api/bot/cases/{case['number']}/handoff", h.bot, {"summary": {"problem": "p"}})
    assert status == 200 and body["agents_online"] == 1
    await ws.close()


async def test_other_agents_do_not_get_a_case_message(h):
    alice = await h.user("alice")
    bob = await h.user("bob")
    sup = await h.user("sam", role="supervisor")
    case = await h.queued_case()
    await h.post(f"/api/cases/{case['id']}/accept", alice)
    ws_bob = await h.client.ws_connect("/api/ws", headers=bob)
    ws_sup = await h.client.ws_connect("/api/ws", headers=sup)
    await _next(ws_bob, "hello")
    await _next(ws_sup, "hello")
    await h.post(f"/api/bot/cases/{case['number']}/messages", h.bot, {"text": "private"})
    ev = await _next(ws_sup, "message.new")
    assert ev["message"]["text"] == "private"
    # bob gets the next broadcast (a queue change) but never the message
    await h.queued_case(conversation_id="c2")
    msg = json.loads((await ws_bob.receive(timeout=5)).data)
    assert msg["type"] == "queue.changed"
    await ws_bob.close()
    await ws_sup.close()


async def test_session_cookie_with_allowed_origin(h):
    await h.user("alice")
    await _login(h, "alice")
    ws = await h.client.ws_connect("/api/ws", headers={"Origin": ORIGIN})
    assert (await _next(ws, "hello"))["user"] == "alice"
    await ws.close()


@pytest.mark.parametrize(
    ("origin", "code"),
    [("http://evil.example", "origin_not_allowed"), ("null", "origin_not_allowed"), (None, "origin_required")],
)
async def test_session_cookie_with_bad_or_missing_origin_is_refused(h, origin, code):
    await h.user("alice")
    await _login(h, "alice")
    headers = {"Origin": origin} if origin else {}
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await h.client.ws_connect("/api/ws", headers=headers)
    assert exc.value.status == 403
    resp = await h.client.get("/api/ws", headers={**headers, "Connection": "Upgrade", "Upgrade": "websocket"})
    assert (await resp.json())["error"]["code"] == code


async def test_bearer_with_disallowed_origin_is_refused(h):
    alice = await h.user("alice")
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await h.client.ws_connect("/api/ws", headers={**alice, "Origin": "https://evil.example"})
    assert exc.value.status == 403


async def test_unauthenticated_bot_and_trainer_are_refused(h):
    trainer = await h.user("tina", role="trainer")
    for headers, status in (({"Origin": ORIGIN}, 401), (h.bot, 403), (trainer, 403)):
        with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
            await h.client.ws_connect("/api/ws", headers=headers)
        assert exc.value.status == status


async def test_plain_get_without_upgrade_is_a_400(h):
    alice = await h.user("alice")
    status, body = await h.get("/api/ws", alice)
    assert status == 400 and body["error"]["code"] == "websocket_required"


async def test_fan_out_reaches_every_socket(h):
    sup = await h.user("sam", role="supervisor")
    sockets = [await h.client.ws_connect("/api/ws", headers=sup) for _ in range(50)]
    for ws in sockets:
        await _next(ws, "hello")
    case = await h.queued_case()
    for ws in sockets:
        ev = await _next(ws, "queue.changed")
        assert ev["case"]["number"] == case["number"]
    assert h.deps.hub.connections == 50
    for ws in sockets:
        await ws.close()


async def _closed(ws, timeout: float = 5) -> bool:
    """True once the server closes the socket (events before the close are skipped)."""
    while True:
        msg = await ws.receive(timeout=timeout)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            return True


async def test_logout_closes_the_sessions_websockets(h):
    await h.user("alice")
    csrf = await _login(h, "alice")
    ws = await h.client.ws_connect("/api/ws", headers={"Origin": ORIGIN})
    await _next(ws, "hello")
    resp = await h.client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert resp.status == 204
    assert await _closed(ws)
    assert ws.close_code == 4401
    await h.queued_case()  # nothing more reaches a logged-out console


async def test_a_revoked_token_loses_its_websocket(h):
    from sqlalchemy import select

    from handoff_service.models import ApiToken
    from handoff_service.staff.service import revoke_token

    alice = await h.user("alice")
    ws = await h.client.ws_connect("/api/ws", headers=alice)
    await _next(ws, "hello")
    async with h.deps.engine.connect() as conn:
        token_id = (await conn.execute(select(ApiToken.id).order_by(ApiToken.id.desc()))).scalar()
    assert await revoke_token(h.deps.engine, h.clock, token_id)  # from another process (the CLI)
    assert await _closed(ws, timeout=h.settings.auth_cache_seconds + 5)
    assert ws.close_code == 4401


async def test_deactivating_a_user_ends_their_tokens_sessions_and_websockets(h):
    from handoff_service.staff.service import deactivate_user

    alice = await h.user("alice")
    ws = await h.client.ws_connect("/api/ws", headers=alice)
    await _next(ws, "hello")
    csrf = await _login(h, "alice")
    assert (await h.get("/api/auth/me"))[0] == 200  # the session cookie works
    assert await deactivate_user(h.deps.engine, h.clock, "alice")
    assert await _closed(ws, timeout=h.settings.auth_cache_seconds + 5)
    assert ws.close_code == 4401
    assert (await h.get("/api/auth/me", alice))[0] == 401
    assert (await h.get("/api/auth/me"))[0] == 401
    resp = await h.client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert resp.status == 401 and csrf
