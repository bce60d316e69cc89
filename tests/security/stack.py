"""The stack as `make run` starts it, for tests that attack or drive it from outside.

`copy_checkout` copies the checkout's files (tracked and new, not ignored) to a directory of its own
(its own var/: databases, secrets, logs) and links the environments and the models; `MakeRun`
starts `make run` there on free ports, waits for "Ready.", and stops it with Ctrl-C (SIGINT to the
process group) as a user would. Standard library only (and bot.identity, which is too): the callers
run in either environment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bot.identity import GATEWAY_SECRET_ENV, SIGNATURE_HEADER, sign_body  # standard library only

ROOT = Path(__file__).resolve().parents[2]
SHARED = (".venv", ".venv-handoff", "models")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def copy_checkout(copy: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (item.decode() for item in listed)):
        if (ROOT / name).is_file():  # a tracked file deleted in the working tree is skipped
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    for shared in SHARED:
        (copy / shared).symlink_to(ROOT / shared)
    pretrained = ROOT / "var" / "pretrained"
    if pretrained.exists():
        (copy / "var").mkdir(exist_ok=True)
        (copy / "var" / "pretrained").symlink_to(pretrained)
    return copy


def http(
    url: str, body: Any = None, headers: dict[str, str] | None = None, method: str | None = None, timeout: float = 60
) -> tuple[int, Any]:
    """(status, parsed JSON body or raw text) of one request; errors are answers, not exceptions."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")


class MakeRun:
    """`make run` in `checkout` on free ports."""

    PORTS = ("RASA_PORT", "ACTIONS_PORT", "HANDOFF_PORT", "HANDOFF_CHAT_PORT")

    def __init__(self, checkout: Path, **env: str) -> None:
        self.root = checkout
        self.ports = {name: free_port() for name in self.PORTS}
        self.env = {**os.environ, **{name: str(port) for name, port in self.ports.items()}, **env}
        self.log = checkout / "make-run.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.printed = ""

    def url(self, port_name: str) -> str:
        return f"http://127.0.0.1:{self.ports[port_name]}"

    @property
    def rasa(self) -> str:
        return self.url("RASA_PORT")

    @property
    def actions(self) -> str:
        return self.url("ACTIONS_PORT")

    @property
    def handoff(self) -> str:
        return self.url("HANDOFF_PORT")

    @property
    def chat(self) -> str:
        """The customer chat page's origin."""
        return self.url("HANDOFF_CHAT_PORT")

    def start(self, timeout: float = 420) -> str:
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                ["make", "run"],
                cwd=self.root,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            if "Ready." in text:
                self.printed = text
                return text
            if self.process.poll() is not None:
                raise AssertionError(f"make run exited ({self.process.returncode}):\n{text[-3000:]}")
            time.sleep(1)
        raise AssertionError(f"make run was not ready in {timeout:.0f} s:\n{self.log.read_text()[-3000:]}")

    def stop(self, timeout: float = 90) -> None:
        """Ctrl-C, as a user stops it (it reaches the whole foreground group)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def secrets(self) -> dict[str, str]:
        """var/secrets.env as written by `make run`."""
        text = (self.root / "var" / "secrets.env").read_text()
        return dict(re.findall(r"^([A-Z_][A-Z0-9_]*)=(.*)$", text, re.M))

    def agent_credentials(self) -> tuple[str, str]:
        user, password = (self.root / "var" / "agent.credentials").read_text().split()
        return user, password

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """handoff_service's command line in this checkout (its var/handoff.db)."""
        out = subprocess.run(
            [str(self.root / ".venv-handoff" / "bin" / "python"), "-m", "handoff_service", *args],
            cwd=self.root,
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout

    def gateway(self, body: dict[str, Any], channel: str = "rest") -> tuple[int, Any]:
        """A message on Rasa's REST (or callback) channel, signed as the messaging gateway signs it."""
        raw = json.dumps(body).encode()
        signature = sign_body(self.secrets()[GATEWAY_SECRET_ENV], raw)
        return http(f"{self.rasa}/webhooks/{channel}/webhook", raw, {SIGNATURE_HEADER: signature})

    def api(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        """handoff_service's API with a bearer token."""
        return http(self.handoff + path, body, {"Authorization": f"Bearer {token}"}, method=method)

    def queued_case(self, token: str, conversation: str, wait: float = 30) -> dict[str, Any]:
        """The case of this conversation in the queue, as the agent of `token` reads it."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            status, queue = self.api("GET", "/api/queue", token)
            assert status == 200, queue
            for card in queue["cases"]:
                status, case = self.api("GET", f"/api/cases/{card['id']}", token)
                if status == 200 and case["conversation_id"] == conversation:
                    return dict(case)
            time.sleep(0.5)
        raise AssertionError(f"no queued case for conversation {conversation}")

    def read_log(self, name: str) -> str:
        return (self.root / "var" / "log" / name).read_text(errors="replace")
