"""Outage fan-out benchmark (issue 27): 1,000 customers with an open case linked to a notice; a supervisor
posts a status change. Measured: the update's request (its transaction queues one outbox row per
customer), the time from posting to every customer's message applied by a local stand-in for Rasa's
bridge, and the duplicates it saw (target 0). One in FAIL_EVERY first attempts is applied by the
stand-in and then answered 500 (a slow or lost answer), as happens in production.

Side by side, the sensible baseline: the same messages sent by an after-commit listener loop (no
outbox: POST each conversation, retry on error). It is as fast or faster, but it is not durable (a
restart loses what was not sent) and a retry after an applied-but-failed answer is a duplicate.

    .venv-handoff/bin/python bench/outage_fanout.py [--customers 1000] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from handoff_service.app import create_app  # noqa: E402
from handoff_service.cases import intake  # noqa: E402
from handoff_service.core.clock import SystemClock  # noqa: E402
from handoff_service.core.config import Settings  # noqa: E402
from handoff_service.core.deps import DEPS  # noqa: E402
from handoff_service.core.migrate import upgrade  # noqa: E402
from handoff_service.core.pgtemp import temporary_postgres  # noqa: E402
from handoff_service.core.principal import BOT_PRINCIPAL, SUPERVISOR, Principal  # noqa: E402
from handoff_service.core.security import Passwords  # noqa: E402
from handoff_service.outages import service as outages  # noqa: E402
from handoff_service.staff.service import create_user  # noqa: E402

FAIL_EVERY = 50  # one first attempt in 50: applied, then answered 500


class Bridge:
    """Rasa's bridge routes, standing in: applies events (no dedupe of its own), counts them per
    conversation and idempotency key, serves the tracker (the outbox worker reads it before a re-send)."""

    def __init__(self) -> None:
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.posts = 0
        self.seen: set[str] = set()
        self.done = asyncio.Event()
        self.want = 0
        self.counts: Counter[str] = Counter()

    def expect(self, n: int) -> None:
        self.want, self.done = n, asyncio.Event()
        self.counts = Counter()

    async def post(self, request: web.Request) -> web.StreamResponse:
        self.posts += 1
        cid = request.match_info["cid"]
        events = await request.json()
        self.events.setdefault(cid, []).extend(events)
        key = str((events[0].get("metadata") or {}).get("idempotency_key"))
        self.counts[cid] += 1
        if len(self.counts) >= self.want:
            self.done.set()
        first = key not in self.seen
        self.seen.add(key)
        if first and int(hashlib.sha256(key.encode()).hexdigest(), 16) % FAIL_EVERY == 0:
            return web.json_response({"message": "applied, then lost"}, status=500)
        return web.json_response({"sender_id": cid})

    async def tracker(self, request: web.Request) -> web.StreamResponse:
        cid = request.match_info["cid"]
        return web.json_response({"sender_id": cid, "events": self.events.get(cid, [])})

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_post("/handoff/conversations/{cid}/tracker/events", self.post)
        app.router.add_get("/handoff/conversations/{cid}/tracker", self.tracker)
        return app

    def duplicates(self) -> int:
        return sum(n - 1 for n in self.counts.values() if n > 1)


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def seed(deps: Any, customers: int) -> tuple[Principal, int, list[str]]:
    pw = Passwords(1, 1024, 1)
    sup = await create_user(
        deps.engine, SystemClock(), pw, username="sam", password="bench password 1", role=SUPERVISOR
    )
    p = Principal(kind="staff", user_id=sup["id"], username="sam", role=SUPERVISOR)
    notice = await outages.publish(
        deps,
        p,
        {
            "title": {"zh": "支付服务异常", "en": "Payment disruption"},
            "message": {"zh": "正在排查。", "en": "Investigating."},
            "topics": ["payment"],
            "expected_recovery_at": int(time.time()) + 7200,
        },
    )
    conversations = []
    for i in range(customers):
        cid = f"bench-{i:05d}"
        case, _ = await intake.create_case(
            deps,
            {
                "channel": "socketio",
                "conversation_id": cid,
                "language": "en" if i % 3 == 0 else "zh",
                "category": "billing",
            },
        )
        await outages.link_case(deps, BOT_PRINCIPAL, notice["id"], case["number"])
        conversations.append(cid)
    return p, notice["id"], conversations


async def outbox_round(deps: Any, bridge: Bridge, p: Principal, notice_id: int, n: int, status: str) -> dict[str, Any]:
    bridge.expect(n)
    t0 = time.perf_counter()
    out = await outages.add_update(
        deps, p, notice_id, {"status": status, "message": {"zh": "进展。", "en": "Progress."}}
    )
    committed = time.perf_counter() - t0
    await asyncio.wait_for(bridge.done.wait(), 600)
    applied = time.perf_counter() - t0
    await deps.delivery.idle()  # retries after the lost answers: the tracker is read, nothing is re-sent
    settled = time.perf_counter() - t0
    again = await outages.fan_out(deps, out["latest"]["id"])  # the fan-out run a second time
    await deps.delivery.idle()
    assert out["latest"]["notified"] == n, out["latest"]
    return {"commit": committed, "applied": applied, "settled": settled, "dups": bridge.duplicates(), "rerun": again}


async def listener_round(bridge: Bridge, url: str, conversations: list[str], concurrency: int = 32) -> dict[str, Any]:
    """The baseline: an after-commit listener that POSTs each customer's message itself (3 tries)."""
    bridge.expect(len(conversations))
    sem = asyncio.Semaphore(concurrency)
    round_id = time.time_ns()

    async def one(session: aiohttp.ClientSession, cid: str) -> None:
        body = [{"event": "bot", "text": "Progress.", "metadata": {"idempotency_key": f"listener-{round_id}-{cid}"}}]
        async with sem:
            for _ in range(3):
                try:
                    async with session.post(f"{url}/handoff/conversations/{cid}/tracker/events", json=body) as r:
                        if r.status < 500:
                            return
                except aiohttp.ClientError:
                    pass

    t0 = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(one(session, c) for c in conversations))
    applied = time.perf_counter() - t0
    return {"commit": 0.0, "applied": applied, "settled": applied, "dups": bridge.duplicates(), "rerun": "-"}


