"""The KPI rollups: rebuilt by the command line equal to those kept after each commit; edge cases of
the per-case rules (a wait the resolution ends unanswered, a reopened bot case, team transfers);
customer contacts from the review feed (a gap of 24 h starts a new contact)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from handoff_service.metrics.models import MetricCase, MetricCycle, MetricWait
from handoff_service.review.models import ReviewContact

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


async def rows(h: Any) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    async with h.deps.engine.connect() as conn:
        for model in (MetricCase, MetricCycle, MetricWait):
            t = model.__table__
            out[t.name] = [tuple(r) for r in await conn.execute(select(t).order_by(*t.primary_key.columns))]
    return out


async def go(h: Any, minutes: float, method: str, path: str, who: dict[str, str], body: Any = None) -> Any:
    h.clock.advance(minutes=minutes)
    status, data = await h.call(method, path, who, body)
    assert status in (200, 201), (path, data)
    return data


async def edge_cases(h: Any) -> dict[str, Any]:
    """1: team transfer and claim; a customer message the resolution leaves unanswered.
    2: the bot resolves it, a supervisor reopens it (back to the queue), alice accepts and resolves."""
    alice = await h.user("alice", team="t1")
    bob = await h.user("bob", team="t1")
    sam = await h.user("sam", role="supervisor")
    h.clock.set(T0)
    one = await h.queued_case(conversation_id="conv-1")
    await go(h, 5, "POST", f"/api/cases/{one['id']}/accept", alice)
    await go(h, 5, "POST", f"/api/cases/{one['id']}/messages", alice, {"text": "hi"})
    await go(h, 5, "POST", f"/api/cases/{one['id']}/transfer", alice, {"to_team": "t1"})
    await go(h, 5, "POST", f"/api/bot/cases/{one['number']}/messages", h.bot, {"text": "hello?"})  # held by t1
    await go(h, 5, "POST", f"/api/cases/{one['id']}/claim", bob)
    await go(h, 5, "POST", f"/api/cases/{one['id']}/messages", bob, {"text": "here"})  # the wait: 10 min
    await go(h, 5, "POST", f"/api/bot/cases/{one['number']}/messages", h.bot, {"text": "thanks"})
    await go(h, 5, "POST", f"/api/cases/{one['id']}/resolve", bob, {"result": "ok"})  # before any reply
    two = await h.new_case(conversation_id="conv-2")
    await go(h, 1, "POST", f"/api/bot/cases/{two['number']}/resolve", h.bot, {"result": "answered"})
    await go(h, 10, "POST", f"/api/cases/{two['id']}/reopen", sam, {"reason": "not really"})
    await go(h, 10, "POST", f"/api/cases/{two['id']}/accept", alice)
    await go(h, 10, "POST", f"/api/cases/{two['id']}/resolve", alice, {"result": "done"})
    return {"one": one, "two": two}


async def test_edge_cases_of_waits_and_cycles(h: Any) -> None:
    cases = await edge_cases(h)
    r = await rows(h)
    waits = [w for w in r["metric_waits"] if w[0] == cases["one"]["id"]]
    # (case, seq, started, replied, seconds, handler): 10 min answered by bob; one the resolution ended
    assert [(w[1], w[4], w[3] is None) for w in waits] == [(0, 600.0, False), (1, None, True)]
    two = [c for c in r["metric_cycles"] if c[0] == cases["two"]["id"]]
    # cycle 0: opened 08:45, the bot resolved it a minute later; cycle 1: reopened 08:56, resolved 09:16
    assert [(c[1], c[4], c[5] is None) for c in two] == [(0, 60.0, True), (1, 1200.0, False)]
    case_two = next(c for c in r["metric_cases"] if c[0] == cases["two"]["id"])
    cols = [col.name for col in MetricCase.__table__.columns]
    fact = dict(zip(cols, case_two, strict=True))
    # handed off only by the reopen (back to the queue): the handoff is the reopen, accepted 10 min later
    assert fact["bot_resolved"] is False and fact["reopens"] == 1 and fact["resolutions"] == 2
    assert fact["claim_seconds"] == 600.0


def cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HANDOFF_DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "handoff_service", *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=120
    )


async def test_metrics_rebuild_on_the_command_line_restores_the_rollups(h: Any, db_url: str) -> None:
    await edge_cases(h)
    kept = await rows(h)
    async with h.deps.engine.begin() as conn:
        for model in (MetricWait, MetricCycle, MetricCase):
            await conn.execute(delete(model.__table__))
    assert (await rows(h))["metric_cases"] == []
    r = await asyncio.to_thread(cli, db_url, "metrics-rebuild")  # the service's workers keep running
    assert r.returncode == 0, r.stderr
    assert "2 cases" in r.stdout
    assert await rows(h) == kept


async def test_a_day_without_messages_starts_a_new_contact(h: Any, rasa: Any) -> None:
    h.clock.set(T0 + timedelta(days=5))
    for hours in (0, 23, 48):  # 23 h after: the same contact; 25 h after that: a new one
        stamp = (T0 + timedelta(hours=hours)).timestamp()
        rasa.record(type="user", sender_id="z", timestamp=stamp, text="hi", intent="greet", language="zh")
        rasa.record(type="action", sender_id="z", timestamp=stamp + 0.01, name="utter_greet")
    await h.deps.review_feed.read_rasa()
    await h.deps.review_feed.read_rasa()  # read again: nothing new, nothing counted twice
    async with h.deps.engine.connect() as conn:
        t = ReviewContact.__table__
        got = [(r.started_at, r.last_at, r.messages) for r in await conn.execute(select(t).order_by(t.c.id))]
    assert got == [
        (T0, T0 + timedelta(hours=23), 2),
        (T0 + timedelta(hours=48), T0 + timedelta(hours=48), 1),
    ]


async def test_concurrent_refreshes_of_one_case_leave_its_rows_whole(h: Any) -> None:
    """Listeners of several commits may refresh the same case at once (PostgreSQL: the case row is
    locked first, so the second waits and rewrites; no duplicate key, no lost change)."""
    import asyncio

    from handoff_service.metrics import service as metrics

    await edge_cases(h)
    kept = await rows(h)
    results = await asyncio.gather(*(metrics.refresh_cases(h.deps, [1, 2]) for _ in range(8)))
    assert results == [2] * 8
    assert await rows(h) == kept
