"""Fixtures: a real database per test (SQLite file copied from a migrated template,
or PostgreSQL from HANDOFF_TEST_DATABASE_URL truncated between tests), the app
from its factory with a fake clock, and a stand-in for Rasa's HTTP API."""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import text

from handoff_service.app import create_app
from handoff_service.core.clock import FakeClock
from handoff_service.core.config import Settings
from handoff_service.core.db import build_engine
from handoff_service.core.deps import DEPS
from handoff_service.core.migrate import upgrade
from handoff_service.core.security import Passwords
from handoff_service.models import Base
from handoff_service.staff.service import create_token, create_user

PG_ENV = "HANDOFF_TEST_DATABASE_URL"
PASSWORD = "correct horse battery"
CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}


@dataclass
class Backend:
    name: str
    url: str | None = None
    template: Path | None = None


def _reset_pg(url: str) -> None:
    async def run() -> None:
        engine = build_engine(url, pool_size=1)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(run())


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Backend:
    url = os.environ.get(PG_ENV)
    if url:
        _reset_pg(url)
        upgrade(url)
        return Backend("postgresql", url=url)
    template = tmp_path_factory.mktemp("template") / "handoff.db"
    upgrade(f"sqlite+aiosqlite:///{template}")
    return Backend("sqlite", template=template)


async def _truncate(url: str) -> None:
    engine = build_engine(url, pool_size=1)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture
async def db_url(backend: Backend, tmp_path: Path) -> str:
    if backend.name == "postgresql":
        assert backend.url
        await _truncate(backend.url)
        return backend.url
    assert backend.template
    db = tmp_path / "handoff.db"
    shutil.copy(backend.template, db)
    return f"sqlite+aiosqlite:///{db}"


# ---------------------------------------------------------------- Rasa stand-in


