"""The whole loop for real: handoff_service, the action server and Rasa as processes on free ports, each
with its own temporary files, plus a local receiver for Rasa's `callback` channel.

Used by the full-loop browser tests (tests/browser/conftest.py, fixture `loop`) and by
bench/handoff_e2e.py. Nothing here is a stand-in: the customer talks to the trained model, the
actions open and hand off the case in handoff_service, and handoff_service delivers the agents'
replies through Rasa's HTTP API.

Only the standard library and aiohttp (both in .venv-handoff) are needed to drive it; Rasa and the
action server run from .venv, handoff_service from .venv-handoff.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from threaded_server import ThreadedServer

from bot.identity import GATEWAY_SECRET_ENV, SIGNATURE_HEADER, sign_body

REPO = Path(__file__).resolve().parents[2]
GATEWAY_SECRET = "loop-gateway-secret-" + "0" * 24  # the messaging gateway's, for this loop only
ORIGINS_ENV = "CHAT_ALLOWED_ORIGINS"  # bot.channels reads it (Rasa's environment; not importable here)
RASA_BIN = REPO / ".venv" / "bin"
HANDOFF_PY = REPO / ".venv-handoff" / "bin" / "python"
LOG_COPIES = REPO / "var" / "artifacts" / "loop-logs"

# two agents of team l1 and a supervisor (whose API token reads cases and timelines)
AGENTS = {"alice": ("alice-secret-pw", "Alice Li"), "bob": ("bob-secret-pw-1", "Bob Wang")}
SUPERVISOR = ("sam", "sam-secret-pw-1", "Sam Zhao")
TRAINER = ("tina", "tina-secret-pw-1", "Tina Sun")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def current_model() -> Path:
    """RASA_MODEL if set, else what `.ci/train.sh` prints (it trains only when the inputs changed).
    A training started by someone else is waited for first: two trainings at once would fight for
    the two cores and write the same file."""
    if os.environ.get("RASA_MODEL"):
        return (REPO / os.environ["RASA_MODEL"]).resolve()
    while subprocess.run(["pgrep", "-f", "rasa train"], capture_output=True).returncode == 0:
        time.sleep(5)
    out = subprocess.run([str(REPO / ".ci" / "train.sh")], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, f".ci/train.sh failed:\n{out.stderr[-3000:]}"
    return (REPO / out.stdout.strip().splitlines()[-1]).resolve()


# ---------------------------------------------------------------- the callback receiver


@dataclass
class Received:
    at: float  # time.monotonic() on arrival
    body: dict[str, Any]


@dataclass
class CallbackReceiver(ThreadedServer):
    """A small HTTP server Rasa's `callback` channel posts the bot's (and the agents') messages to:
    `POST /bot` with {"recipient_id": ..., "text": ..., ...}. Records every post."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def _post(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        with self._cond:
            self.received.append(Received(time.monotonic(), body))
            self._cond.notify_all()
        return web.json_response({"ok": True})

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/bot", self._post)

    def messages(self, recipient: str) -> list[dict[str, Any]]:
        with self._cond:
            return [r.body for r in self.received if r.body.get("recipient_id") == recipient]

    def wait_for(
        self, recipient: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 60
    ) -> dict[str, Any]:
        """The first message to `recipient` matching `predicate`, waiting for it if needed."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for r in self.received:
                    if r.body.get("recipient_id") == recipient and predicate(r.body):
                        return r.body
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [r.body for r in self.received if r.body.get("recipient_id") == recipient]
                    raise AssertionError(f"no matching callback message for {recipient!r}; received: {seen}")
                self._cond.wait(left)


# ---------------------------------------------------------------- the processes


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path


def _wait_http(url: str, proc: Proc, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise AssertionError(f"{proc.name} exited ({proc.popen.returncode}):\n{proc.log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=3):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{proc.name} did not answer at {url} in {timeout:.0f} s:\n{proc.log.read_text()[-4000:]}")


class LoopServers:
    """handoff_service + action server + Rasa (+ a callback receiver), started by `start()`, stopped by
    `stop()`. Everything lives under `work` (databases, tokens, config files, logs)."""

    def __init__(self, work: Path, model: Path | None = None, handoff_env: dict[str, str] | None = None) -> None:
        self.work = work
        self.model = model
        self.handoff_env = handoff_env or {}  # more settings of handoff_service (e.g. short follow-up delays)
        self.handoff_port, self.actions_port, self.rasa_port = free_port(), free_port(), free_port()
        self.chat_port = free_port()
        self.url = f"http://127.0.0.1:{self.handoff_port}"  # handoff_service (console, API)
        self.chat_url = f"http://127.0.0.1:{self.chat_port}"  # handoff_service's customer chat page
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.actions_url = f"http://127.0.0.1:{self.actions_port}"
        # the three secrets of `make run` (var/secrets.env), each given only to the process that uses it
        self.rasa_token = secrets.token_urlsafe(24)  # Rasa's HTTP API: the operator's (these tests)
        self.handoff_token = secrets.token_urlsafe(24)  # Rasa's bridge routes: handoff_service's
        self.action_secret = secrets.token_urlsafe(24)  # the action server: Rasa's
        self.callback = CallbackReceiver()
        self.procs: list[Proc] = []
        self.bot_token_file = work / "bot.token"
        self.supervisor_token = ""
        self.trainer_token = ""
        self.agent_tokens: dict[str, str] = {}

    # ------------------------------------------------------------ start / stop

    def _handoff_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HANDOFF_DATABASE_URL": f"sqlite+aiosqlite:///{self.work / 'h.db'}",
            "HANDOFF_HOST": "127.0.0.1",
            "HANDOFF_PORT": str(self.handoff_port),
            "HANDOFF_CHAT_PORT": str(self.chat_port),
            "HANDOFF_RASA_URL": self.rasa_url,
            "HANDOFF_RASA_TOKEN": self.handoff_token,
            "HANDOFF_CHAT_SOCKET_URL": self.rasa_url,
            # the console's websocket is opened from the service's own origin (the default list); said explicitly
            "HANDOFF_ALLOWED_ORIGINS": f"{self.url},http://localhost:{self.handoff_port}",
            "HANDOFF_LOGIN_MAX_FAILURES": "1000",
            "HANDOFF_DELIVERY_BACKOFF_SECONDS": "0.2",
            # the review list reads what Rasa recorded every half second, and waits 2 s for an answer
            "HANDOFF_REVIEW_POLL_SECONDS": "0.5",
            "HANDOFF_REVIEW_SETTLE_SECONDS": "2",
            "HANDOFF_ACCESS_LOG": "false",
            **self.handoff_env,
        }

    def _cli(self, *args: str, stdin: str | None = None) -> str:
        out = subprocess.run(
            [str(HANDOFF_PY), "-m", "handoff_service", *args],
            cwd=REPO,
            env=self._handoff_env(),
            input=stdin,
            text=True,
            capture_output=True,
            timeout=120,
        )
        assert out.returncode == 0, (args, out.stdout, out.stderr)
        return out.stdout

    def _account(self, name: str, role: str, password: str, display: str, team: str | None = None) -> str:
        """A staff account through handoff_service's CLI; returns its API token."""
        teams = ["--team", team] if team else []
        self._cli(
            "create-user",
            name,
            "--role",
            role,
            *teams,
            "--display-name",
            display,
            "--password-stdin",
            stdin=password + "\n",
        )
        self._cli("create-token", "--user", name, "--out", str(self.work / f"{name}.token"))
        return (self.work / f"{name}.token").read_text().strip()

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Proc:
        log = self.work / f"{name}.log"
        with open(log, "w") as fh:
            popen = subprocess.Popen(
                argv, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def _write_rasa_config(self) -> tuple[Path, Path]:
        endpoints = self.work / "endpoints.yml"
        endpoints.write_text(
            "action_endpoint:\n"
            f'  url: "{self.actions_url}/webhook"\n'
            "  headers:\n"
            "    X-Action-Secret: ${ACTION_SERVER_SECRET}\n"
            "nlg:\n"
            "  type: bot.nlg.LocalizedNLG\n"
            "tracker_store:\n"
            "  type: SQL\n"
            "  dialect: sqlite\n"
            f'  db: "{self.work / "tracker.db"}"\n'
            "lock_store:\n"
            "  type: in_memory\n",
            encoding="utf-8",
        )
        credentials = self.work / "credentials.yml"
        credentials.write_text(
            "bot.channels.RestInput:\n\n"
            "bot.channels.SocketIOInput:\n"
            "  user_message_evt: user_uttered\n"
            "  bot_message_evt: bot_uttered\n"
            "  session_persistence: true\n\n"
            "bot.channels.CallbackInput:\n"
            f'  url: "{self.callback.url}"\n',
            encoding="utf-8",
        )
        return endpoints, credentials

    def start(self) -> LoopServers:
        model = self.model or current_model()
        self.callback.start()
        # handoff_service: database, accounts, tokens
        self._cli("migrate")
        self._cli("create-token", "--bot", "--out", str(self.bot_token_file))
        for name, (password, display) in AGENTS.items():
            self.agent_tokens[name] = self._account(name, "agent", password, display, team="l1")
        name, password, display = SUPERVISOR
        self.supervisor_token = self._account(name, "supervisor", password, display, team="l1")
        name, password, display = TRAINER
        self.trainer_token = self._account(name, "trainer", password, display)

        endpoints, credentials = self._write_rasa_config()
        bot_env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "SANIC_HOST": "127.0.0.1",
            "DEMO_STORE_PATH": str(self.work / "demo.db"),
            "HANDOFF_URL": self.url,
            "HANDOFF_BOT_TOKEN_FILE": str(self.bot_token_file),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            GATEWAY_SECRET_ENV: GATEWAY_SECRET,
            ORIGINS_ENV: self.chat_url,  # the chat page's origin opens the widget's socket
        }
        for key in ("VIRTUAL_ENV", "PYTHONHOME"):  # the tests run in the other venv
            bot_env.pop(key, None)
        try:
            handoff = self._spawn("handoff", [str(HANDOFF_PY), "-m", "handoff_service", "serve"], self._handoff_env())
            actions = self._spawn(
                "actions",
                [str(RASA_BIN / "python"), "-m", "actions.serve", "--actions", "actions", "-p", str(self.actions_port)],
                {**bot_env, "ACTION_SERVER_SECRET": self.action_secret},
            )
            # started the way `make run` starts it: the tokens in the environment, not in argv
            rasa = self._spawn(
                "rasa",
                [
                    str(RASA_BIN / "python"),
                    "-m",
                    "bot.serve",
                    "--model",
                    str(model),
                    "--interface",
                    "127.0.0.1",
                    "--port",
                    str(self.rasa_port),
                    "--endpoints",
                    str(endpoints),
                    "--credentials",
                    str(credentials),
                    "--cors",
                    self.chat_url,
                    f"http://localhost:{self.chat_port}",
                ],
                {
                    **bot_env,
                    "RASA_TOKEN": self.rasa_token,
                    "RASA_HANDOFF_TOKEN": self.handoff_token,
                    "ACTION_SERVER_SECRET": self.action_secret,
                },
            )
            _wait_http(f"{self.url}/api/health", handoff, 60)
            _wait_http(f"{self.actions_url}/health", actions, 120)
            _wait_http(f"{self.rasa_url}/status?token={self.rasa_token}", rasa, 300)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM to each process we started (by its pid), SIGKILL if it does not leave in 30 s;
        then a copy of the logs goes to var/artifacts/loop-logs/ for a person to read."""
        for proc in reversed(self.procs):
            if proc.popen.poll() is None:
                proc.popen.send_signal(signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(timeout=10)
        self.callback.stop()
        LOG_COPIES.mkdir(parents=True, exist_ok=True)
        for proc in self.procs:
            if proc.log.exists():
                shutil.copyfile(proc.log, LOG_COPIES / proc.log.name)
        self.procs = []

    def log(self, name: str) -> str:
        return (self.work / f"{name}.log").read_text(errors="replace")

    def alive(self) -> None:
        for proc in self.procs:
            assert proc.popen.poll() is None, f"{proc.name} stopped:\n{proc.log.read_text()[-4000:]}"

    # ------------------------------------------------------------ HTTP helpers

    @staticmethod
    def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw.strip().startswith((b"{", b"[")) else raw.decode()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")

    def api(self, method: str, path: str, body: Any = None, *, token: str | None = None) -> Any:
        """handoff_service's API, as the supervisor unless another bearer token is given; must succeed."""
        status, data = self.http(
            method, self.url + path, body, {"Authorization": f"Bearer {token or self.supervisor_token}"}
        )
        assert 200 <= status < 300, (method, path, status, data)
        return data

    def as_agent(self, name: str, method: str, path: str, body: Any = None) -> Any:
        return self.api(method, path, body, token=self.agent_tokens[name])

    def case_of(self, conversation_id: str) -> dict[str, Any]:
        """The case of this conversation (its number is in the tracker's `case_number` slot), as the
        supervisor reads it."""
        number = self.tracker(conversation_id)["slots"].get("case_number")
        assert number, f"no case_number slot in conversation {conversation_id!r}"
        bot_view = self.api("GET", f"/api/bot/cases/{number}", token=self.bot_token_file.read_text().strip())
        return self.api("GET", f"/api/cases/{bot_view['id']}")

    def tracker(self, conversation_id: str) -> dict[str, Any]:
        cid = urllib.parse.quote(conversation_id, safe="")
        status, data = self.http("GET", f"{self.rasa_url}/conversations/{cid}/tracker?token={self.rasa_token}")
        assert status == 200, (status, data)
        return data

    def callback_say(self, sender: str, message: str) -> None:
        """A customer message on Rasa's callback channel (Rasa answers by POSTing to the receiver)."""
        status, data = self.gateway_post("callback", {"sender": sender, "message": message})
        assert status == 200, (status, data)

    def gateway_post(self, channel: str, body: dict[str, Any]) -> tuple[int, Any]:
        """A message on Rasa's REST or callback channel, signed as the messaging gateway signs it."""
        raw = json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.rasa_url}/webhooks/{channel}/webhook",
            data=raw,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign_body(GATEWAY_SECRET, raw)},
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw or b"null")
        except ValueError:  # the callback channel answers "success" as text
            return status, raw.decode(errors="replace")