async def run(url: str, customers: int, label: str) -> None:
    bridge = Bridge()
    bridge_runner, bridge_url = await serve(bridge.app())
    settings = Settings(
        database_url=url,
        rasa_url=bridge_url,
        rasa_token="bench",
        sla_interval_seconds=0,
        review_poll_seconds=0,
        delivery_backoff_seconds=0.05,
        delivery_backoff_max_seconds=0.5,
        delivery_timeout_seconds=5.0,
        access_log=False,
        log_level="WARNING",
    )
    app = create_app(settings, run_background=False)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    deps = app[DEPS]
    try:
        t0 = time.perf_counter()
        p, notice_id, conversations = await seed(deps, customers)
        print(f"{label}: seeded {customers} linked customers in {time.perf_counter() - t0:.1f} s")
        rows = [
            (
                "outbox, in the update's transaction (identified)",
                await outbox_round(deps, bridge, p, notice_id, customers, "identified"),
            ),
            (
                "outbox, in the update's transaction (monitoring)",
                await outbox_round(deps, bridge, p, notice_id, customers, "monitoring"),
            ),
            (
                "baseline: after-commit listener loop, no outbox",
                await listener_round(bridge, bridge_url, conversations),
            ),
        ]
        print(f"{'':52} {'commit':>8} {'all applied':>12} {'settled':>9} {'duplicates':>11} {'re-run queued':>14}")
        for name, r in rows:
            print(
                f"{name:52} {r['commit']:7.2f}s {r['applied']:11.2f}s {r['settled']:8.2f}s "
                f"{int(r['dups']):>11} {str(r['rerun']):>14}"
            )
        print(f"{label}: 1 in {FAIL_EVERY} first POSTs was applied then answered 500; duplicates target 0")
    finally:
        await runner.cleanup()
        await bridge_runner.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--only", choices=("sqlite", "postgresql"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("handoff_service").setLevel(logging.ERROR)  # each lost answer is logged as a failed attempt
    print(f"outage fan-out to {args.customers} linked customers (one message each per update)")
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            upgrade(url)
            asyncio.run(run(url, args.customers, "SQLite"))
    if args.only in (None, "postgresql"):
        with contextlib.ExitStack() as stack:
            url = stack.enter_context(temporary_postgres())
            upgrade(url)
            asyncio.run(run(url, args.customers, "PostgreSQL"))


if __name__ == "__main__":
    main()
