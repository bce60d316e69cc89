"""What the agent console reads and writes besides the case routes: the merged
transcript (Rasa's tracker + the case's messages), private notes, the style
guide's phrases and taboo check, and the two pages with their CSP."""

from __future__ import annotations

import json

from test_ws import _next

from handoff_service.app import create_app, create_chat_app
from handoff_service.core.config import Settings

T0 = 1_795_000_000.0  # tracker timestamps (epoch seconds), before the fake clock's "now"


async def _accepted(h, agent: str = "alice") -> tuple[dict, dict]:
    headers = await h.user(agent)
    case = await h.queued_case()
    status, case = await h.post(f"/api/cases/{case['id']}/accept", headers)
    assert status == 200
    return case, headers


# ---------------------------------------------------------------- transcript


async def test_transcript_merges_the_bots_part_with_the_cases_messages(h, rasa):
    case, alice = await _accepted(h)
    rasa.events["conv-1"] = [
        {"event": "action", "name": "action_listen", "timestamp": T0},
        {"event": "user", "text": "我的退款还没到", "timestamp": T0 + 1, "parse_data": {"intent": {"name": "refund"}}},
        {"event": "bot", "text": "明白，请稍等，我为您查询。", "timestamp": T0 + 2, "metadata": {}},
        {"event": "user", "text": "转人工", "timestamp": T0 + 3},
        {"event": "bot", "text": "好的，正在为您转接人工客服。", "timestamp": T0 + 4},
        {"event": "slot", "name": "handoff_active", "value": True, "timestamp": T0 + 5},
    ]
    # during the handoff: the customer's message is in the tracker AND relayed to the case
    status, _ = await h.post(f"/api/bot/cases/{case['number']}/messages", h.bot, {"text": "还在吗？"})
    assert status == 201
    rasa.events["conv-1"].append({"event": "user", "text": "还在吗？", "timestamp": T0 + 6})
    status, reply = await h.post(f"/api/cases/{case['id']}/messages", alice, {"text": "您好，我是客服 Alice。"})
    assert status == 201
    await h.deps.delivery.idle()
    # the delivered reply is in the tracker too (a bot event with the agent's metadata)
    assert [e["text"] for e in rasa.applied("conv-1", "bot")][-1] == "您好，我是客服 Alice。"
    rasa.events["conv-1"].append(
        {
            "event": "user",
            "text": "/EXTERNAL_handoff_resolved",
            "timestamp": T0 + 7,
            "parse_data": {"intent": {"name": "EXTERNAL_handoff_resolved"}},
        }
    )

    status, body = await h.get(f"/api/cases/{case['id']}/transcript", alice)
    assert status == 200, body
    assert body["rasa"] == {"available": True, "error": None}
    assert body["case"] == case["number"] and body["conversation_id"] == "conv-1"
    got = [(i["source"], i["kind"], i["text"]) for i in body["items"]]
    assert got == [
        ("rasa", "customer", "我的退款还没到"),
        ("rasa", "bot", "明白，请稍等，我为您查询。"),
        ("rasa", "customer", "转人工"),
        ("rasa", "bot", "好的，正在为您转接人工客服。"),
        ("case", "customer", "还在吗？"),
        ("case", "agent", "您好，我是客服 Alice。"),
    ]
    agent_item = body["items"][-1]
    assert agent_item["author"]["username"] == "alice" and agent_item["delivery"]["status"] == "delivered"
    assert agent_item["message_id"] == reply["id"]
    assert rasa.tracker_reads >= 1 and rasa.auth[-1] == "Bearer rasa-secret" and rasa.queries[-1] == {}


