"""Starts a real action server and a real Rasa server with the current model."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.identity import GATEWAY_SECRET_ENV, SIGNATURE_HEADER, sign_body

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_SECRET = "e2e-gateway-secret-" + "0" * 24  # the messaging gateway's, for these servers only


def gateway_headers(body: bytes) -> dict[str, str]:
    """Headers of a REST request as the messaging gateway sends it (its signature of the body)."""
    return {"Content-Type": "application/json", SIGNATURE_HEADER: sign_body(GATEWAY_SECRET, body)}


BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"{url} did not come up:\n{log.read_text()[-3000:]}")


HANDOFF_PYTHON = ROOT / ".venv-handoff" / "bin" / "python"


class HandoffService:
    """A real handoff_service process (its own venv, a temporary SQLite database); can be stopped and
    started again on the same port and database, as when the service goes down mid-conversation."""

    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token_file = work / "bot.token"
        self.log = work / "handoff.log"
        self.env = {
            **os.environ,
            "HANDOFF_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'handoff.db'}",
            "HANDOFF_PORT": str(self.port),
            "HANDOFF_HOST": "127.0.0.1",
            "HANDOFF_RASA_TOKEN": "",
        }
        self.process: subprocess.Popen | None = None

    def cli(self, *args: str) -> str:
        return subprocess.run(
            [str(HANDOFF_PYTHON), "-m", "handoff_service", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [str(HANDOFF_PYTHON), "-m", "handoff_service", "serve"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(f"{self.url}/api/openapi.json", self.process, self.log, timeout=60)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def get(self, path: str) -> dict:
        req = urllib.request.Request(
            f"{self.url}{path}", headers={"Authorization": f"Bearer {self.token_file.read_text().strip()}"}
        )
        with urllib.request.urlopen(req, timeout=10) as response:
            return json.loads(response.read())


# the action endpoint as endpoints.yml has it, on the test's port: the secret comes from the environment
ENDPOINTS = """action_endpoint:
  url: "http://127.0.0.1:{actions_port}/webhook"
  headers:
    X-Action-Secret: ${{ACTION_SERVER_SECRET}}
nlg:
  type: bot.nlg.LocalizedNLG
"""


def current_model() -> Path:
    """RASA_MODEL, else the production model (`.ci/train.sh` trains it when its inputs changed)."""
    model = (
        os.environ.get("RASA_MODEL")
        or subprocess.run([str(ROOT / ".ci" / "train.sh")], capture_output=True, text=True, check=True).stdout.strip()
    )
    return ROOT / model


@pytest.fixture(scope="session")
def handoff_service(tmp_path_factory):
    if not HANDOFF_PYTHON.exists():
        raise RuntimeError("handoff_service's environment is missing: run `make setup`")
    service = HandoffService(tmp_path_factory.mktemp("handoff"))
    service.cli("migrate")
    service.cli("create-token", "--bot", "--out", str(service.token_file))
    service.start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def rasa_servers(tmp_path_factory, handoff_service):
    """Yields the REST webhook URL; the model path comes from RASA_MODEL or .ci/train.sh."""
    model = current_model()
    work = tmp_path_factory.mktemp("rasa")
    rasa_port, actions_port = free_port(), free_port()
    (work / "endpoints.yml").write_text(ENDPOINTS.format(actions_port=actions_port), encoding="utf-8")
    env = {
        **os.environ,
        # the action server answers only Rasa, which sends this secret (endpoints.yml, as make run does)
        "ACTION_SERVER_SECRET": secrets.token_urlsafe(24),
        "SANIC_HOST": "127.0.0.1",
        "DEMO_STORE_PATH": str(work / "demo_store.db"),
        "PYTHONPATH": str(ROOT),
        "HANDOFF_URL": handoff_service.url,
        "HANDOFF_BOT_TOKEN_FILE": str(handoff_service.token_file),
        GATEWAY_SECRET_ENV: GATEWAY_SECRET,
    }
    logs = {name: work / f"{name}.log" for name in ("actions", "rasa")}
    actions = subprocess.Popen(
        [str(BIN / "python"), "-m", "actions.serve", "--actions", "actions", "-p", str(actions_port)],
        cwd=ROOT,
        env=env,
        stdout=logs["actions"].open("w"),
        stderr=subprocess.STDOUT,
    )
    rasa = subprocess.Popen(
        [
            str(BIN / "rasa"),
            "run",
            "--model",
            str(model),
            "--interface",
            "127.0.0.1",
            "--port",
            str(rasa_port),
            "--endpoints",
            str(work / "endpoints.yml"),
            "--credentials",
            str(ROOT / "credentials.yml"),
        ],
        cwd=ROOT,
        env=env,
        stdout=logs["rasa"].open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{actions_port}/health", actions, logs["actions"])
        wait_for(f"http://127.0.0.1:{rasa_port}/", rasa, logs["rasa"])
        yield f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook", logs
    finally:
        for process in (rasa, actions):
            process.terminate()
        for process in (rasa, actions):
            process.wait(timeout=30)


@pytest.fixture
def chat(rasa_servers, request):
    """Sends one message as a fresh conversation per test; returns the reply texts."""
    url, _ = rasa_servers
    sender = f"{request.node.name}-{time.time_ns()}"

    def send(message: str):
        body = json.dumps({"sender": sender, "message": message}).encode()
        req = urllib.request.Request(url, body, gateway_headers(body))
        with urllib.request.urlopen(req, timeout=60) as response:
            assert response.status == 200
            return json.loads(response.read())

    return send
