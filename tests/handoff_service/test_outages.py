"""Outage notices (SPEC §7, issue 27 items 5-8): supervisors publish and update them, updates are
append-only, the bot reads the notices in force and links cases, and every customer with an open
linked case gets exactly one message per status change and one on resolution."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from handoff_service.app import create_app
from handoff_service.core.deps import DEPS
from handoff_service.outages import service as outages

ETA = 1_795_000_000  # 2026-11-18 (Unix seconds)


def notice_body(**over):
    return {
        "title": {"zh": "支付服务异常", "en": "Payment service disruption"},
        "message": {
            "zh": "部分用户付款失败，技术同事正在排查。",
            "en": "Some payments fail; our engineers are investigating.",
        },
        "topics": ["payment"],
        "status": "investigating",
        "expected_recovery_at": ETA,
        **over,
    }


def update_body(status=None, **over):
    body = {
        "message": {
            "zh": "已定位到支付网关故障，正在修复。",
            "en": "The payment gateway fault is found and being fixed.",
        }
    }
    if status:
        body["status"] = status
    body.update(over)
    return body


RESOLVE = {
    "message": {"zh": "支付功能已恢复正常。", "en": "Payments work normally again."},
    "review": {"cause": "gateway certificate expired", "fix": "renewed the certificate", "prevention": "expiry alerts"},
}


async def _setup(h):
    sup = await h.user("sam", "supervisor")
    status, notice = await h.post("/api/outages", sup, notice_body())
    assert status == 201, notice
    return sup, notice


async def _linked_case(h, notice, conv, language="zh"):
    case = await h.new_case(conversation_id=conv, language=language, category="billing")
    status, body = await h.post(
        f"/api/bot/outages/{notice['id']}/cases", h.bot, {"case": case["number"], "conversation_id": conv}
    )
    assert status == 201, body
    return case


def outage_events(rasa, conv):
    return [e for e in rasa.applied(conv, "bot") if "outage_notice" in (e.get("metadata") or {})]


async def test_a_supervisor_publishes_and_it_is_audited_with_before_and_after(h):
    sup, notice = await _setup(h)
    assert notice["status"] == "investigating" and notice["in_force"] is True
    assert notice["title"] == {"zh": "支付服务异常", "en": "Payment service disruption"}
    assert notice["latest"]["author"]["username"] == "sam" and notice["latest"]["at"]
    assert notice["expected_recovery_at"].startswith("2026-11-18")
    _, log = await h.get("/api/audit?action=outage.publish", sup)
    [entry] = log["entries"]
    assert entry["target_id"] == str(notice["id"]) and entry["details"]["before"] is None
    assert entry["details"]["after"]["status"] == "investigating"


async def test_only_supervisors_write_and_a_refusal_is_audited(h):
    sup, notice = await _setup(h)
    alice = await h.user("alice", "agent")
    trainer = await h.user("tina", "trainer")
    for path, body in (
        ("/api/outages", notice_body()),
        (f"/api/outages/{notice['id']}/updates", update_body("identified")),
        (f"/api/outages/{notice['id']}/resolve", RESOLVE),
        (f"/api/outages/{notice['id']}/resolve-cases", {"result": "ok"}),
    ):
        status, err = await h.post(path, alice, body)
        assert status == 403 and err["error"]["code"] == "wrong_role", (path, err)
    status, err = await h.post("/api/outages", h.bot, notice_body())
    assert status == 403 and err["error"]["code"] == "staff_only"
    # agents read the notices in force; trainers do not
    status, listed = await h.get("/api/outages", alice)
    assert status == 200 and [n["id"] for n in listed["notices"]] == [notice["id"]]
    assert (await h.get("/api/outages", trainer))[0] == 403
    _, log = await h.get("/api/audit?actor=alice", sup)
    denied = [e for e in log["entries"] if e["outcome"] == "denied"]
    assert len(denied) == 4 and {e["details"]["code"] for e in denied} == {"wrong_role"}
    _, shown = await h.get(f"/api/outages/{notice['id']}", sup)
    assert len(shown["updates"]) == 1  # nothing was written by the refused calls


async def test_the_vocabulary_is_served(h):
    sup = await h.user("sam", "supervisor")
    status, voc = await h.get("/api/outages/vocabulary", sup)
    assert status == 200
    assert [s["name"] for s in voc["statuses"]] == ["investigating", "identified", "monitoring", "resolved"]
    assert voc["transitions"]["resolved"] == [] and "identified" in voc["transitions"]["investigating"]
    assert {"payment", "delivery", "login"} <= {t["name"] for t in voc["topics"]}
    assert all(t["label"]["zh"] and t["label"]["en"] for t in voc["topics"])


@pytest.mark.parametrize("stmt", ["UPDATE outage_updates SET message_zh = 'x'", "DELETE FROM outage_updates"])
async def test_updates_are_append_only(h, stmt):
    await _setup(h)
    with pytest.raises(DBAPIError, match="append-only"):
        async with h.deps.engine.begin() as conn:
            await conn.execute(text(stmt))


async def test_transitions_are_data_and_others_are_refused(h):
    sup, notice = await _setup(h)
    nid = notice["id"]
    status, body = await h.post(f"/api/outages/{nid}/updates", sup, update_body("identified"))
    assert status == 201 and body["status"] == "identified"
    status, err = await h.post(f"/api/outages/{nid}/updates", sup, update_body("investigating"))
    assert status == 409 and err["error"]["code"] == "invalid_transition"
    assert err["error"]["details"]["allowed"] == ["identified", "monitoring"]
    status, err = await h.post(f"/api/outages/{nid}/updates", sup, update_body(version=1))
    assert status == 409 and err["error"]["code"] == "concurrent_change"
    status, done = await h.post(f"/api/outages/{nid}/resolve", sup, RESOLVE)
    assert status == 200 and done["status"] == "resolved" and done["review"]["cause"] == "gateway certificate expired"
    status, err = await h.post(f"/api/outages/{nid}/updates", sup, update_body())
    assert status == 409 and err["error"]["code"] == "invalid_transition"
    status, err = await h.post(f"/api/outages/{nid}/resolve", sup, RESOLVE)
    assert status == 409
    _, shown = await h.get(f"/api/outages/{nid}", sup)
    assert [u["status"] for u in shown["updates"]] == ["investigating", "identified", "resolved"]
    assert all(u["author"]["username"] == "sam" and u["at"] for u in shown["updates"])
    _, log = await h.get("/api/audit?action=outage.resolve", sup)
    [entry] = log["entries"]
    assert entry["details"]["before"]["status"] == "identified"
    assert entry["details"]["after"]["review"]["prevention"] == "expiry alerts"


async def test_resolving_needs_a_review(h):
    sup, notice = await _setup(h)
    status, err = await h.post(f"/api/outages/{notice['id']}/resolve", sup, {"message": RESOLVE["message"]})
    assert status == 400 and err["error"]["code"] == "invalid_field"
    blank = {**RESOLVE, "review": {**RESOLVE["review"], "fix": "  "}}
    assert (await h.post(f"/api/outages/{notice['id']}/resolve", sup, blank))[0] == 400


async def test_the_bot_reads_the_notices_in_force_by_topic(h):
    sup, notice = await _setup(h)
    status, other = await h.post(
        "/api/outages", sup, notice_body(topics=["delivery"], title={"zh": "华东配送延迟", "en": "Delivery delays"})
    )
    assert status == 201
    _, payment = await h.get("/api/bot/outages?topic=payment", h.bot)
    [n] = payment["notices"]
    assert n["id"] == notice["id"] and n["status_label"]["zh"] == "正在排查"
    assert n["latest"]["zh"].startswith("部分用户付款失败") and n["expected_recovery_at"].startswith("2026-11-18")
    _, everything = await h.get("/api/bot/outages", h.bot)
    assert [x["id"] for x in everything["notices"]] == [other["id"], notice["id"]]
    _, none = await h.get("/api/bot/outages?topic=login", h.bot)
    assert none["notices"] == []
    await h.post(f"/api/outages/{notice['id']}/resolve", sup, RESOLVE)
    _, after = await h.get("/api/bot/outages?topic=payment", h.bot)
    assert after["notices"] == []
    assert (await h.get("/api/bot/outages", await h.user("alice")))[0] == 403  # bot token only


async def test_linking_counts_customers_and_is_idempotent(h):
    sup, notice = await _setup(h)
    nid = notice["id"]
    case = await _linked_case(h, notice, "conv-a")
    again = await h.post(f"/api/bot/outages/{nid}/cases", h.bot, {"case": case["number"], "conversation_id": "conv-a"})
    assert again[0] == 200
    # a case of another conversation: the same answer as a case that does not exist
    status, err = await h.post(f"/api/bot/outages/{nid}/cases", h.bot, {"case": case["number"], "conversation_id": "x"})
    assert status == 404 and err["error"]["code"] == "case_not_found"
    second = await h.new_case(conversation_id="conv-a")  # the same customer, a second case
    await h.post(f"/api/bot/outages/{nid}/cases", h.bot, {"case": second["number"]})
    await _linked_case(h, notice, "conv-b")
    _, shown = await h.get(f"/api/outages/{nid}", sup)
    assert shown["linked_cases"] == 3 and shown["reports"] == 2
    assert {c["number"] for c in shown["cases"]} >= {case["number"], second["number"]}
    status, err = await h.post(f"/api/bot/outages/{nid}/cases", h.bot, {"case": "C20990101-0001"})
    assert status == 404


async def test_each_linked_customer_gets_one_message_per_status_change_and_on_resolution(h, rasa):
    sup, notice = await _setup(h)
    nid = notice["id"]
    await _linked_case(h, notice, "conv-zh", "zh")
    await _linked_case(h, notice, "conv-en", "en")
    await h.new_case(conversation_id="conv-zh")  # a second case of the same customer, linked too
    _, zh_cases = await h.get(f"/api/outages/{nid}", sup)
    await h.post(f"/api/bot/outages/{nid}/cases", h.bot, {"case": zh_cases["cases"][0]["number"]})
    unlinked = await h.new_case(conversation_id="conv-other")
    assert unlinked

    status, body = await h.post(f"/api/outages/{nid}/updates", sup, update_body("identified"))
    assert status == 201 and body["latest"]["notified"] == 2
    await h.deps.delivery.idle()
    [zh] = outage_events(rasa, "conv-zh")
    [en] = outage_events(rasa, "conv-en")
    assert "已找到原因" in zh["text"] and "感谢您的理解" in zh["text"] and "2026年11月18日" in zh["text"]
    assert "Thank you for your understanding" in en["text"] and "Beijing time" in en["text"]
    assert "gateway fault" in en["text"]
    assert rasa.applied("conv-other") == []

    # a progress update with the same status and recovery time is for staff only
    status, body = await h.post(f"/api/outages/{nid}/updates", sup, update_body())
    assert body["latest"]["notified"] == 0
    # a new expected recovery time is told
    status, body = await h.post(f"/api/outages/{nid}/updates", sup, update_body(expected_recovery_at=ETA + 3600))
    assert body["latest"]["notified"] == 2
    await h.deps.delivery.idle()
    assert len(outage_events(rasa, "conv-zh")) == 2 and len(outage_events(rasa, "conv-en")) == 2

    status, body = await h.post(f"/api/outages/{nid}/resolve", sup, RESOLVE)
    assert status == 200 and body["latest"]["notified"] == 2
    await h.deps.delivery.idle()
    zh_all, en_all = outage_events(rasa, "conv-zh"), outage_events(rasa, "conv-en")
    assert len(zh_all) == 3 and len(en_all) == 3
    assert "已恢复正常" in zh_all[-1]["text"] and "working normally again" in en_all[-1]["text"]
    keys = [e["metadata"]["idempotency_key"] for e in zh_all + en_all]
    assert len(set(keys)) == len(keys)


async def test_running_the_fan_out_again_sends_nothing_twice(h, rasa):
    sup, notice = await _setup(h)
    nid = notice["id"]
    for i in range(5):
        await _linked_case(h, notice, f"conv-{i}")
    _, body = await h.post(f"/api/outages/{nid}/updates", sup, update_body("identified"))
    await h.deps.delivery.idle()
    update_id = body["latest"]["id"]
    assert await outages.fan_out(h.deps, update_id) == 0
    await h.deps.delivery.idle()
    assert all(len(outage_events(rasa, f"conv-{i}")) == 1 for i in range(5))
    # the database itself refuses a second row for the same (update, conversation)
    key = outages.outage_key(update_id, "conv-0")
    with pytest.raises(Exception, match="(?i)unique"):
        async with h.deps.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO deliveries (case_id, kind, conversation_id, idempotency_key, payload, status,"
                    " attempts, created_at) VALUES (1, 'outage_notice', 'conv-0', :k, '{}', 'pending', 0,"
                    " '2026-11-24 08:00:00.000000')"
                ),
                {"k": key},
            )


async def test_a_restart_before_sending_delivers_each_message_once(h, rasa, aiohttp_client, settings, clock):
    sup, notice = await _setup(h)
    for i in range(3):
        await _linked_case(h, notice, f"conv-{i}")
    await h.deps.delivery.close()  # the process dies right after the commit
    _, body = await h.post(f"/api/outages/{notice['id']}/updates", sup, update_body("identified"))
    assert body["latest"]["notified"] == 3 and rasa.posts == 0
    restarted = await aiohttp_client(create_app(settings, clock=clock, run_background=False))
    await restarted.server.app[DEPS].delivery.idle()
    assert all(len(outage_events(rasa, f"conv-{i}")) == 1 for i in range(3))
    # and the fan-out run again after the restart adds nothing
    assert await outages.fan_out(restarted.server.app[DEPS], body["latest"]["id"]) == 0


async def test_a_delivery_applied_by_rasa_but_answered_with_an_error_is_not_repeated(h, rasa):
    sup, notice = await _setup(h)
    await _linked_case(h, notice, "conv-1")
    rasa.mode = "error_after_accept"
    await h.post(f"/api/outages/{notice['id']}/updates", sup, update_body("identified"))
    await h.deps.delivery.idle()
    assert len(outage_events(rasa, "conv-1")) == 1


async def test_closed_cases_are_not_told_and_resolved_notices_take_no_links(h, rasa):
    sup, notice = await _setup(h)
    alice = await h.user("alice")
    case = await _linked_case(h, notice, "conv-1")
    queued = await h.queued_case(conversation_id="conv-1b")
    await h.post(f"/api/bot/outages/{notice['id']}/cases", h.bot, {"case": queued["number"]})
    await h.post(f"/api/cases/{queued['id']}/accept", alice)
    await h.post(f"/api/cases/{queued['id']}/resolve", alice, {"result": "told"})
    await h.post(f"/api/outages/{notice['id']}/resolve", sup, RESOLVE)
    await h.deps.delivery.idle()
    assert len(outage_events(rasa, "conv-1")) == 1 and outage_events(rasa, "conv-1b") == []
    status, err = await h.post(f"/api/bot/outages/{notice['id']}/cases", h.bot, {"case": case["number"]})
    assert status == 200  # already linked: nothing changes
    other = await h.new_case(conversation_id="conv-2")
    status, err = await h.post(f"/api/bot/outages/{notice['id']}/cases", h.bot, {"case": other["number"]})
    assert status == 409 and err["error"]["code"] == "outage_resolved"


async def test_linked_cases_are_resolved_together_with_their_follow_up(h, rasa):
    sup, notice = await _setup(h)
    alice = await h.user("alice")
    open_case = await _linked_case(h, notice, "conv-1")
    handled = await h.queued_case(conversation_id="conv-2")
    await h.post(f"/api/bot/outages/{notice['id']}/cases", h.bot, {"case": handled["number"]})
    await h.post(f"/api/cases/{handled['id']}/accept", alice)
    waiting = await h.queued_case(conversation_id="conv-3")
    await h.post(f"/api/bot/outages/{notice['id']}/cases", h.bot, {"case": waiting["number"]})
    await h.post(f"/api/outages/{notice['id']}/resolve", sup, RESOLVE)
    status, out = await h.post(f"/api/outages/{notice['id']}/resolve-cases", sup, {"result": "支付已恢复"})
    assert status == 200, out
    assert sorted(out["resolved"]) == sorted([open_case["number"], handled["number"]])
    assert out["skipped"] == [{"number": waiting["number"], "status": "queued"}]
    for c in (open_case, handled):
        _, got = await h.get(f"/api/cases/{c['id']}", sup)
        assert got["status"] == "resolved" and got["result"] == "支付已恢复" and got["sla"]["follow_up"]["due"]
    await h.deps.delivery.idle()
    assert rasa.applied("conv-2", "slot")[-1]["value"] is False  # the bot takes over and runs the survey
    _, log = await h.get("/api/audit?action=outage.resolve_cases", sup)
    assert log["entries"][0]["details"]["after"]["resolved"]
    status, again = await h.post(f"/api/outages/{notice['id']}/resolve-cases", sup, {"result": "x"})
    assert again["resolved"] == []


async def test_bad_input_is_a_json_error(h):
    sup = await h.user("sam", "supervisor")
    for body in (
        notice_body(topics=["weather"]),
        notice_body(status="resolved"),
        notice_body(title={"zh": "只有中文"}),
        notice_body(expected_recovery_at="tomorrow"),
        {**notice_body(), "extra": 1},
    ):
        status, err = await h.post("/api/outages", sup, body)
        assert status == 400 and set(err) == {"error"}, body
    assert (await h.get("/api/outages/999", sup))[0] == 404
    assert (await h.post("/api/outages/999/updates", sup, update_body()))[0] == 404