async def test_transcript_without_rasa_shows_the_case_messages_and_says_why(h, aiohttp_client, db_url, clock):
    # a Rasa URL where nothing listens
    settings = Settings(
        database_url=db_url,
        rasa_url="http://127.0.0.1:9",
        sla_interval_seconds=0,
        delivery_max_attempts=1,
        auth_cache_seconds=0,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        transcript_timeout_seconds=2,
    )
    h.client = await aiohttp_client(create_app(settings, clock=clock, run_background=False))
    await h.make_bot()
    alice = await h.user("alice")
    case = await h.queued_case()
    await h.post(f"/api/bot/cases/{case['number']}/messages", h.bot, {"text": "<script>alert(1)</script>"})
    status, body = await h.get(f"/api/cases/{case['id']}/transcript", alice)
    assert status == 200
    assert body["rasa"]["available"] is False and "could not be read" in body["rasa"]["error"]
    assert [(i["kind"], i["text"]) for i in body["items"]] == [("customer", "<script>alert(1)</script>")]


async def test_transcript_when_rasa_answers_an_error(h, rasa):
    alice = await h.user("alice")
    case = await h.queued_case()
    rasa.tracker_fail = 5
    status, body = await h.get(f"/api/cases/{case['id']}/transcript", alice)
    assert status == 200 and body["rasa"]["available"] is False and "HTTP 500" in body["rasa"]["error"]
    status, _ = await h.get("/api/cases/999/transcript", alice)
    assert status == 404
    status, _ = await h.get(f"/api/cases/{case['id']}/transcript", h.bot)
    assert status == 403


# ---------------------------------------------------------------- private notes


async def test_private_note_is_on_the_timeline_audited_pushed_and_never_delivered(h, rasa):
    case, alice = await _accepted(h)
    sam = await h.user("sam", role="supervisor")
    ws = await h.client.ws_connect("/api/ws", headers=alice)
    await _next(ws, "hello")
    status, note = await h.post(f"/api/cases/{case['id']}/notes", alice, {"text": "  customer is a repeat caller  "})
    assert status == 201, note
    assert note["text"] == "customer is a repeat caller" and note["author"]["username"] == "alice"
    ev = await _next(ws, "note.new")
    assert ev["case_id"] == case["id"] and ev["note"]["text"] == "customer is a repeat caller"
    await ws.close()
    events = await h.timeline(case["id"], alice)
    assert events[-1]["action"] == "note" and events[-1]["details"] == {"text": "customer is a repeat caller"}
    assert events[-1]["actor_id"] == "alice"
    _, audit = await h.get("/api/audit?action=case.note", sam)
    assert len(audit["entries"]) == 1 and audit["entries"][0]["target_id"] == case["number"]
    await h.deps.delivery.idle()
    assert rasa.posts == 0  # nothing went to the customer
    _, msgs = await h.get(f"/api/cases/{case['id']}/messages", alice)
    assert msgs["messages"] == []


async def test_only_owner_handler_or_supervisor_may_add_notes(h):
    case, alice = await _accepted(h)
    bob = await h.user("bob")
    status, body = await h.post(f"/api/cases/{case['id']}/notes", bob, {"text": "x"})
    assert status == 403 and body["error"]["code"] == "not_case_participant"
    for bad in ({}, {"text": "   "}, {"text": "x", "public": True}):
        status, _ = await h.post(f"/api/cases/{case['id']}/notes", alice, bad)
        assert status == 400, bad


# ---------------------------------------------------------------- style guide


async def test_phrasing_serves_the_style_guides_phrases(h):
    alice = await h.user("alice")
    status, body = await h.get("/api/phrasing", alice)
    assert status == 200
    groups = {g["group"]: g["phrases"] for g in body["standard"]}
    assert "请稍等" in groups["wait"]["zh"] and "One moment, please" in groups["wait"]["en"]
    assert "question" not in groups  # punctuation only: no button
    taboo = {(t["category"], t["language"]): t["phrases"] for t in body["taboo"]}
    assert "calm down" in taboo[("cold", "en")] and "你冷静点" in taboo[("cold", "zh")]
    status, _ = await h.get("/api/phrasing", h.bot)
    assert status == 403


