"""A small local HTTP server standing in for handoff_service's bot API: records every request.

The real service is exercised in tests/e2e/test_complaint_case.py; this stand-in lets the action
tests assert the exact requests, and answer 5xx on demand (a client on a closed port plays "stopped").
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

NUMBER = "C20261124-0001"
RESULT_DUE = "2026-11-26T10:00:00+00:00"


class StandIn:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self.status = "open"
        self.agents_online = 1
        self.fail_next: list[int] = []  # HTTP statuses to answer the next requests with
        self.conversation_id: str | None = None  # of the conversation that opened the case
        self.queries: list[dict[str, str]] = []  # query parameters of every request, in order
        self.outages: list[dict[str, Any]] = []  # the outage notices in force (GET /api/bot/outages)
        self.fail_outage_links = 0  # answer 503 to the next N links of a case to a notice

    def case(self) -> dict[str, Any]:
        return {
            "number": NUMBER,
            "status": self.status,
            "tier": "normal",
            "sla": {"result": {"due": RESULT_DUE, "state": "pending"}},
            "owner": {"id": 1, "username": "alice", "display_name": "Alice Li"},
        }

    def timeline(self) -> list[tuple[str, dict[str, Any]]]:
        """(action, details without the time) of every timeline entry received, in order."""
        out = []
        for method, path, body in self.requests:
            if method == "POST" and path.endswith("/timeline"):
                details = {k: v for k, v in body.get("details", {}).items() if k != "at"}
                out.append((body["action"], details))
        return out

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        self.requests.append((request.method, request.path, body))
        self.queries.append(dict(request.query))
        if self.fail_next:
            return web.json_response({"error": {"code": "unavailable", "message": "x"}}, status=self.fail_next.pop(0))
        path, method = request.path, request.method
        if method == "GET" and path == "/api/bot/outages":
            topic = request.query.get("topic")
            return web.json_response({"notices": [n for n in self.outages if topic in (None, *n["topics"])]})
        if method == "POST" and path.startswith("/api/bot/outages/"):
            if self.fail_outage_links > 0:
                self.fail_outage_links -= 1
                return web.json_response({"error": {"code": "unavailable", "message": "x"}}, status=503)
            return web.json_response({"id": int(path.split("/")[4]), "linked_cases": 1}, status=201)
        if method == "POST" and path == "/api/bot/cases":
            self.conversation_id = body.get("conversation_id")
            return web.json_response(self.case(), status=201)
        if method == "GET" and path.startswith("/api/bot/cases/"):
            asking = request.query.get("conversation_id")
            others = asking is not None and self.conversation_id is not None and asking != self.conversation_id
            if path.rsplit("/", 1)[-1] != NUMBER or others:
                return web.json_response({"error": {"code": "case_not_found", "message": "no"}}, status=404)
            return web.json_response(self.case())
        if path.endswith("/timeline"):
            return web.json_response({"case": NUMBER, "action": body["action"], "at": "x"}, status=201)
        if path.endswith("/handoff"):
            self.status = "queued"
            due = (dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.timezone.utc)).isoformat()
            return web.json_response(
                {
                    "case": self.case(),
                    "queue_position": 3,
                    "agents_online": self.agents_online,
                    "first_response_due": due,
                }
            )
        if path.endswith("/messages"):
            return web.json_response({"id": 1, "direction": "customer", "text": body["text"]}, status=201)
        if path.endswith("/resolve"):
            self.status = "resolved"
        if path.endswith("/follow-up"):
            self.status = "closed" if body["solved"] else "in_progress"
        return web.json_response(self.case())


@contextlib.asynccontextmanager
async def running_standin(port: int) -> AsyncIterator[StandIn]:
    standin = StandIn()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", standin.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield standin
    finally:
        await runner.cleanup()
