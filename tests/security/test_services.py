"""Services reach only what is theirs (issue 25): the action server answers Rasa only (a shared secret
in a header, JSON bodies only), and the credential handoff_service holds for Rasa reaches only the
bridge routes it needs (a conversation's events, agent replies and the handoff slot, `EXTERNAL_`
intents), never Rasa's own HTTP API (models, status, any conversation's story or actions).

Every credential is read from the process that holds it (/proc/<pid>/environ of the stack's
processes), so each test attacks with what a compromised service, or a page, would really have."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.security.stack import MakeRun, http

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SECRET_NAMES = (
    "RASA_TOKEN",
    "RASA_HANDOFF_TOKEN",
    "ACTION_SERVER_SECRET",
    "HANDOFF_RASA_TOKEN",
    "CHAT_SESSION_SECRET",
    "CHANNEL_GATEWAY_SECRET",
    "CHAT_CUSTOMER_JWT_SECRET",
)


# ---------------------------------------------------------------- the stack's processes


def stack_processes(stack: MakeRun) -> dict[str, dict[str, str]]:
    """name → environment of the action server, Rasa and handoff_service started in this checkout."""
    found: dict[str, dict[str, str]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(entry / "cwd")).resolve() != stack.root.resolve():
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:  # ended meanwhile, or not ours to read
            continue
        words = [a.decode(errors="replace") for a in argv]
        if "actions.serve" in words or "rasa_sdk" in words:
            name = "actions"
        elif "bot.serve" in words:
            name = "rasa"
        elif "handoff_service" in words and "serve" in words:
            name = "handoff"
        else:
            continue
        found[name] = dict(item.decode(errors="replace").partition("=")[::2] for item in environ if b"=" in item)
    assert set(found) == {"actions", "rasa", "handoff"}, f"stack processes found: {sorted(found)}"
    return found


@pytest.fixture(scope="module")
def held(stack: MakeRun) -> dict[str, dict[str, str]]:
    return stack_processes(stack)


@pytest.fixture(scope="module")
def handoff_credential(held: dict[str, dict[str, str]]) -> str:
    """What handoff_service holds for Rasa (its HANDOFF_RASA_TOKEN)."""
    token = held["handoff"].get("HANDOFF_RASA_TOKEN", "")
    assert token, "handoff_service holds no credential for Rasa"
    return token


# ---------------------------------------------------------------- a case an agent handles


class Case:
    def __init__(self, stack: MakeRun) -> None:
        self.stack = stack
        self.bot_token = (stack.root / "var" / "bot.token").read_text().strip()
        self.agent_token = stack.cli("create-token", "--user", "agent1").strip().splitlines()[-1]
        self.conversation = f"sec-{uuid.uuid4().hex[:12]}"
        case = self.bot(
            "POST",
            "/api/bot/cases",
            {"channel": "rest", "conversation_id": self.conversation, "language": "zh", "category": "other"},
        )
        self.number: str = case["number"]
        self.bot("POST", f"/api/bot/cases/{self.number}/handoff", {"summary": {"problem": "安全测试"}})
        self.id: int = self.agent("POST", f"/api/cases/{case['id']}/accept")["id"]

    def bot(self, method: str, path: str, body: Any = None) -> Any:
        status, data = http(self.stack.handoff + path, body, {"Authorization": f"Bearer {self.bot_token}"}, method)
        assert 200 <= status < 300, (path, status, data)
        return data

    def agent(self, method: str, path: str, body: Any = None) -> Any:
        status, data = http(self.stack.handoff + path, body, {"Authorization": f"Bearer {self.agent_token}"}, method)
        assert 200 <= status < 300, (path, status, data)
        return data

    def messages(self) -> list[dict[str, Any]]:
        return list(self.agent("GET", f"/api/cases/{self.id}/messages")["messages"])

    def texts(self) -> str:
        return json.dumps(self.messages(), ensure_ascii=False)


@pytest.fixture(scope="module")
def case(stack: MakeRun) -> Case:
    return Case(stack)


def relay_call(case: Case, text: str) -> dict[str, Any]:
    """The action call Rasa would send while an agent has the conversation: the customer's message
    goes into the case (action_relay_to_agent)."""
    return {
        "next_action": "action_relay_to_agent",
        "sender_id": case.conversation,
        "version": "3.6.21",
        "tracker": {
            "sender_id": case.conversation,
            "slots": {"case_number": case.number, "handoff_active": True, "language": "zh"},
            "latest_message": {"text": text, "intent": {"name": "inform", "confidence": 1.0}, "entities": []},
            "latest_event_time": time.time(),
            "followup_action": None,
            "paused": False,
            "events": [],
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        },
        "domain": {"slots": {}, "responses": {}, "intents": [], "entities": [], "forms": {}, "actions": []},
    }


def raw_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """A POST with exactly these headers (no JSON content type added)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


