"""Every (status, action) pair through the API: allowed ones succeed, every other
one is a 409 `invalid_transition` that changes nothing."""

from __future__ import annotations

import itertools

import pytest

from handoff_service.cases.states import ACTIONS, STATUSES, TRANSITIONS


async def _case_in(h, status: str, who: dict, *, owned: bool = True) -> dict:
    """Drive a fresh case into `status` (owned=False: via the bot, no owner)."""
    conv = f"c-{status}-{owned}"
    if status == "open":
        return await h.new_case(conversation_id=conv)
    if status in ("resolved", "closed") and not owned:
        case = await h.new_case(conversation_id=conv)
        _, case = await h.post(f"/api/bot/cases/{case['number']}/resolve", h.bot, {"result": "bot answer"})
        return case
    case = await h.queued_case(conversation_id=conv)
    if status == "queued":
        return case
    cid = case["id"]
    _, case = await h.post(f"/api/cases/{cid}/accept", who)
    if status == "in_progress":
        return case
    if status == "transferred":
        _, case = await h.post(f"/api/cases/{cid}/transfer", who, {"to_team": "l2"})
        return case
    _, case = await h.post(f"/api/cases/{cid}/resolve", who, {"result": "done"})
    if status == "resolved":
        return case
    _, case = await h.post(f"/api/cases/{cid}/close", who, {})
    assert case["status"] == "closed"
    return case


async def _do(h, action: str, case: dict, sup: dict) -> tuple[int, dict]:
    cid, num = case["id"], case["number"]
    if action == "request_handoff":
        return await h.post(f"/api/bot/cases/{num}/handoff", h.bot, {"summary": {"problem": "p"}})
    if action == "resolve":
        if case["status"] == "open":
            return await h.post(f"/api/bot/cases/{num}/resolve", h.bot, {"result": "r"})
        return await h.post(f"/api/cases/{cid}/resolve", sup, {"result": "r"})
    if action == "accept":
        return await h.post(f"/api/cases/{cid}/accept", sup)
    if action == "transfer_agent":
        return await h.post(f"/api/cases/{cid}/transfer", sup, {"to_agent": "bob"})
    if action == "transfer_team":
        return await h.post(f"/api/cases/{cid}/transfer", sup, {"to_team": "l2"})
    if action == "claim":
        return await h.post(f"/api/cases/{cid}/claim", sup)
    if action in ("reopen", "reopen_unowned"):
        return await h.post(f"/api/cases/{cid}/reopen", sup, {})
    if action == "close":
        return await h.post(f"/api/cases/{cid}/close", sup, {})
    if action == "reopen_to_team":  # a follow-up visit's "not solved" while the owner is away
        return await h.post(f"/api/bot/cases/{num}/follow-up", h.bot, {"solved": False})
    raise AssertionError(action)


PAIRS = [
    (s, a)
    for s, a in itertools.product(STATUSES, ACTIONS)
    # reopen of an owned case vs. a bot-resolved case is decided by ownership
    if not (a == "reopen_unowned" and s != "resolved")
]


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
async def test_transition(h, status, action):
    alice = await h.user("alice", team="l1")
    await h.user("bob", team="l2")
    sup = await h.user("sam", role="supervisor", team="l2")
    owned = action != "reopen_unowned"
    case = await _case_in(h, status, alice, owned=owned)
    assert case["status"] == status
    before = await h.timeline(case["id"], sup)
    code, body = await _do(h, action, case, sup)
    expected = TRANSITIONS.get((status, action))
    if expected is not None:
        assert code == 200, body
        got = body["case"] if "case" in body else body
        assert got["status"] == expected
        after = await h.timeline(case["id"], sup)
        steps = 2 if action == "reopen_to_team" else 1  # the visit's answer, then the reopen
        assert len(after) == len(before) + steps
        assert after[-1]["status_from"] == status and after[-1]["status_to"] == expected
    else:
        assert code == 409, body
        assert body["error"]["code"] in ("invalid_transition", "case_already_taken")
        assert body["error"]["message"]
        _, fresh = await h.get(f"/api/cases/{case['id']}", sup)
        assert fresh["status"] == status and fresh["version"] == case["version"]
        assert len(await h.timeline(case["id"], sup)) == len(before)


def test_transition_table_is_closed():
    """Every target status is a known status and every status but closed has a way out."""
    for (src, _), dst in TRANSITIONS.items():
        assert src in STATUSES and dst in STATUSES
    assert {s for s, _ in TRANSITIONS} == set(STATUSES) - {"closed"}
