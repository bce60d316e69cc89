"""Browser tests: a real handoff_service process (subprocess, temp SQLite, free
port), a small stand-in for Rasa's HTTP API (tracker reads, event posts), and
Debian's Chromium driven by Playwright. No browser download, no outside network:
every request to a host other than this machine is blocked and recorded, and
each test asserts none was attempted."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from threaded_server import ThreadedServer

if TYPE_CHECKING:  # imported where used: the full-loop servers load only for the tests that need them
    from loop_servers import LoopServers

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
SCREENSHOTS = REPO / "var" / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RASA_TOKEN = "browser-test-rasa-token"
PASSWORDS = {"alice": "alice-secret-pw", "bob": "bob-secret-pw-1", "sam": "sam-secret-pw-1", "tina": "tina-secret-pw-1"}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}

# waiting for the page to show something is not a timing assertion; be patient on a busy machine
expect.set_options(timeout=20_000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- Rasa stand-in


@dataclass
class RasaStandIn(ThreadedServer):
    """Rasa's bridge routes as handoff_service uses them (bot/bridge.py): reads trackers, takes
    events, with the bridge token in the Authorization header. Conversations whose id starts with
    'down-' answer 503 (Rasa unreachable). The model's intents (/handoff/intents) answer 503 unless
    a test sets `intent_names` (and puts None back)."""

    port: int = 0
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    posts: list[dict[str, Any]] = field(default_factory=list)
    queries: list[dict[str, str]] = field(default_factory=list)
    intent_names: list[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _authorised(self, request: web.Request) -> bool:
        self.queries.append(dict(request.query))
        return request.headers.get("Authorization") == f"Bearer {RASA_TOKEN}" and "token" not in request.query

    async def _tracker(self, request: web.Request) -> web.StreamResponse:
        cid = request.match_info["cid"]
        if not self._authorised(request):
            return web.json_response({"message": "no token"}, status=401)
        if cid.startswith("down-"):
            return web.json_response({"message": "unavailable"}, status=503)
        return web.json_response({"sender_id": cid, "events": self.events.get(cid, [])})

    async def _events(self, request: web.Request) -> web.StreamResponse:
        cid = request.match_info["cid"]
        if not self._authorised(request):
            return web.json_response({"message": "no token"}, status=401)
        body = await request.json()
        now = time.time()
        for ev in body:
            self.posts.append({"conversation_id": cid, **ev})
            self.events.setdefault(cid, []).append({**ev, "timestamp": now})
        return web.json_response({"sender_id": cid, "events": self.events[cid]})

    async def _trigger(self, request: web.Request) -> web.StreamResponse:
        cid = request.match_info["cid"]
        if not self._authorised(request):
            return web.json_response({"message": "no token"}, status=401)
        body = await request.json()
        self.posts.append({"conversation_id": cid, "event": "trigger_intent", **body})
        return web.json_response({"tracker": {"sender_id": cid}, "messages": []})

    async def _intents(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return web.json_response({"message": "no token"}, status=401)
        if self.intent_names is None:
            return web.json_response({"message": "no model loaded"}, status=503)
        return web.json_response({"intents": self.intent_names})

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/handoff/intents", self._intents)
        app.router.add_get("/handoff/conversations/{cid}/tracker", self._tracker)
        app.router.add_post("/handoff/conversations/{cid}/tracker/events", self._events)
        app.router.add_post("/handoff/conversations/{cid}/trigger_intent", self._trigger)

    def bot_events(self, conversation_id: str) -> list[dict[str, Any]]:
        return [p for p in list(self.posts) if p["conversation_id"] == conversation_id and p.get("event") == "bot"]


# ---------------------------------------------------------------- the service


@dataclass
class Service:
    url: str
    chat_url: str  # the customer chat page's own origin (HANDOFF_CHAT_PORT)
    bot_token: str
    sam_token: str
    rasa: RasaStandIn
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    _seq: int = 0

    def call(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def bot(self, method: str, path: str, body: Any = None) -> Any:
        status, data = self.call(method, path, self.bot_token, body)
        assert 200 <= status < 300, (status, data)
        return data

    def staff(self, method: str, path: str, body: Any = None) -> Any:
        """As the supervisor sam (a staff bearer token)."""
        status, data = self.call(method, path, self.sam_token, body)
        assert 200 <= status < 300, (status, data)
        return data

    def queued_case(
        self,
        conversation_id: str | None = None,
        *,
        language: str = "zh",
        problem: str = "退款一周未到账",
        tier: str | None = None,
    ) -> dict[str, Any]:
        """What the bot does at a handoff: open a case, then queue it with its summary card."""
        self._seq += 1
        cid = conversation_id or f"web-{self._seq:04d}"
        case = self.bot(
            "POST",
            "/api/bot/cases",
            {
                "channel": "webchat",
                "conversation_id": cid,
                "language": language,
                "category": "refund",
                "description": problem,
                "idempotency_key": f"{cid}:open",
            },
        )
        body: dict[str, Any] = {
            "summary": {
                "problem": problem,
                "collected": {"order": "A1234"},
                "steps_tried": ["checked refund status"],
                "emotion": "upset",
                "severity": "high",
                "reason": "request_human",
            }
        }
        if tier:
            body["tier"] = tier
        return self.bot("POST", f"/api/bot/cases/{case['number']}/handoff", body)["case"]

    def relay(self, number: str, text: str) -> dict[str, Any]:
        return self.bot("POST", f"/api/bot/cases/{number}/messages", {"text": text})

    def collect(self, *messages: dict[str, Any]) -> list[int | None]:
        """Misunderstood messages into the review list, through the service's own use case
        (review.service.collect, as the importer does; tests/browser/seed_review.py). Each message:
        review.Collected's fields, `at` as ISO time, `intents` as [[name, confidence]]."""
        out = subprocess.run(
            [PY, str(Path(__file__).with_name("seed_review.py"))],
            cwd=REPO,
            env={**self.env, "PYTHONPATH": str(REPO)},
            input=json.dumps(list(messages)),
            text=True,
            capture_output=True,
            timeout=120,
        )
        assert out.returncode == 0, (out.stdout, out.stderr)
        ids: list[int | None] = json.loads(out.stdout)
        return ids


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    out = subprocess.run(
        [PY, "-m", "handoff_service", *args],
        cwd=REPO,
        env=env,
        input=stdin,
        text=True,
        capture_output=True,
        timeout=120,
    )
    assert out.returncode == 0, (args, out.stdout, out.stderr)
    return out.stdout


