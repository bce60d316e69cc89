"""`make run` the way a new user runs it, in a copy of this checkout (its own var/; the same
environments and model): everything starts on the ports asked for, a conversation reaches the
action server, nothing in var/ is readable by other users, no process shows the Rasa API token, the
bridge token or the action server's secret, and Ctrl-C stops everything."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from tests.security.stack import MakeRun, copy_checkout, http


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """The checkout's files (tracked and new, not ignored) copied; environments and models linked."""
    return copy_checkout(tmp_path_factory.mktemp("checkout"))


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
    run = MakeRun(checkout)
    ports = run.ports
    try:
        printed = run.start()
        rasa = f"http://127.0.0.1:{ports['RASA_PORT']}"
        assert f"Rasa server     {rasa}" in printed
        assert f"Agent console   http://127.0.0.1:{ports['HANDOFF_PORT']}/console" in printed
        assert f"Customer chat   http://127.0.0.1:{ports['HANDOFF_CHAT_PORT']}/chat" in printed
        assert re.search(r"agent login: agent1 / \S{10,}", printed)
        assert re.search(r"supervisor login: supervisor1 / \S{10,}", printed)

        # an order lookup needs the action server, here on a port other than endpoints.yml's (the gateway
        # vouches for the customer who owns 12345, so no phone digits are asked first)
        message = {"sender": "make-run", "message": "查一下订单12345", "metadata": {"customer_id": "cust-1001"}}
        status, replies = run.gateway(message)
        assert status == 200
        assert "SF1402875531" in "\n".join(reply.get("text", "") for reply in replies)

        made = run.secrets()
        for name in ("RASA_TOKEN", "RASA_HANDOFF_TOKEN", "ACTION_SERVER_SECRET"):
            assert not [line for line in command_lines() if made[name].encode() in line], f"a process shows {name}"
        token = made["RASA_TOKEN"]
        assert http(f"{rasa}/status")[0] == 401
        assert http(f"{rasa}/status?token={token}")[0] == 200
        # handoff_service's bridge token reaches no route of Rasa's own API
        assert http(f"{rasa}/status?token={made['RASA_HANDOFF_TOKEN']}")[0] == 401
        # the action server answers Rasa only (the order lookup above went through it, with the secret)
        assert http(f"http://127.0.0.1:{ports['ACTIONS_PORT']}/webhook", {"next_action": "action_listen"})[0] == 401

        for name in (
            "secrets.env",
            "bot.token",
            "agent.credentials",
            "supervisor.credentials",
            "handoff.db",
            "tracker.db",
            "demo_store.db",
            "log/rasa.log",
            "log/handoff.log",
        ):
            mode = (checkout / "var" / name).stat().st_mode
            assert mode & 0o077 == 0, f"var/{name} is readable by others ({oct(mode)})"

        run.stop()  # Ctrl-C reaches the whole foreground group
        assert "stopped." in run.log.read_text()
        assert not [name for name, port in ports.items() if port_open(port)]
    finally:
        run.stop()


def test_make_run_starts_again_with_the_logins_of_the_first_run(checkout):
    """The second `make run` finds its accounts made (their passwords only in var/) and starts all the same."""
    run = MakeRun(checkout)
    try:
        run.start()
        run.stop()
        printed = run.start()
        for role in ("agent", "supervisor", "trainer"):
            assert f"{role} login: see var/{role}.credentials" in printed
        assert http(f"{run.handoff}/api/health")[0] == 200
    finally:
        run.stop()
