"""Staff see what their work needs: an agent reads the open queue, their team's
cases and the cases they own or handle; a supervisor reads everything; a refused
read is answered 403 and written to the audit log."""

from __future__ import annotations

import pytest

READS = ("", "/timeline", "/messages", "/transcript")


@pytest.fixture
async def taken(h):
    """alice (team north) owns and handles a case; bob is in team south, carol in north."""
    alice = await h.user("alice", team="north")
    bob = await h.user("bob", team="south")
    carol = await h.user("carol", team="north")
    sam = await h.user("sam", role="supervisor")
    case = await h.queued_case()
    status, _ = await h.post(f"/api/cases/{case['id']}/accept", alice)
    assert status == 200
    return case, {"alice": alice, "bob": bob, "carol": carol, "sam": sam}


@pytest.mark.parametrize("suffix", READS)
async def test_an_agent_of_another_team_cannot_read_a_case(h, taken, suffix):
    case, who = taken
    status, body = await h.get(f"/api/cases/{case['id']}{suffix}", who["bob"])
    assert status == 403 and body["error"]["code"] == "not_case_reader"
    assert case["number"] not in str(body)


@pytest.mark.parametrize("reader", ["alice", "carol", "sam"])
async def test_owner_teammates_and_supervisors_read_it(h, taken, reader):
    case, who = taken
    for suffix in READS:
        status, _ = await h.get(f"/api/cases/{case['id']}{suffix}", who[reader])
        assert status == 200, (reader, suffix)


async def test_queued_cases_are_readable_by_every_agent_until_accepted(h):
    alice = await h.user("alice", team="north")
    bob = await h.user("bob", team="south")
    case = await h.queued_case()
    status, _ = await h.get(f"/api/cases/{case['id']}", bob)
    assert status == 200
    await h.post(f"/api/cases/{case['id']}/accept", alice)
    status, _ = await h.get(f"/api/cases/{case['id']}", bob)
    assert status == 403


async def test_a_transfer_gives_the_new_handler_and_team_the_case(h, taken):
    case, who = taken
    status, _ = await h.post(f"/api/cases/{case['id']}/transfer", who["alice"], {"to_agent": "bob"})
    assert status == 200
    status, _ = await h.get(f"/api/cases/{case['id']}/transcript", who["bob"])
    assert status == 200


async def test_case_lists_hold_only_readable_cases(h, taken):
    case, who = taken
    other = await h.queued_case(conversation_id="conv-2")
    _, bobs = await h.get("/api/cases", who["bob"])
    assert [c["id"] for c in bobs["cases"]] == [other["id"]]  # the queue, not alice's case
    _, carols = await h.get("/api/cases", who["carol"])
    assert {c["id"] for c in carols["cases"]} == {case["id"], other["id"]}
    _, sams = await h.get("/api/cases", who["sam"])
    assert {c["id"] for c in sams["cases"]} == {case["id"], other["id"]}


async def test_a_refused_read_is_audited(h, taken):
    case, who = taken
    await h.get(f"/api/cases/{case['id']}/transcript", who["bob"])
    _, log = await h.get("/api/audit?actor=bob", who["sam"])
    denied = [e for e in log["entries"] if e["outcome"] == "denied"]
    assert denied and denied[0]["details"]["code"] == "not_case_reader"
    assert denied[0]["target_id"] == f"/api/cases/{case['id']}/transcript"