@pytest.fixture(scope="session")
def rasa() -> Iterator[RasaStandIn]:
    stand_in = RasaStandIn()
    stand_in.start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory, rasa: RasaStandIn) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("handoff"), rasa) as svc:
        yield svc


@contextlib.contextmanager
def running_service(tmp: Path, rasa: RasaStandIn, extra_env: dict[str, str] | None = None) -> Iterator[Service]:
    """A handoff_service process with its users and tokens (alice, bob: agents; sam: supervisor; tina:
    trainer); `extra_env` adds or overrides HANDOFF_* settings (e.g. a tier file with tiny deadlines)."""
    port, chat_port = free_port(), free_port()
    env = {
        **os.environ,
        "HANDOFF_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'handoff.db'}",
        "HANDOFF_HOST": "127.0.0.1",
        "HANDOFF_PORT": str(port),
        "HANDOFF_CHAT_PORT": str(chat_port),
        "HANDOFF_RASA_URL": rasa.url,
        "HANDOFF_RASA_TOKEN": RASA_TOKEN,
        # where the chat widget looks for Rasa's socket.io: a local port with nothing behind it
        "HANDOFF_CHAT_SOCKET_URL": f"http://127.0.0.1:{free_port()}",
        "HANDOFF_LOGIN_MAX_FAILURES": "1000",
        "HANDOFF_DELIVERY_BACKOFF_SECONDS": "0.2",
        "HANDOFF_ACCESS_LOG": "false",
        # no review feed to read here: the tests put review items in themselves (Service.collect)
        "HANDOFF_REVIEW_POLL_SECONDS": "0",
        **(extra_env or {}),
    }
    _run(["migrate"], env)
    _run(
        ["create-user", "alice", "--role", "agent", "--team", "l1", "--display-name", "Alice Li", "--password-stdin"],
        env,
        PASSWORDS["alice"] + "\n",
    )
    _run(
        ["create-user", "bob", "--role", "agent", "--team", "l2", "--display-name", "Bob Wang", "--password-stdin"],
        env,
        PASSWORDS["bob"] + "\n",
    )
    _run(
        [
            "create-user",
            "sam",
            "--role",
            "supervisor",
            "--team",
            "l2",
            "--display-name",
            "Sam Zhao",
            "--password-stdin",
        ],
        env,
        PASSWORDS["sam"] + "\n",
    )
    _run(
        ["create-user", "tina", "--role", "trainer", "--display-name", "Tina Xu", "--password-stdin"],
        env,
        PASSWORDS["tina"] + "\n",
    )
    _run(["create-token", "--bot", "--out", str(tmp / "bot.token")], env)
    _run(["create-token", "--user", "sam", "--out", str(tmp / "sam.token")], env)
    log = tmp / "service.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [PY, "-m", "handoff_service", "serve"], cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # wait until it answers (or has died)
            if proc.poll() is not None:
                raise AssertionError("handoff_service exited:\n" + log.read_text())
            try:
                with urllib.request.urlopen(url + "/api/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("handoff_service did not answer:\n" + log.read_text())
        yield Service(
            url=url,
            chat_url=f"http://127.0.0.1:{chat_port}",
            bot_token=(tmp / "bot.token").read_text().strip(),
            sam_token=(tmp / "sam.token").read_text().strip(),
            rasa=rasa,
            log=log,
            env=env,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Guard:
    """Records what a page asked for outside this machine, dialogs and CSP reports."""

    external: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def guard() -> Guard:
    return Guard()


@pytest.fixture
def new_page(browser: Browser, guard: Guard) -> Iterator[Callable[..., Page]]:
    contexts: list[BrowserContext] = []

    def make(**kw: Any) -> Page:
        ctx = browser.new_context(viewport={"width": 1400, "height": 900}, **kw)
        contexts.append(ctx)

        def route(r: Any) -> None:
            host = urlsplit(r.request.url).hostname or ""
            if r.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
                r.continue_()
            else:
                guard.external.append(r.request.url)
                r.abort()

        ctx.route("**/*", route)
        page = ctx.new_page()
        page.on("dialog", lambda d: (guard.dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: guard.csp.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda e: guard.errors.append(str(e)))
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    assert guard.external == [], f"requests outside this machine were attempted: {guard.external}"
    assert guard.dialogs == [], f"a dialog opened (script ran?): {guard.dialogs}"
    assert guard.csp == [], f"CSP violations: {guard.csp}"
    assert guard.errors == [], f"page errors: {guard.errors}"


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page: Page, service: Service, username: str, *, lang: str = "zh") -> Page:
    page.goto(service.url + "/console")
    if lang == "en":
        page.get_by_role("button", name="English").click()
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORDS[username])
    page.click("#login-submit")
    expect(page.locator("#work-view")).to_be_visible()
    expect(page.locator("#live")).to_have_class("live on")  # the websocket is up
    return page


# ---------------------------------------------------------------- the whole loop, for real


@pytest.fixture(scope="session")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopServers]:
    """handoff_service + action server + Rasa (current model) + a callback receiver, really running
    (tests/browser/loop_servers.py). Started once, on first use, for every full-loop test: a Rasa
    start costs most of a minute on two cores."""
    from loop_servers import LoopServers

    servers = LoopServers(tmp_path_factory.mktemp("loop")).start()
    try:
        yield servers
    finally:
        servers.stop()