@dataclass
class RasaStandIn:
    """Stands in for Rasa's bridge routes (bot/bridge.py). It records every event it
    accepted and, like Rasa, does NOT dedupe by key by itself (unless `dedupe` is
    set), so duplicates would be visible. It records each request's query and
    Authorization header, and answers 401 without the bridge token."""

    fail_first: int = 0  # answer 503 (without applying) to the first N POSTs
    mode: str = "ok"  # ok | error_after_accept | slow_after_accept | always_fail | reject
    slow_seconds: float = 3.0
    tracker_fail: int = 0  # answer 500 to the first N tracker reads
    dedupe: bool = False
    posts: int = 0
    tracker_reads: int = 0
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    queries: list[dict[str, str]] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    token: str = "rasa-secret"
    url: str = ""
    # the review feed (bot/bridge.py): the tracker store's user and action records, with their ids
    feed: list[dict[str, Any]] = field(default_factory=list)
    feed_down: bool = False  # answer 503 to feed and intents reads
    intent_names: list[str] = field(default_factory=lambda: ["greet", "refund", "order_status", "faq/shipping"])
    # follow-up visits: which conversations a message reaches now (bot/bridge.py `reachable`)
    unreachable: set[str] = field(default_factory=set)
    reach_down: bool = False  # answer 503 to reachability questions
    slow_reach: float = 0.0  # seconds each reachability answer takes

    def applied(self, conversation_id: str, event: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.events.get(conversation_id, []) if event is None or e.get("event") == event]

    def _apply(self, conv: str, events: list[dict[str, Any]]) -> None:
        store = self.events.setdefault(conv, [])
        for ev in events:
            key = (ev.get("metadata") or {}).get("idempotency_key")
            if self.dedupe and key and any((e.get("metadata") or {}).get("idempotency_key") == key for e in store):
                continue
            store.append(ev)

    def _refused(self, request: web.Request) -> web.StreamResponse | None:
        self.queries.append(dict(request.query))
        self.auth.append(request.headers.get("Authorization", ""))
        if self.auth[-1] != f"Bearer {self.token}":
            return web.json_response({"error": "not_authenticated"}, status=401)
        return None

    async def _post_common(self, request: web.Request, events: list[dict[str, Any]]) -> web.StreamResponse:
        self.posts += 1
        if refused := self._refused(request):
            return refused
        if self.mode == "reject":
            return web.json_response({"message": "bad"}, status=400)
        if self.mode == "always_fail" or self.posts <= self.fail_first:
            return web.json_response({"message": "unavailable"}, status=503)
        self._apply(request.match_info["cid"], events)
        if self.mode == "error_after_accept":
            self.mode = "ok"
            return web.json_response({"message": "boom"}, status=500)
        if self.mode == "slow_after_accept":
            self.mode = "ok"
            await asyncio.sleep(self.slow_seconds)
        return web.json_response(
            {"sender_id": request.match_info["cid"], "events": self.events[request.match_info["cid"]]}
        )

    async def tracker_events(self, request: web.Request) -> web.StreamResponse:
        return await self._post_common(request, await request.json())

    async def trigger_intent(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        ev = {
            "event": "user",
            "text": f"/{body['name']}",
            "parse_data": {
                "intent": {"name": body["name"]},
                "entities": [{"entity": k, "value": v} for k, v in (body.get("entities") or {}).items()],
            },
        }
        return await self._post_common(request, [ev])

    async def tracker(self, request: web.Request) -> web.StreamResponse:
        self.tracker_reads += 1
        if refused := self._refused(request):
            return refused
        if self.tracker_reads <= self.tracker_fail:
            return web.json_response({}, status=500)
        cid = request.match_info["cid"]
        return web.json_response({"sender_id": cid, "events": self.events.get(cid, [])})

    def record(self, **record: Any) -> dict[str, Any]:
        """Appends a record to the feed with the next id (as the tracker store numbers its events)."""
        record = {"id": len(self.feed) + 1, **record}
        self.feed.append(record)
        return record

    async def review_events(self, request: web.Request) -> web.StreamResponse:
        if refused := self._refused(request):
            return refused
        if self.feed_down:
            return web.json_response({"error": "down"}, status=503)
        after, limit = int(request.query.get("after", "0")), int(request.query.get("limit", "500"))
        page = [r for r in self.feed if r["id"] > after][:limit]
        return web.json_response({"events": page, "next_after": page[-1]["id"] if page else after})

    async def intents(self, request: web.Request) -> web.StreamResponse:
        if refused := self._refused(request):
            return refused
        if self.feed_down:
            return web.json_response({"error": "down"}, status=503)
        return web.json_response({"intents": self.intent_names})

    async def reachable(self, request: web.Request) -> web.StreamResponse:
        if refused := self._refused(request):
            return refused
        if self.reach_down:
            return web.json_response({"error": "down"}, status=503)
        await asyncio.sleep(self.slow_reach)
        reached = request.match_info["cid"] not in self.unreachable
        return web.json_response({"reachable": reached, "channel": "socketio"})

    def triggered(self, intent: str) -> list[dict[str, Any]]:
        """The entities of every applied trigger of `intent`, in order."""
        return [
            {e["entity"]: e["value"] for e in ev["parse_data"]["entities"]} | {"conversation": cid}
            for cid, events in self.events.items()
            for ev in events
            if ev.get("event") == "user" and ev["parse_data"]["intent"]["name"] == intent
        ]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/handoff/conversations/{cid}/reachable", self.reachable)
        app.router.add_get("/handoff/review/events", self.review_events)
        app.router.add_get("/handoff/intents", self.intents)
        app.router.add_post("/handoff/conversations/{cid}/tracker/events", self.tracker_events)
        app.router.add_post("/handoff/conversations/{cid}/trigger_intent", self.trigger_intent)
        app.router.add_get("/handoff/conversations/{cid}/tracker", self.tracker)
        return app


@pytest.fixture
async def rasa(aiohttp_server: Any) -> RasaStandIn:
    stand_in = RasaStandIn()
    server = await aiohttp_server(stand_in.app())
    stand_in.url = str(server.make_url("")).rstrip("/")
    return stand_in


# ---------------------------------------------------------------- the app


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(db_url: str, rasa: RasaStandIn) -> Settings:
    return Settings(
        database_url=db_url,
        rasa_url=rasa.url,
        rasa_token="rasa-secret",
        cookie_secure="false",
        sla_interval_seconds=0,
        review_poll_seconds=0,
        review_settle_seconds=30,
        delivery_backoff_seconds=0.01,
        delivery_backoff_max_seconds=0.05,
        delivery_timeout_seconds=1.0,
        delivery_max_attempts=4,
        auth_cache_seconds=0,
        db_pool_size=5,
        **CHEAP_ARGON2,
    )


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> web.Application:
    return create_app(settings, clock=clock, run_background=False)


class Helper:
    """Creates staff and drives cases through the API."""

    def __init__(self, client: Any, settings: Settings, clock: FakeClock) -> None:
        self.client = client
        self.settings = settings
        self.clock = clock
        self.bot: dict[str, str] = {}
        self.ids: dict[str, int] = {}

    @property
    def deps(self) -> Any:
        return self.client.server.app[DEPS]

    async def user(self, username: str, role: str = "agent", team: str | None = None) -> dict[str, str]:
        """Creates a staff member; returns bearer headers for them."""
        pw = Passwords(1, 1024, 1)
        u = await create_user(
            self.deps.engine, self.clock, pw, username=username, password=PASSWORD, role=role, team=team
        )
        self.ids[username] = u["id"]
        token, _ = await create_token(self.deps.engine, self.clock, kind="staff", username=username, name="test")
        return {"Authorization": f"Bearer {token}"}

    async def make_bot(self) -> dict[str, str]:
        token, _ = await create_token(self.deps.engine, self.clock, kind="bot", username=None, name="bot")
        self.bot = {"Authorization": f"Bearer {token}"}
        return self.bot

    async def call(
        self, method: str, path: str, headers: dict[str, str] | None = None, json: Any = None, **kw: Any
    ) -> tuple[int, Any]:
        resp = await self.client.request(method, path, headers=headers or {}, json=json, **kw)
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, body

    async def post(self, path: str, headers: dict[str, str] | None = None, json: Any = None) -> tuple[int, Any]:
        return await self.call("POST", path, headers, json)

    async def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return await self.call("GET", path, headers)

    async def new_case(self, **over: Any) -> dict[str, Any]:
        body = {
            "channel": "webchat",
            "conversation_id": over.pop("conversation_id", "conv-1"),
            "language": "zh",
            "category": "refund",
            "description": "退款没有到账",
            **over,
        }
        status, data = await self.post("/api/bot/cases", self.bot, body)
        assert status == 201, data
        return data

    async def queued_case(self, tier: str | None = None, **over: Any) -> dict[str, Any]:
        case = await self.new_case(**over)
        body: dict[str, Any] = {
            "summary": {
                "problem": "refund missing",
                "emotion": "upset",
                "severity": "high",
                "collected": {"order": "A123"},
                "steps_tried": ["checked status"],
            }
        }
        if tier:
            body["tier"] = tier
        status, data = await self.post(f"/api/bot/cases/{case['number']}/handoff", self.bot, body)
        assert status == 200, data
        return data["case"]

    async def timeline(self, case_id: int, headers: dict[str, str]) -> list[dict[str, Any]]:
        status, data = await self.get(f"/api/cases/{case_id}/timeline", headers)
        assert status == 200, data
        return data["events"]


@pytest.fixture
async def client(aiohttp_client: Any, app: web.Application) -> Any:
    return await aiohttp_client(app)


@pytest.fixture
async def h(client: Any, settings: Settings, clock: FakeClock) -> Helper:
    helper = Helper(client, settings, clock)
    await helper.make_bot()
    return helper