async def test_taboo_check_uses_the_linters_rule(h):
    alice = await h.user("alice")

    async def check(text: str) -> list[dict]:
        status, body = await h.post("/api/phrasing/check", alice, {"text": text})
        assert status == 200, body
        return body["taboos"]

    assert await check("Please CALM DOWN, sir") == [{"category": "cold", "phrase": "calm down"}]
    assert {"category": "cold", "phrase": "你冷静点"} in await check("你冷静点，好吗")
    # Traditional characters are converted before matching
    assert {"category": "cold", "phrase": "你冷静点"} in await check("你冷靜點")
    assert {"category": "shirking", "phrase": "不归我管"} in await check("這不歸我管")
    assert await check("您好，请稍等，我马上为您处理。") == []
    assert await check("") == []


async def test_style_guide_path_is_configurable(h, aiohttp_client, settings, clock, tmp_path):
    guide = tmp_path / "guide.yml"
    guide.write_text(
        json.dumps({"standard_phrases": {"hi": {"en": ["Hi there"]}}, "taboo_phrases": {"rude": {"en": ["go away"]}}}),
        encoding="utf-8",
    )
    h.client = await aiohttp_client(
        create_app(settings.with_(style_guide_file=guide), clock=clock, run_background=False)
    )
    alice = await h.user("alice")
    _, body = await h.get("/api/phrasing", alice)
    assert body["standard"] == [{"group": "hi", "phrases": {"en": ["Hi there"]}}]
    _, body = await h.post("/api/phrasing/check", alice, {"text": "Go away!"})
    assert body["taboos"] == [{"category": "rude", "phrase": "go away"}]


# ---------------------------------------------------------------- pages


async def test_pages_are_served_with_a_csp(h):
    resp = await h.client.get("/console")
    assert resp.status == 200 and resp.content_type == "text/html"
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    page = await resp.text()
    assert "<script" in page and "/static/console/main.js" in page and "onclick" not in page
    resp = await h.client.get("/", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/console"
    # the chat page is not the console's: it has an origin of its own
    assert (await h.client.get("/chat")).status == 404


async def test_the_chat_page_has_its_own_application_with_only_its_files(aiohttp_client, settings):
    client = await aiohttp_client(create_chat_app(settings))
    resp = await client.get("/chat")
    assert resp.status == 200
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "connect-src 'self' http://127.0.0.1:5005 ws://127.0.0.1:5005" in csp
    page = await resp.text()
    assert 'data-socket-url="http://127.0.0.1:5005"' in page and 'data-socket-path="/socket.io/"' in page
    assert "/static/vendor/rasa-webchat/webchat.js" in page
    for path in ("/static/chat.js", "/static/chat.css", "/static/vendor/rasa-webchat/webchat.js"):
        resp = await client.get(path)
        assert resp.status == 200, path
    assert (await client.get("/static/chat.js")).content_type == "text/javascript"
    for path in ("/console", "/api/me", "/api/openapi.json", "/static/console/main.js", "/static/console.html", "/"):
        assert (await client.get(path)).status == 404, path


async def test_chat_page_takes_the_socket_url_from_settings_escaped(h, aiohttp_client, settings, clock):
    s = settings.with_(chat_socket_url='https://chat.example.test"><b>', chat_socket_path="/rasa/socket.io/")
    client = await aiohttp_client(create_chat_app(s))
    resp = await client.get("/chat")
    page = await resp.text()
    assert 'data-socket-url="https://chat.example.test&quot;&gt;&lt;b&gt;"' in page
    assert 'data-socket-path="/rasa/socket.io/"' in page


async def test_static_files_and_vendored_widget(h):
    resp = await h.client.get("/static/vendor/rasa-webchat/webchat.js")
    assert resp.status == 200 and "javascript" in resp.content_type
    body = await resp.text()
    assert "WebChat" in body and "fonts.googleapis.com" not in body
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    resp = await h.client.get("/static/vendor/rasa-webchat/LICENSE")
    assert resp.status == 200 and "Apache License" in await resp.text()
    resp = await h.client.get("/static/../config.py")
    assert resp.status == 404
    resp = await h.client.get("/static/")
    assert resp.status in (403, 404)
