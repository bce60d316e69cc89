"""Live events for staff over a websocket (queue changes, messages, SLA warnings)."""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import WSMsgType, web

from handoff_service.core.deps import DEPS
from handoff_service.core.errors import DomainError, Forbidden
from handoff_service.core.http import AGENTS, RouteTable, principal
from handoff_service.core.hub import CLOSE_SHUTDOWN, CLOSE_SIGNED_OUT, CLOSE_TOO_SLOW, Subscriber

from .service import presence

routes = RouteTable()
_CLOSE_REASONS = {CLOSE_TOO_SLOW: b"dropped", CLOSE_SHUTDOWN: b"shutdown", CLOSE_SIGNED_OUT: b"signed out"}


async def _send_loop(ws: web.WebSocketResponse, sub: Subscriber) -> None:
    while True:
        data = await sub.queue.get()
        if data is None:
            await ws.close(code=sub.close_code, message=_CLOSE_REASONS.get(sub.close_code, b"closed"))
            return
        await ws.send_str(data)


@routes.get(
    "/api/ws",
    summary="Websocket of live events for agents and supervisors (Origin must be allowed)",
    tag="live",
    auth=AGENTS,
    websocket=True,
    errors=(400, 401, 403),
)
async def live_events(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    p = principal(request)
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/") not in deps.settings.origins:
        raise Forbidden(f"origin {origin!r} is not allowed", code="origin_not_allowed")
    if origin is None and p.via == "session":
        # browsers always send Origin; a cookie without one is not a console
        raise Forbidden("an Origin header is required with a session cookie", code="origin_required")
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=4096)
    if not ws.can_prepare(request).ok:
        raise DomainError("this route needs a websocket upgrade", code="websocket_required")
    await ws.prepare(request)
    assert p.user_id is not None and p.role is not None
    sub = deps.hub.subscribe(p.user_id, p.role, p.session_hash or p.token_hash)
    sub.queue.put_nowait(json.dumps({"type": "hello", "user": p.username, "role": p.role}))
    presence(deps.hub, p.user_id, p.username)
    sender = asyncio.create_task(_send_loop(ws, sub))
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT and msg.data == "ping":
                with contextlib.suppress(asyncio.QueueFull):
                    sub.queue.put_nowait('{"type": "pong"}')
            if sender.done():
                break
    finally:
        deps.hub.unsubscribe(sub)
        presence(deps.hub, p.user_id, p.username)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
    return ws
