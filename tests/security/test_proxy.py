"""The documented reverse proxy (handoff_service/deploy/nginx.conf, with Debian's nginx) in front of
the stack `make run` starts: customers' site exposes the chat page and the widget's socket only,
the staff site handoff_service only; Rasa's API and channels are reachable through neither."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.security.socketio_client import SocketIOClient
from tests.security.stack import ROOT, MakeRun, free_port, http

SITE = ROOT / "handoff_service" / "deploy" / "nginx.conf"


@dataclass
class Proxy:
    chat: str
    staff: str


def main_conf(prefix: Path, site: Path) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"  access_log {prefix}/access.log;\n"
        f"  client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;\n"
        f"  fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;\n"
        f"  include {site};\n"
        "}\n"
    )


@pytest.fixture(scope="module")
def proxy(stack: MakeRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    prefix = tmp_path_factory.mktemp("nginx")
    chat_port, staff_port = free_port(), free_port()
    filled = SITE.read_text()
    for name, value in {
        "CHAT_LISTEN": f"127.0.0.1:{chat_port}",
        "STAFF_LISTEN": f"127.0.0.1:{staff_port}",
        "CHAT_HOST": "127.0.0.1",
        "STAFF_HOST": "127.0.0.1",
        "RASA": f"127.0.0.1:{stack.ports['RASA_PORT']}",
        "HANDOFF": f"127.0.0.1:{stack.ports['HANDOFF_PORT']}",
        "HANDOFF_CHAT": f"127.0.0.1:{stack.ports['HANDOFF_CHAT_PORT']}",
    }.items():
        filled = filled.replace(f"@{name}@", value)
    assert "@" not in "".join(line for line in filled.splitlines() if not line.lstrip().startswith("#"))
    (prefix / "site.conf").write_text(filled)
    (prefix / "nginx.conf").write_text(main_conf(prefix, prefix / "site.conf"))
    nginx = subprocess.Popen(
        ["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    chat, staff = f"http://127.0.0.1:{chat_port}", f"http://127.0.0.1:{staff_port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(chat + "/chat", timeout=2)
                break
            except OSError:
                assert nginx.poll() is None, (prefix / "error.log").read_text()
                time.sleep(0.1)
        yield Proxy(chat, staff)
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)


def test_customers_reach_the_chat_page_and_the_widgets_socket(proxy: Proxy) -> None:
    for path in ("/chat", "/static/chat.js", "/static/chat.css", "/static/vendor/rasa-webchat/webchat.js"):
        assert http(proxy.chat + path)[0] == 200, path
    status, opened = http(proxy.chat + "/socket.io/?EIO=4&transport=polling")
    assert status == 200 and str(opened).startswith("0{"), opened


async def test_the_widget_talks_to_the_assistant_through_the_proxy(proxy: Proxy) -> None:
    client = SocketIOClient(proxy.chat, origin=proxy.chat)  # the page and its socket share the origin
    try:
        await client.connect()
        await client.emit("session_request", {"session_id": None})
        session = await client.next_event("session_confirm")
        await client.emit("user_uttered", {"message": "你好", "session_id": session, "customData": {"language": "zh"}})
        assert await client.next_event("bot_uttered")
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/status"),
        ("GET", "/version"),
        ("PUT", "/model"),
        ("GET", "/conversations/someone/tracker"),
        ("POST", "/conversations/someone/trigger_intent"),
        ("GET", "/handoff/conversations/someone/tracker"),
        ("GET", "/handoff/review/events?after=0"),
        ("GET", "/handoff/intents"),
        ("POST", "/webhooks/rest/webhook"),
        ("POST", "/webhooks/callback/webhook"),
        ("GET", "/api/openapi.json"),
        ("POST", "/api/bot/cases"),
        ("GET", "/console"),
        ("GET", "/static/console/main.js"),
        ("GET", "/"),
    ],
)
def test_customers_reach_nothing_else(proxy: Proxy, method: str, path: str) -> None:
    status, _ = http(proxy.chat + path, b"{}" if method != "GET" else None, method=method)
    assert status == 404, (method, path, status)


def test_staff_reach_handoff_service_and_nothing_of_the_chat_or_rasa(proxy: Proxy) -> None:
    assert http(proxy.staff + "/console")[0] == 200
    assert http(proxy.staff + "/api/openapi.json")[0] == 200
    for path in (
        "/chat",
        "/socket.io/?EIO=4&transport=polling",
        "/status",
        "/conversations/x/tracker",
        "/handoff/review/events",
    ):
        assert http(proxy.staff + path)[0] == 404, path
