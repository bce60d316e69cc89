"""Follow-up visits benchmark: how soon a resolution gets its visit, and how soon 1,000 visits due at
once reach the customers, with no duplicates. Prints figures, asserts nothing.

    .venv-handoff/bin/python bench/follow_up_visits.py [--cases 1000] [--only sqlite|postgresql]

For SQLite (a temporary file) and PostgreSQL (a throwaway server), the real service
(`python -m handoff_service serve`, default scheduler settings: a pass every 10 s, woken at once by
a resolution) runs against a small local HTTP server standing in for Rasa's bridge routes (every
customer reachable; it records each EXTERNAL_follow_up_visit it receives, and shows them in the
tracker so the outbox's re-send check works as with Rasa).

1. Scheduling delay: 1,000 cases are opened and resolved through the bot API by 10 concurrent
   clients; per case, the visit row's creation time minus the resolution time (from the database).
2. Sending delay: the 1,000 visits are then made due at one moment 15 s ahead (their due time moved
   in the database: the default delay is 4 hours; the scheduler sees the change at its next pass and
   sleeps until the soonest due visit), and the stand-in's arrival time minus that moment is taken
   per visit. Duplicates: visits that reached the stand-in more than once (target 0).

No open-source peer sends follow-up visits, so there is no baseline to run beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import text, update

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _handoff import free_port, pct, start_service, wait_healthy  # noqa: E402

from handoff_service.core.clock import SystemClock  # noqa: E402
from handoff_service.core.db import build_engine  # noqa: E402
from handoff_service.core.migrate import upgrade  # noqa: E402
from handoff_service.core.orm import table_of  # noqa: E402
from handoff_service.core.pgtemp import temporary_postgres  # noqa: E402
from handoff_service.followups.models import FollowUpVisit  # noqa: E402
from handoff_service.staff.service import create_token  # noqa: E402

VISITS = table_of(FollowUpVisit)
BRIDGE_TOKEN = "bench-bridge-token"
ASK = "EXTERNAL_follow_up_visit"
CLIENTS = 10
BURST_IN = 15  # seconds from now when all visits come due (the scheduler sees it at its next pass)


class Bridge:
    """Rasa's bridge routes as far as the visits use them."""

    def __init__(self) -> None:
        self.asked: list[tuple[float, str]] = []  # (arrival, case number)
        self.events: dict[str, list[dict[str, Any]]] = {}

    async def reachable(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"reachable": True, "channel": "socketio"})

    async def trigger(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        entities = body.get("entities") or {}
        if body.get("name") == ASK:
            self.asked.append((time.time(), str(entities.get("case_number"))))
        event = {
            "event": "user",
            "parse_data": {
                "intent": {"name": body.get("name")},
                "entities": [{"entity": k, "value": v} for k, v in entities.items()],
            },
        }
        self.events.setdefault(request.match_info["cid"], []).append(event)
        return web.json_response({"triggered": body.get("name")})

    async def tracker(self, request: web.Request) -> web.StreamResponse:
        cid = request.match_info["cid"]
        return web.json_response({"sender_id": cid, "events": self.events.get(cid, [])})

    def app(self) -> web.Application:
        app = web.Application()
        prefix = "/handoff/conversations/{cid}"
        app.router.add_get(prefix + "/reachable", self.reachable)
        app.router.add_post(prefix + "/trigger_intent", self.trigger)
        app.router.add_get(prefix + "/tracker", self.tracker)
        return app


async def bot_token(db_url: str) -> str:
    engine = build_engine(db_url)
    try:
        token, _ = await create_token(engine, SystemClock(), kind="bot", username=None, name="bench bot")
    finally:
        await engine.dispose()
    return token


async def resolve_cases(base: str, token: str, n: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def client(s: aiohttp.ClientSession) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            body = {"channel": "socketio", "conversation_id": f"bench-{i}", "language": "zh", "category": "refund"}
            async with s.post(f"{base}/api/bot/cases", json=body, headers=headers) as r:
                case = await r.json()
                assert r.status == 201, case
            async with s.post(
                f"{base}/api/bot/cases/{case['number']}/resolve", json={"result": "已退款"}, headers=headers
            ) as r:
                assert r.status == 200, await r.text()

    async with aiohttp.ClientSession() as s:
        await asyncio.gather(*(client(s) for _ in range(CLIENTS)))


async def db_rows(db_url: str, sql: str, **params: Any) -> list[Any]:
    engine = build_engine(db_url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()


async def make_due(db_url: str, due: datetime) -> None:
    """Every visit due at `due` (through the model's table: SQLite keeps its own text format)."""
    engine = build_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(update(VISITS).values(due_at=due, next_attempt_at=due))
    finally:
        await engine.dispose()


def seconds(v: Any) -> datetime:
    """A timestamp column as an aware datetime (SQLite gives text)."""
    when = v if isinstance(v, datetime) else datetime.fromisoformat(str(v))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


async def run_backend(name: str, db_url: str, n: int, work: Path) -> dict[str, Any]:
    token = await bot_token(db_url)
    bridge = Bridge()
    runner = web.AppRunner(bridge.app())
    await runner.setup()
    bridge_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", bridge_port).start()
    port = free_port()
    log = work / f"serve-{name}.log"
    proc = start_service(
        db_url,
        port,
        log,
        HANDOFF_RASA_URL=f"http://127.0.0.1:{bridge_port}",
        HANDOFF_RASA_TOKEN=BRIDGE_TOKEN,
        HANDOFF_SLA_INTERVAL_SECONDS="0",
        HANDOFF_REVIEW_POLL_SECONDS="0",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(base, proc, log)
        t0 = time.perf_counter()
        await resolve_cases(base, token, n)
        resolving = time.perf_counter() - t0
        for _ in range(600):  # every visit planned
            [(planned,)] = await db_rows(db_url, "SELECT count(*) FROM follow_up_visits")
            if planned >= n:
                break
            await asyncio.sleep(0.1)
        rows = await db_rows(
            db_url,
            "SELECT c.resolved_at, v.created_at FROM follow_up_visits v JOIN cases c ON c.id = v.case_id",
        )
        scheduling = [(seconds(v) - seconds(r)).total_seconds() * 1000 for r, v in rows]

        due = datetime.now(UTC) + timedelta(seconds=BURST_IN)
        await make_due(db_url, due)
        for _ in range(1200):
            if len({number for _, number in bridge.asked}) >= n:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(3)  # anything sent twice would arrive by now
        sending = [(at - due.timestamp()) * 1000 for at, _ in bridge.asked]
        copies = Counter(number for _, number in bridge.asked)
        return {
            "resolving_s": resolving,
            "scheduling": scheduling,
            "sending": sending,
            "asked": len(copies),
            "duplicates": sum(c - 1 for c in copies.values()),
        }
    finally:
        proc.terminate()
        proc.wait(30)
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"follow-up visits: {args.cases} cases resolved by {CLIENTS} clients, then all their visits due at once")
    print(f"{'backend':<11} {'schedule p50':>13} {'p95':>8} {'send p50':>10} {'p95':>8} {'asked':>7} {'dupl.':>6}")
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-visits-")))
        backends = []
        if args.only in (None, "sqlite"):
            backends.append(("sqlite", f"sqlite+aiosqlite:///{work / 'visits.db'}"))
        if args.only in (None, "postgresql"):
            backends.append(("postgresql", stack.enter_context(temporary_postgres("visits"))))
        for name, url in backends:
            upgrade(url)
            r = asyncio.run(run_backend(name, url, args.cases, work))
            print(
                f"{name:<11} {pct(r['scheduling'], 50):>10.0f} ms {pct(r['scheduling'], 95):>5.0f} ms"
                f" {pct(r['sending'], 50):>7.0f} ms {pct(r['sending'], 95):>5.0f} ms"
                f" {r['asked']:>7} {r['duplicates']:>6}"
            )
    print("schedule: resolution -> visit row; send: due -> the question at Rasa's bridge (target: 0 duplicates)")


if __name__ == "__main__":
    main()
