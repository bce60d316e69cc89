"""Property-based fuzzing of the API from its own OpenAPI document (schemathesis):
valid and invalid inputs for every operation, against a live service on the test
database; no input may cause a 5xx, and responses must match the document."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from conftest import CHEAP_ARGON2, RasaStandIn, _truncate
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from handoff_service.app import all_specs, create_app
from handoff_service.core.clock import SystemClock
from handoff_service.core.config import Settings
from handoff_service.core.deps import DEPS
from handoff_service.core.security import Passwords
from handoff_service.staff.service import create_token, create_user

MAX_EXAMPLES = int(os.environ.get("HANDOFF_FUZZ_EXAMPLES", "30"))


class LiveService:
    """The app and a Rasa stand-in on real sockets, in a thread with its own loop."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.base_url = ""
        self.headers: dict[str, dict[str, str]] = {}
        self.error: BaseException | None = None
        self._stop: asyncio.Event | None = None

    async def _main(self) -> None:
        rasa = RasaStandIn()
        rasa_runner = web.AppRunner(rasa.app())
        await rasa_runner.setup()
        rasa_site = web.TCPSite(rasa_runner, "127.0.0.1", 0)
        await rasa_site.start()
        rasa_port = rasa_runner.addresses[0][1]
        cfg = Settings(
            database_url=self.db_url,
            rasa_url=f"http://127.0.0.1:{rasa_port}",
            rasa_token=rasa.token,
            cookie_secure="false",
            sla_interval_seconds=0,
            review_poll_seconds=0,
            delivery_backoff_seconds=0.01,
            delivery_timeout_seconds=1.0,
            login_max_failures=1000,
            **CHEAP_ARGON2,
        )
        runner = web.AppRunner(create_app(cfg), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        await self._seed(runner.app[DEPS])
        self._stop = asyncio.Event()
        self.ready.set()
        await self._stop.wait()
        await runner.cleanup()
        await rasa_runner.cleanup()

    async def _seed(self, deps: Any) -> None:
        clock = SystemClock()
        pw = Passwords(1, 1024, 1)
        for name, role, team in (("alice", "agent", "l1"), ("sam", "supervisor", "l2"), ("bob", "agent", "l2")):
            await create_user(deps.engine, clock, pw, username=name, password="fuzz password 1", role=role, team=team)
        for name in ("sam", "alice"):
            token, _ = await create_token(deps.engine, clock, kind="staff", username=name, name="fuzz")
            self.headers[name] = {"Authorization": f"Bearer {token}"}
        token, _ = await create_token(deps.engine, clock, kind="bot", username=None, name="fuzz")
        self.headers["bot"] = {"Authorization": f"Bearer {token}"}

    def run(self) -> None:
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as e:  # surfaced by the fixture
            self.error = e
            self.ready.set()
        finally:
            self.loop.close()

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)


def _seed_cases(live: LiveService) -> None:
    """A few cases in every status, so ids 1..8 and their numbers exist."""
    s = requests.Session()
    bot, sam = live.headers["bot"], live.headers["sam"]
    numbers = []
    for i in range(8):
        r = s.post(
            f"{live.base_url}/api/bot/cases",
            headers=bot,
            json={"channel": "web", "conversation_id": f"fuzz-{i}", "language": "en", "category": "refund"},
        )
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])
    for i in range(1, 8):
        s.post(f"{live.base_url}/api/bot/cases/{numbers[i]}/handoff", headers=bot, json={"summary": {"problem": "p"}})
    for i in range(2, 8):
        s.post(f"{live.base_url}/api/cases/{i + 1}/accept", headers=sam)
    s.post(f"{live.base_url}/api/cases/4/transfer", headers=sam, json={"to_team": "l2"})
    for i in (5, 6, 7):
        s.post(f"{live.base_url}/api/cases/{i}/resolve", headers=sam, json={"result": "done"})
    s.post(f"{live.base_url}/api/cases/6/close", headers=sam, json={})
    s.post(f"{live.base_url}/api/cases/8/messages", headers=sam, json={"text": "hello"})


@pytest.fixture(scope="module")
def live(backend, tmp_path_factory) -> Iterator[LiveService]:
    if backend.name == "postgresql":
        asyncio.run(_truncate(backend.url))
        url = backend.url
    else:
        db = tmp_path_factory.mktemp("fuzz") / "handoff.db"
        shutil.copy(backend.template, db)
        url = f"sqlite+aiosqlite:///{db}"
    svc = LiveService(url)
    thread = threading.Thread(target=svc.run, daemon=True)
    thread.start()
    assert svc.ready.wait(30), "service did not start"
    if svc.error:
        raise svc.error
    _seed_cases(svc)
    yield svc
    svc.stop()
    thread.join(30)


@pytest.fixture(scope="module")
def api_schema(live: LiveService) -> Any:
    doc = requests.get(f"{live.base_url}/api/openapi.json", timeout=10).json()
    return schemathesis.openapi.from_dict(doc)


PLAN_PUT = ("PUT", "/api/staffing/plan")

# one test per documented operation, listed from the route table (no server needed to collect)
# (invalid input exists only for operations that take some input)
OPERATIONS = [
    (spec.method, spec.path, mode)
    for spec in all_specs()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or spec.body or spec.path_params or spec.query
]


@pytest.mark.parametrize(
    ("method", "path", "mode"),
    OPERATIONS,
    ids=[f"{m} {p} {'valid' if g is GenerationMode.POSITIVE else 'invalid'}" for m, p, g in OPERATIONS],
)
def test_no_server_errors(api_schema: Any, live: LiveService, method: str, path: str, mode: GenerationMode) -> None:
    operation = api_schema[path][method]
    who = "bot" if path.startswith("/api/bot/") else "sam"
    calls = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(base_url=live.base_url, headers=live.headers[who], timeout=30)
        calls.append(response.status_code)
        assert response.status_code < 500, (case.method, case.formatted_path, case.body, response.text[:500])
        if response.status_code >= 400:  # one error shape everywhere
            body = response.json()
            assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
        if mode is GenerationMode.POSITIVE:
            # a plain HTTP request cannot be a websocket upgrade: its documented 400 is expected; a staffing
            # plan giving an hour twice is a 400 that JSON Schema cannot state (unique weekday+hour pairs);
            # the metrics filters have rules a schema cannot state (from <= to, at most 366 days, a known
            # zone, tier and agent): their 400 invalid_field for such input is expected too
            refused = path == "/api/ws" or (method, path) == PLAN_PUT or path.startswith("/api/metrics/")
            excluded = [positive_data_acceptance] if refused else []
            case.validate_response(response, excluded_checks=excluded)

    run()
    assert calls, "no request was generated"
