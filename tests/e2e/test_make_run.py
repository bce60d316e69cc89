"""`make run` the way a new user runs it, in a copy of this checkout (its own var/; the same
environments and model): everything starts on the ports asked for, a conversation reaches the
action server, nothing in var/ is readable by other users, no process shows the Rasa API token, and
Ctrl-C stops everything."""

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

import pytest

from tests.e2e.conftest import ROOT, free_port


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """The checkout's files (tracked and new, not ignored) copied; environments and models linked."""
    copy = tmp_path_factory.mktemp("checkout")
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
    for shared in (".venv", ".venv-handoff", "models"):
        (copy / shared).symlink_to(ROOT / shared)
    return copy


def wait_for_ready(process: subprocess.Popen, log: Path, timeout: float = 420) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if "Ready." in text:
            return text
        if process.poll() is not None:
            raise AssertionError(f"make run exited ({process.returncode}):\n{text[-3000:]}")
        time.sleep(1)
    raise AssertionError(f"make run was not ready in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def http(url: str, body: dict | None = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def command_lines() -> list[bytes]:
    lines = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            lines.append(path.read_bytes())
        except OSError:  # the process ended meanwhile
            pass
    return lines


def test_make_run_serves_on_the_chosen_ports_keeps_secrets_private_and_stops_on_ctrl_c(checkout):
    ports = {"RASA_PORT": free_port(), "ACTIONS_PORT": free_port(), "HANDOFF_PORT": free_port()}
    env = {**os.environ, **{name: str(port) for name, port in ports.items()}}
    log = checkout / "make-run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["make", "run"], cwd=checkout, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        printed = wait_for_ready(process, log)
        rasa = f"http://127.0.0.1:{ports['RASA_PORT']}"
        assert f"Rasa server     {rasa}" in printed
        assert f"Agent console   http://127.0.0.1:{ports['HANDOFF_PORT']}/console" in printed
        assert re.search(r"agent login: agent1 / \S{10,}", printed)

        # an order lookup needs the action server, here on a port other than endpoints.yml's
        status, replies = http(f"{rasa}/webhooks/rest/webhook", {"sender": "make-run", "message": "查一下订单12345"})
        assert status == 200
        assert "SF1402875531" in "\n".join(reply.get("text", "") for reply in replies)

        token = re.search(r"^RASA_TOKEN=(\S+)$", (checkout / "var/secrets.env").read_text(), re.M).group(1)
        assert not [line for line in command_lines() if token.encode() in line]
        assert http(f"{rasa}/status")[0] == 401
        assert http(f"{rasa}/status?token={token}")[0] == 200

        for name in (
            "secrets.env",
            "bot.token",
            "agent.credentials",
            "handoff.db",
            "tracker.db",
            "demo_store.db",
            "log/rasa.log",
            "log/handoff.log",
        ):
            mode = (checkout / "var" / name).stat().st_mode
            assert mode & 0o077 == 0, f"var/{name} is readable by others ({oct(mode)})"

        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        process.wait(timeout=90)
        assert "stopped." in log.read_text()
        assert not [name for name, port in ports.items() if port_open(port)]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
