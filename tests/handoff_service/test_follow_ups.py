"""Follow-up visits (回访): planned on every resolution, asked once when due on the customer's own
channel (or put on the owner's call list), answered by the customer or by an agent's phone call;
"not solved" reopens the same case to its owner as a new care cycle."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handoff_service.followups import timing
from handoff_service.followups.states import ASK_INTENT

SHANGHAI = ZoneInfo("Asia/Shanghai")
QUIET = (time(21), time(9))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of 2026-11-<day> in the service zone."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(
    ("resolved", "delay_h", "deadline", "expected"),
    [
        (at(24, 10), 4, at(25, 10), at(24, 14)),  # a working afternoon: just the delay
        (at(24, 19), 4, at(25, 19), at(25, 9)),  # 23:00 is quiet: next morning, 09:00
        (at(24, 23), 4, at(25, 23), at(25, 9)),  # resolved at night: 03:00 is quiet, 09:00
        (at(24, 19), 4, at(25, 8), at(24, 20, 59)),  # 09:00 is past the deadline: before 21:00 that evening
        (at(24, 22), 1, at(24, 23, 30), at(24, 23)),  # no waking hour before the deadline: the deadline wins
        (at(24, 10), 30, at(25, 10), at(25, 10)),  # a delay longer than the deadline: the deadline
    ],
)
def test_a_visit_is_due_after_the_delay_outside_quiet_hours_and_never_after_the_deadline(
    resolved: datetime, delay_h: float, deadline: datetime, expected: datetime
) -> None:
    due = timing.visit_due(resolved, delay=timedelta(hours=delay_h), deadline=deadline, quiet=QUIET, zone=SHANGHAI)
    assert due == expected
    assert resolved <= due <= deadline


def test_quiet_hours_are_read_from_settings() -> None:
    assert timing.quiet_hours("21:00-09:00") == QUIET
    assert timing.quiet_hours("13:00-14:00") == (time(13), time(14))
    assert timing.quiet_hours("off") is None
    with pytest.raises(ValueError):
        timing.quiet_hours("21:00")


# ---------------------------------------------------------------- with the service


async def resolved_case(h: Any, owner: dict[str, str], conversation_id: str = "conv-1") -> dict[str, Any]:
    case = await h.queued_case(conversation_id=conversation_id)
    status, data = await h.post(f"/api/cases/{case['id']}/accept", owner)
    assert status == 200, data
    status, data = await h.post(f"/api/cases/{case['id']}/resolve", owner, {"result": "refund re-issued"})
    assert status == 200, data
    return data


async def run(h: Any) -> dict[str, int]:
    counts = await h.deps.visits.run_once()
    await h.deps.delivery.idle()
    return counts


async def visits(h: Any, headers: dict[str, str], **query: str) -> list[dict[str, Any]]:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    status, data = await h.get(f"/api/follow-ups?{qs}", headers)
    assert status == 200, data
    return list(data["visits"])


async def test_a_resolution_plans_a_visit_that_is_asked_once_when_due(h, rasa):
    alice = await h.user("alice")
    case = await resolved_case(h, alice)
    resolved = h.clock.now()

    assert (await run(h))["planned"] == 1
    [visit] = await visits(h, alice)
    assert visit["state"] == "scheduled" and visit["case"]["number"] == case["number"]
    assert visit["due_at"] == (resolved + timedelta(hours=4)).isoformat()  # 16:00 + 4 h, before 21:00
    assert (await run(h))["planned"] == 0  # planned once

    h.clock.advance(hours=3, minutes=59)
    await run(h)
    assert rasa.triggered(ASK_INTENT) == []  # not yet

    h.clock.advance(minutes=1)
    assert (await run(h)).get("send") == 1
    [asked] = rasa.triggered(ASK_INTENT)
    assert asked["case_number"] == case["number"] and asked["conversation"] == "conv-1"
    assert asked["ask_rating"] is True  # the survey was not answered
    assert asked["idempotency_key"] == f"visit-{visit['id']}-1"
    [visit] = await visits(h, alice)
    assert visit["state"] == "sent" and visit["attempts"] == 1

    await run(h)
    assert len(rasa.triggered(ASK_INTENT)) == 1  # asked once
    steps = [e["action"] for e in await h.timeline(case["id"], alice)]
    assert steps[-2:] == ["follow_up_scheduled", "follow_up_sent"]


async def test_not_solved_reopens_the_same_case_to_its_owner_with_fresh_deadlines_then_a_new_visit(h, rasa):
    alice = await h.user("alice")
    case = await resolved_case(h, alice)
    sub = h.deps.hub.subscribe(h.ids["alice"], "agent")  # alice has the console open
    await run(h)
    h.clock.advance(hours=4)
    await run(h)

    h.clock.advance(hours=1)
    now = h.clock.now()
    status, again = await h.post(
        f"/api/bot/cases/{case['number']}/follow-up", h.bot, {"solved": False, "comment": "还是没到账"}
    )
    assert status == 200, again
    assert again["status"] == "in_progress" and again["reopen_count"] == 1
    assert again["owner"]["username"] == "alice" and again["handler"]["username"] == "alice"
    assert again["sla"]["result"] == {"due": (now + timedelta(hours=48)).isoformat(), "state": "pending"}
    [visit] = await visits(h, alice, state="not_solved")
    assert visit["answer_channel"] == "chat" and visit["comment"] == "还是没到账"
    assert rasa.applied("conv-1", "slot")[-1]["value"] is True  # the handoff resumes: alice gets the messages

    # a stale pass changes nothing: the reopened case is never closed by its old visit
    h.clock.advance(hours=10)
    await run(h)
    status, current = await h.get(f"/api/cases/{case['id']}", alice)
    assert current["status"] == "in_progress"

    status, done = await h.post(f"/api/cases/{case['id']}/resolve", alice, {"result": "paid by bank transfer"})
    assert status == 200, done
    assert (await run(h))["planned"] == 1
    [second] = await visits(h, alice)
    assert second["cycle"] == 1 and second["state"] == "scheduled"
    h.deps.hub.unsubscribe(sub)


async def test_an_owner_who_is_away_gets_the_case_back_through_their_team(h, rasa):
    alice = await h.user("alice", team="billing")
    case = await resolved_case(h, alice)
    await run(h)  # alice has no console open
    status, again = await h.post(f"/api/bot/cases/{case['number']}/follow-up", h.bot, {"solved": False})
    assert status == 200, again
    assert again["status"] == "transferred" and again["handler_team"] == "billing"
    assert again["owner"]["username"] == "alice"  # she stays accountable
    bob = await h.user("bob", team="billing")
    status, claimed = await h.post(f"/api/cases/{case['id']}/claim", bob)
    assert status == 200 and claimed["owner"]["username"] == "alice" and claimed["handler"]["username"] == "bob"


async def test_solved_with_a_rating_closes_the_case_and_keeps_the_rating(h, rasa):
    alice = await h.user("alice")
    case = await resolved_case(h, alice)
    await run(h)
    h.clock.advance(hours=4)
    await run(h)
    status, closed = await h.post(f"/api/bot/cases/{case['number']}/follow-up", h.bot, {"solved": True, "rating": 5})
    assert status == 200, closed
    assert closed["status"] == "closed" and closed["csat"]["overall"] == 5
    assert closed["sla"]["follow_up"]["state"] == "met"
    [visit] = await visits(h, alice, state="solved")
    assert visit["rating"] == 5


async def test_a_customer_who_cannot_be_reached_is_on_the_owners_call_list(h, rasa):
    alice = await h.user("alice")
    bob = await h.user("bob")
    boss = await h.user("boss", role="supervisor")
    trainer = await h.user("tina", role="trainer")
    rasa.unreachable.add("conv-1")
    case = await resolved_case(h, alice)
    await run(h)
    h.clock.advance(hours=4)
    assert (await run(h)).get("call") == 1
    assert rasa.triggered(ASK_INTENT) == []
    [visit] = await visits(h, alice)
    assert visit["state"] == "to_call"
    assert await visits(h, bob) == []  # not his case
    assert await visits(h, boss) == []  # a supervisor's own list is empty...
    assert [v["id"] for v in await visits(h, boss, scope="all")] == [visit["id"]]  # ...and sees everyone's
    status, _ = await h.get("/api/follow-ups", trainer)
    assert status == 403

    status, denied = await h.post(f"/api/cases/{case['id']}/follow-up", bob, {"solved": True})
    assert status == 403, denied
    status, closed = await h.post(f"/api/cases/{case['id']}/follow-up", alice, {"solved": True, "comment": "电话回访"})
    assert status == 200 and closed["status"] == "closed"
    [visit] = await visits(h, alice, state="solved")
    assert visit["answer_channel"] == "phone" and visit["answered_by"]["username"] == "alice"
    steps = [e["action"] for e in await h.timeline(case["id"], alice)]
    assert "follow_up_to_call" in steps and steps[-2:] == ["follow_up", "close"]


async def test_a_call_nobody_answers_ends_the_visit(h, rasa):
    alice = await h.user("alice")
    rasa.unreachable.add("conv-1")
    case = await resolved_case(h, alice)
    await run(h)
    h.clock.advance(hours=4)
    await run(h)
    [visit] = await visits(h, alice)
    status, done = await h.post(f"/api/follow-ups/{visit['id']}/no-answer", alice, {"comment": "无人接听"})
    assert status == 200 and done["state"] == "no_answer"
    status, again = await h.post(f"/api/follow-ups/{visit['id']}/no-answer", alice, {})
    assert status == 409 and again["error"]["code"] == "visit_not_open"
    status, current = await h.get(f"/api/cases/{case['id']}", alice)
    assert current["status"] == "resolved"  # the owner may still close it


async def test_an_unanswered_question_is_asked_again_then_ends_as_no_answer(h, rasa):
    alice = await h.user("alice")
    await resolved_case(h, alice)
    await run(h)
    h.clock.advance(hours=4)
    await run(h)
    h.clock.advance(hours=4)  # no answer in the wait
    assert (await run(h)).get("send") == 1
    assert [t["idempotency_key"].rsplit("-", 1)[1] for t in rasa.triggered(ASK_INTENT)] == ["1", "2"]
    h.clock.advance(hours=4)
    assert (await run(h)).get("no_answer") == 1
    assert len(rasa.triggered(ASK_INTENT)) == 2
    [visit] = await visits(h, alice, state="no_answer")
    assert visit["attempts"] == 2


async def test_a_visit_is_cancelled_when_the_case_moves_on_or_the_customer_writes_in(h, rasa):
    alice = await h.user("alice")
    first = await resolved_case(h, alice, conversation_id="conv-a")
    second = await resolved_case(h, alice, conversation_id="conv-b")
    await run(h)
    status, _ = await h.post(f"/api/cases/{first['id']}/reopen", alice, {"reason": "customer called"})
    assert status == 200
    h.clock.advance(hours=1)
    await h.new_case(conversation_id="conv-b")  # the customer wrote in again before the visit
    h.clock.advance(hours=3)
    assert (await run(h)).get("cancel") == 2
    assert rasa.triggered(ASK_INTENT) == []
    cancelled = {v["case"]["number"]: v["cancel_reason"] for v in await visits(h, alice, state="cancelled")}
    assert cancelled == {first["number"]: "case_moved_on", second["number"]: "customer_wrote_in"}


async def test_rasa_down_delays_the_visit_and_loses_nothing(h, rasa):
    alice = await h.user("alice")
    await resolved_case(h, alice)
    await run(h)
    h.clock.advance(hours=4)
    rasa.reach_down = True
    assert (await run(h)).get("retry") == 1
    [visit] = await visits(h, alice)
    assert visit["state"] == "scheduled" and visit["attempts"] == 0
    rasa.reach_down = False
    h.clock.advance(seconds=31)
    assert (await run(h)).get("send") == 1
    assert len(rasa.triggered(ASK_INTENT)) == 1


async def test_two_schedulers_never_ask_the_same_visit_twice(h, rasa):
    alice = await h.user("alice")
    for i in range(10):
        await resolved_case(h, alice, conversation_id=f"conv-{i}")
    await run(h)
    h.clock.advance(hours=4)
    other = type(h.deps.visits)(h.deps, h.deps.visits.rasa)
    import asyncio

    await asyncio.gather(h.deps.visits.run_once(), other.run_once())
    await h.deps.delivery.idle()
    asked = [t["case_number"] for t in rasa.triggered(ASK_INTENT)]
    assert len(asked) == 10 and len(set(asked)) == 10