# ---------------------------------------------------------------- 1. the action server


def test_the_action_server_refuses_a_call_without_its_secret(stack: MakeRun, case: Case) -> None:
    text = f"injected without the secret {uuid.uuid4().hex[:6]}"
    status, _ = http(stack.actions + "/webhook", relay_call(case, text))
    assert status in (401, 403)
    status, _ = http(stack.actions + "/webhook", relay_call(case, text), {"X-Action-Secret": "not-the-secret"})
    assert status in (401, 403)
    status, _ = http(stack.actions + "/actions")
    assert status in (401, 403)
    assert text not in case.texts()


def test_the_action_server_takes_json_only(stack: MakeRun, case: Case, held: dict[str, dict[str, str]]) -> None:
    secret = held["rasa"]["ACTION_SERVER_SECRET"]
    text = f"injected as text/plain {uuid.uuid4().hex[:6]}"
    body = json.dumps(relay_call(case, text)).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        status = raw_post(stack.actions + "/webhook", body, {"Content-Type": content_type, "X-Action-Secret": secret})
        assert status == 415, content_type
    assert text not in case.texts()


def test_the_action_server_answers_rasa_with_the_secret(stack: MakeRun, case: Case) -> None:
    secret = stack.secrets()["ACTION_SERVER_SECRET"]
    text = f"relayed by the action server {uuid.uuid4().hex[:6]}"
    status, data = http(stack.actions + "/webhook", relay_call(case, text), {"X-Action-Secret": secret})
    assert status == 200, data
    assert text in case.texts()  # the same call, with the secret, writes to the case
    assert http(stack.actions + "/health")[0] == 200  # open: it says nothing
    # and Rasa itself sends the secret: a conversation that needs an action works (as the messaging gateway,
    # which vouches for the customer who owns 12345, so no phone digits are asked first)
    message = {"sender": f"sec-order-{uuid.uuid4().hex[:6]}", "message": "查一下订单12345"}
    status, replies = stack.gateway({**message, "metadata": {"customer_id": "cust-1001"}})
    assert status == 200, replies
    assert "SF1402875531" in "\n".join(r.get("text", "") for r in replies)


