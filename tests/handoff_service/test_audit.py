"""Every staff action lands in the audit log; the log and the timeline are append-only."""

from __future__ import annotations

import pytest
from conftest import PASSWORD
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


async def test_staff_actions_are_audited(h):
    alice = await h.user("alice")
    bob = await h.user("bob")
    sup = await h.user("sam", role="supervisor")
    case = await h.queued_case()
    cid = case["id"]
    await h.client.post("/api/auth/login", json={"username": "alice", "password": "wrong wrong"})
    await h.client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    await h.post(f"/api/cases/{cid}/accept", alice)
    await h.post(f"/api/cases/{cid}/accept", bob, None)  # refused: already taken
    await h.post(f"/api/cases/{cid}/messages", alice, {"text": "hello"})
    await h.post(f"/api/cases/{cid}/transfer", alice, {"to_agent": "bob"})
    await h.post(f"/api/cases/{cid}/resolve", bob, {"result": "done"})
    await h.post(f"/api/cases/{cid}/reopen", alice, {"reason": "no"})
    await h.deps.delivery.idle()
    status, body = await h.get("/api/audit?limit=50", sup)
    assert status == 200
    rows = list(reversed(body["entries"]))
    got = [(r["action"], r["actor"], r["outcome"]) for r in rows if r["actor_kind"] != "cli"]
    assert got == [
        ("auth.login", None, "denied"),
        ("auth.login", "alice", "ok"),
        ("case.accept", "alice", "ok"),
        ("accept_case", "bob", "denied"),
        ("case.reply", "alice", "ok"),
        ("case.transfer", "alice", "ok"),
        ("case.resolve", "bob", "ok"),
        ("case.reopen", "alice", "ok"),
    ]
    assert rows[-1]["target_id"] == case["number"]
    denied = next(r for r in rows if r["outcome"] == "denied" and r["actor"] == "bob")
    assert denied["details"]["code"] == "case_already_taken"
    # CLI actions are audited too
    assert {"staff.create_user", "token.create"} <= {r["action"] for r in rows if r["actor_kind"] == "cli"}
    _, only = await h.get("/api/audit?actor=bob", sup)
    assert {r["actor"] for r in only["entries"]} == {"bob"}


@pytest.mark.parametrize("table", ["audit_log", "case_events"])
async def test_append_only_tables_refuse_update_and_delete(h, table):
    await h.user("alice")
    await h.new_case()
    for stmt in (f"UPDATE {table} SET details = '{{}}'", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with h.deps.engine.begin() as conn:
                await conn.execute(text(stmt))
