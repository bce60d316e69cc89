"""Races on the real database: first accept wins, numbers stay unique.
Two app instances (two engines/pools) stand in for two service processes."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from handoff_service.app import create_app
from handoff_service.models import CaseEvent


async def test_concurrent_accepts_give_exactly_one_owner(h, aiohttp_client, settings, clock):
    other = await aiohttp_client(create_app(settings, clock=clock, run_background=False))
    agents = [await h.user(f"agent{i:02d}") for i in range(20)]
    case = await h.queued_case()
    clients = [h.client, other]

    async def accept(i: int, headers: dict) -> tuple[int, dict]:
        resp = await clients[i % 2].post(f"/api/cases/{case['id']}/accept", headers=headers)
        return resp.status, await resp.json()

    results = await asyncio.gather(*(accept(i, a) for i, a in enumerate(agents)))
    winners = [body for status, body in results if status == 200]
    losers = [body for status, body in results if status != 200]
    assert len(winners) == 1
    owner = winners[0]["owner"]["username"]
    assert len(losers) == 19
    for body in losers:
        assert body["error"]["code"] == "case_already_taken"
        assert body["error"]["message"].endswith(f"already taken by {owner}")
    # read back by the winner (the losers no longer see the case: it left the open queue)
    winner = agents[int(owner.removeprefix("agent"))]
    _, fresh = await h.get(f"/api/cases/{case['id']}", winner)
    assert fresh["owner"]["username"] == owner == fresh["handler"]["username"]
    async with h.deps.engine.connect() as conn:
        n = (
            await conn.execute(
                select(func.count())
                .select_from(CaseEvent)
                .where(CaseEvent.case_id == case["id"], CaseEvent.action == "accept")
            )
        ).scalar_one()
    assert n == 1


async def test_concurrent_case_creation_gives_unique_sequential_numbers(h, aiohttp_client, settings, clock):
    other = await aiohttp_client(create_app(settings, clock=clock, run_background=False))
    clients = [h.client, other]

    async def create(i: int) -> str:
        resp = await clients[i % 2].post(
            "/api/bot/cases",
            headers=h.bot,
            json={"channel": "web", "conversation_id": f"c{i}", "language": "en", "category": "refund"},
        )
        assert resp.status == 201, await resp.text()
        return (await resp.json())["number"]

    numbers = await asyncio.gather(*(create(i) for i in range(60)))
    assert len(set(numbers)) == 60
    assert sorted(numbers) == [f"C20261124-{n:04d}" for n in range(1, 61)]