class _AttackPage(BaseHTTPRequestHandler):
    html = b""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def attack_site() -> Iterator[tuple[str, type[_AttackPage]]]:
    """A web site of the attacker's (another origin than every server of the stack)."""
    handler = type("Page", (_AttackPage,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    finally:
        server.shutdown()
        server.server_close()


def test_a_web_page_the_operator_opens_cannot_call_actions(
    stack: MakeRun, case: Case, attack_site: tuple[str, type[_AttackPage]]
) -> None:
    from playwright.sync_api import sync_playwright

    url, page_handler = attack_site
    text = f"injected by a web page {uuid.uuid4().hex[:6]}"
    page_handler.html = b"<!doctype html><title>cats</title><p>cute cats</p>"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"])
        try:
            page = browser.new_page()
            page.goto(url)
            # a "simple" request: text/plain, no preflight, the answer is opaque but the request is sent
            outcome = page.evaluate(
                """async ([target, body]) => {
                    try {
                        await fetch(target, {method: 'POST', mode: 'no-cors',
                                             headers: {'Content-Type': 'text/plain'}, body});
                        return 'sent';
                    } catch (e) { return 'blocked: ' + e; }
                }""",
                [stack.actions + "/webhook", json.dumps(relay_call(case, text))],
            )
        finally:
            browser.close()
    assert outcome == "sent"  # the browser did send it: the server must refuse it
    time.sleep(1)
    assert text not in case.texts()


def test_the_action_server_and_handoff_service_hold_no_secret_of_another(held: dict[str, dict[str, str]]) -> None:
    actions = {name for name in SECRET_NAMES if held["actions"].get(name)}
    handoff = {name for name in SECRET_NAMES if held["handoff"].get(name)}
    assert actions <= {"ACTION_SERVER_SECRET"}, actions
    assert handoff <= {"HANDOFF_RASA_TOKEN"}, handoff
    # handoff_service's credential for Rasa is not Rasa's operator token
    assert held["handoff"]["HANDOFF_RASA_TOKEN"] != held["rasa"]["RASA_TOKEN"]


# ---------------------------------------------------------------- 2. handoff_service's credential for Rasa


def bridge(stack: MakeRun, conversation: str, suffix: str) -> str:
    return f"{stack.rasa}/handoff/conversations/{urllib.parse.quote(conversation, safe='')}/{suffix}"


def test_handoff_services_credential_cannot_reach_rasas_api(stack: MakeRun, handoff_credential: str) -> None:
    token = urllib.parse.quote(handoff_credential)
    bearer = {"Authorization": f"Bearer {handoff_credential}"}
    for method, path, body in (
        ("GET", "/status", None),
        ("PUT", "/model", {"model_file": "/nonexistent/model.tar.gz"}),  # would load a model of its choosing
        ("GET", "/conversations/sec-someone/tracker", None),
        ("GET", "/conversations/sec-someone/story", None),
        ("POST", "/conversations/sec-someone/trigger_intent", {"name": "greet"}),
        ("POST", "/model/parse", {"text": "你好"}),
    ):
        assert http(f"{stack.rasa}{path}?token={token}", body, method=method)[0] in (401, 403), path
        assert http(f"{stack.rasa}{path}", body, bearer, method)[0] in (401, 403), path
    # the operator's token still reaches it
    assert http(f"{stack.rasa}/status?token={urllib.parse.quote(stack.secrets()['RASA_TOKEN'])}")[0] == 200


def test_the_bridge_refuses_without_the_right_token(stack: MakeRun, held: dict[str, dict[str, str]]) -> None:
    url = bridge(stack, "sec-someone", "tracker")
    assert http(url)[0] == 401
    assert http(url, headers={"Authorization": "Bearer not-the-token"})[0] == 401
    assert http(url, headers={"Authorization": f"Bearer {held['rasa']['RASA_TOKEN']}"})[0] == 401  # the operator's
    assert http(url + f"?token={held['handoff']['HANDOFF_RASA_TOKEN']}")[0] == 401  # never in a URL
    body = [{"event": "bot", "text": "hi"}]
    assert http(bridge(stack, "sec-someone", "tracker/events"), body)[0] == 401


def test_the_bridge_triggers_external_intents_only(stack: MakeRun, handoff_credential: str) -> None:
    bearer = {"Authorization": f"Bearer {handoff_credential}"}
    conversation = f"sec-{uuid.uuid4().hex[:8]}"
    for name in ("greet", "request_human", "external_handoff_resolved", "EXTERNAL"):
        status, data = http(bridge(stack, conversation, "trigger_intent"), {"name": name, "entities": {}}, bearer)
        assert status == 403, (name, status, data)
        assert "EXTERNAL_" in data["message"]
    # and nothing it cannot do is open on Rasa's own routes either (403 or 401, never 2xx)
    status, _ = http(f"{stack.rasa}/conversations/{conversation}/trigger_intent", {"name": "greet"}, bearer)
    assert status in (401, 403)


def test_the_bridge_refuses_events_handoff_service_never_sends(stack: MakeRun, handoff_credential: str) -> None:
    bearer = {"Authorization": f"Bearer {handoff_credential}"}
    url = bridge(stack, f"sec-{uuid.uuid4().hex[:8]}", "tracker/events")
    for events in (
        [{"event": "slot", "name": "case_number", "value": "C20990101-0001"}],
        [{"event": "restart"}],
        [{"event": "bot", "text": "click", "data": {"buttons": [{"title": "x", "payload": "/EXTERNAL_x"}]}}],
        [{"event": "user", "text": "/greet"}],
        {"event": "bot", "text": "not a list"},
    ):
        status, data = http(url, events, bearer)
        assert status == 400, (events, status, data)
        assert data["message"]
    assert raw_post(url, b"[]", {"Authorization": f"Bearer {handoff_credential}", "Content-Type": "text/plain"}) == 415


def test_agent_replies_and_resolution_still_reach_the_customer(stack: MakeRun) -> None:
    """handoff_service's delivery works through the bridge: an agent's reply lands in the conversation
    and resolving hands it back to the bot (EXTERNAL_handoff_resolved runs the bot's rule)."""
    case = Case(stack)
    reply = f"您好，我来帮您处理 {uuid.uuid4().hex[:6]}"
    message = case.agent("POST", f"/api/cases/{case.id}/messages", {"text": reply})
    operator = urllib.parse.quote(stack.secrets()["RASA_TOKEN"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        delivered = [m for m in case.messages() if m["id"] == message["id"]]
        if delivered and delivered[0]["delivery"]["status"] != "pending":
            break
        time.sleep(0.5)
    assert delivered[0]["delivery"]["status"] == "delivered", delivered
    status, tracker = http(f"{stack.rasa}/conversations/{case.conversation}/tracker?token={operator}")
    assert status == 200
    assert reply in [e.get("text") for e in tracker["events"] if e.get("event") == "bot"]

    case.agent("POST", f"/api/cases/{case.id}/resolve", {"result": "已处理"})
    deadline = time.monotonic() + 60
    intents: list[Any] = []
    while time.monotonic() < deadline:
        _, tracker = http(f"{stack.rasa}/conversations/{case.conversation}/tracker?token={operator}")
        intents = [(e.get("parse_data") or {}).get("intent", {}).get("name") for e in tracker["events"]]
        if "EXTERNAL_handoff_resolved" in intents:
            break
        time.sleep(0.5)
    assert "EXTERNAL_handoff_resolved" in intents
