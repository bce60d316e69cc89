"""Load benchmark for handoff_service.

Starts one service process on SQLite and one on PostgreSQL (a throwaway server,
like the tests), then prints, for 50 concurrent clients: requests/s and p50/p95
for create-case, accept, agent reply and queue listing, a mixed workload, and
the p95 delay from a new customer message to its arrival on 200 staff websockets.

    .venv-handoff/bin/python bench/handoff_load.py [--clients 50] [--requests 2000] [--only sqlite|postgresql]

Targets on a 2-core machine (not asserted): >= 1,000 req/s mixed, p95 <= 50 ms,
websocket fan-out p95 <= 100 ms. Load generator and service share the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _handoff import free_port, start_service, wait_healthy  # noqa: E402

from handoff_service.core.clock import SystemClock  # noqa: E402
from handoff_service.core.db import build_engine  # noqa: E402
from handoff_service.core.migrate import upgrade  # noqa: E402
from handoff_service.core.pgtemp import temporary_postgres  # noqa: E402
from handoff_service.core.security import Passwords  # noqa: E402
from handoff_service.staff.service import create_token, create_user  # noqa: E402


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def cpu_seconds(pid: int) -> float:
    """User+system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


SERVICE_PID = 0


async def settle(limit: float = 60.0) -> None:
    """Wait until the service is idle (< 4% CPU over 0.25 s)."""
    if not SERVICE_PID:
        return
    end = time.monotonic() + limit
    last = cpu_seconds(SERVICE_PID)
    while time.monotonic() < end:
        await asyncio.sleep(0.25)
        now = cpu_seconds(SERVICE_PID)
        if now - last < 0.01:
            return
        last = now


class Result:
    def __init__(self, name: str, latencies: list[float], seconds: float, errors: int, cpu: float) -> None:
        self.name, self.lat, self.seconds, self.errors, self.cpu = name, latencies, seconds, errors, cpu

    def row(self) -> str:
        n = len(self.lat)
        return (
            f"  {self.name:<22} {n:>7} {n / self.seconds:>9.0f} {pct(self.lat, 50) * 1000:>8.1f} "
            f"{pct(self.lat, 95) * 1000:>8.1f} {self.cpu / n * 1000:>12.2f} {self.errors:>6}"
        )


# ---------------------------------------------------------------- setup


async def seed(db_url: str, agents: int) -> dict[str, Any]:
    """Users and tokens (argon2 cost does not matter here: the load uses bearer tokens)."""
    engine = build_engine(db_url, pool_size=2)
    clock, pw = SystemClock(), Passwords(1, 1024, 1)
    out: dict[str, Any] = {"agents": []}
    try:
        for i in range(agents):
            name = f"agent{i:03d}"
            await create_user(engine, clock, pw, username=name, password="bench password", role="agent")
            token, _ = await create_token(engine, clock, kind="staff", username=name, name="bench")
            out["agents"].append({"Authorization": f"Bearer {token}"})
        await create_user(engine, clock, pw, username="sup", password="bench password", role="supervisor")
        token, _ = await create_token(engine, clock, kind="staff", username="sup", name="bench")
        out["sup"] = {"Authorization": f"Bearer {token}"}
        token, _ = await create_token(engine, clock, kind="bot", username=None, name="bench")
        out["bot"] = {"Authorization": f"Bearer {token}"}
    finally:
        await engine.dispose()
    return out


async def start_rasa_stand_in() -> tuple[web.AppRunner, str]:
    """Answers Rasa's tracker/events endpoint at once (delivery runs, but is not the bottleneck)."""

    async def events(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"ok": True})

    async def tracker(request: web.Request) -> web.Response:
        return web.json_response({"events": []})

    app = web.Application()
    app.router.add_post("/conversations/{cid}/tracker/events", events)
    app.router.add_post("/conversations/{cid}/trigger_intent", events)
    app.router.add_get("/conversations/{cid}/tracker", tracker)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


# ---------------------------------------------------------------- load


async def run_clients(name: str, clients: int, total: int, op: Callable[[int, int], Awaitable[bool]]) -> Result:
    """`clients` workers share `total` calls of op(client, i); op returns success."""
    lat: list[float] = []
    errors = 0
    counter = iter(range(total))

    async def worker(c: int) -> None:
        nonlocal errors
        for i in counter:
            t0 = time.perf_counter()
            ok = await op(c, i)
            lat.append(time.perf_counter() - t0)
            if not ok:
                errors += 1

    cpu0 = cpu_seconds(SERVICE_PID) if SERVICE_PID else 0.0
    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in range(clients)))
    elapsed = time.perf_counter() - t0
    await settle()  # background work these requests started (deliveries) is theirs too
    cpu = cpu_seconds(SERVICE_PID) - cpu0 if SERVICE_PID else 0.0
    return Result(name, lat, elapsed, errors, cpu)


async def bench_backend(label: str, db_url: str, args: argparse.Namespace, workdir: Path) -> list[str]:
    await asyncio.to_thread(upgrade, db_url)  # alembic runs its own event loop
    creds = await seed(db_url, args.clients)
    rasa_runner, rasa_url = await start_rasa_stand_in()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = workdir / f"service-{label}.log"
    proc = start_service(db_url, port, log, HANDOFF_RASA_URL=rasa_url)
    global SERVICE_PID
    SERVICE_PID = proc.pid
    rows: list[str] = []
    try:
        await wait_healthy(base, proc, log)
        conn = aiohttp.TCPConnector(limit=args.clients * 2 + 50)
        async with aiohttp.ClientSession(connector=conn) as s:
            bot, agents, sup = creds["bot"], creds["agents"], creds["sup"]
            n = args.requests
            numbers: list[str] = []
            ids: list[int] = []

            async def post(path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
                async with s.post(base + path, headers=headers, json=body) as r:
                    return r.status, await r.json()

            async def get(path: str, headers: dict[str, str]) -> tuple[int, Any]:
                async with s.get(base + path, headers=headers) as r:
                    return r.status, await r.read()  # body not needed: spare the client's CPU

            async def create(c: int, i: int) -> bool:
                st, body = await post(
                    "/api/bot/cases",
                    bot,
                    {
                        "channel": "webchat",
                        "conversation_id": f"bench-{label}-{c}-{i}",
                        "language": "zh",
                        "category": "refund",
                        "description": "退款没有到账",
                    },
                )
                if st == 201:
                    numbers.append(body["number"])
                    ids.append(body["id"])
                return st == 201

            results = [await run_clients("create-case", args.clients, n, create)]
            # put them all in the queue (not measured)
            await run_clients(
                "handoff",
                args.clients,
                len(numbers),
                lambda c, i: _ok(
                    post(f"/api/bot/cases/{numbers[i]}/handoff", bot, {"summary": {"problem": "refund missing"}})
                ),
            )
            # agent c accepts the cases i with i % clients == c (no collisions: the measure is the happy path)
            owner: dict[int, int] = {}

            async def accept(c: int, i: int) -> bool:
                st, body = await post(f"/api/cases/{ids[i]}/accept", agents[c])
                if st == 200:
                    owner[i] = c
                return st == 200

            results.append(await run_clients("accept", args.clients, len(ids), accept))
            accepted = sorted(owner)

            async def reply(c: int, i: int) -> bool:
                k = accepted[i % len(accepted)]
                st, _ = await post(f"/api/cases/{ids[k]}/messages", agents[owner[k]], {"text": "您好,请稍等"})
                return st == 201

            results.append(await run_clients("agent-reply", args.clients, n, reply))
            # a queue to list: 300 waiting cases
            extra: list[str] = []

            async def create_queued(c: int, i: int) -> bool:
                st, body = await post(
                    "/api/bot/cases",
                    bot,
                    {"channel": "webchat", "conversation_id": f"q-{label}-{i}", "language": "en", "category": "refund"},
                )
                if st != 201:
                    return False
                st, _ = await post(f"/api/bot/cases/{body['number']}/handoff", bot, {"summary": {"problem": "p"}})
                extra.append(body["number"])
                return st == 200

            await run_clients("fill-queue", args.clients, 300, create_queued)

            async def queue(c: int, i: int) -> bool:
                st, _ = await get("/api/queue?limit=50", agents[c])
                return st == 200

            results.append(await run_clients("queue-listing", args.clients, n, queue))

            # mixed: each step of a client's cycle is one request
            state: dict[int, dict[str, Any]] = {c: {} for c in range(args.clients)}

            async def mixed(c: int, i: int) -> bool:
                st_c = state[c]
                step = st_c.get("step", 0)
                st_c["step"] = (step + 1) % 8
                if step == 0:
                    st, body = await post(
                        "/api/bot/cases",
                        bot,
                        {
                            "channel": "webchat",
                            "conversation_id": f"m-{label}-{c}-{i}",
                            "language": "zh",
                            "category": "refund",
                        },
                    )
                    st_c["case"] = body
                    return st == 201
                case = st_c["case"]
                if step == 1:
                    st, _ = await post(f"/api/bot/cases/{case['number']}/handoff", bot, {"summary": {"problem": "p"}})
                    return st == 200
                if step == 2:
                    st, _ = await get("/api/queue?limit=20", agents[c])
                    return st == 200
                if step == 3:
                    st, _ = await post(f"/api/cases/{case['id']}/accept", agents[c])
                    return st == 200
                if step == 4:
                    st, _ = await post(f"/api/bot/cases/{case['number']}/messages", bot, {"text": "还在吗?"})
                    return st == 201
                if step == 5:
                    st, _ = await post(f"/api/cases/{case['id']}/messages", agents[c], {"text": "在的,请稍等"})
                    return st == 201
                if step == 6:
                    st, _ = await get(f"/api/cases/{case['id']}", agents[c])
                    return st == 200
                st, _ = await get(f"/api/cases/{case['id']}/timeline", agents[c])
                return st == 200

            results.append(await run_clients("mixed", args.clients, n * 2, mixed))
            rows += [r.row() for r in results]

            # websocket fan-out: 200 supervisor sockets, customer messages on one case
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as ws_session:
                fan = await fanout(ws_session, base, sup, bot, extra[0], sockets=args.sockets, messages=args.messages)
            rows.append(fan)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        await rasa_runner.cleanup()
    return rows


async def _ok(coro: Awaitable[tuple[int, Any]]) -> bool:
    st, _ = await coro
    return st < 300


async def fanout(
    s: aiohttp.ClientSession,
    base: str,
    sup: dict[str, str],
    bot: dict[str, str],
    number: str,
    *,
    sockets: int,
    messages: int,
) -> str:
    wss = []
    for _ in range(sockets):
        ws = await s.ws_connect(base + "/api/ws", headers=sup)
        hello = json.loads((await ws.receive(timeout=10)).data)
        assert hello["type"] == "hello"
        wss.append(ws)
    sent: dict[str, float] = {}
    delays: list[float] = []
    done = asyncio.Event()
    expected = sockets * messages

    async def reader(ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            now = time.perf_counter()
            data = json.loads(msg.data)
            if data.get("type") == "message.new":
                key = data["message"]["text"]
                delays.append(now - sent[key])
                if len(delays) >= expected:
                    done.set()

    readers = [asyncio.create_task(reader(ws)) for ws in wss]
    for k in range(messages):
        key = f"fan-{k}"
        sent[key] = time.perf_counter()
        async with s.post(f"{base}/api/bot/cases/{number}/messages", headers=bot, json={"text": key}) as r:
            assert r.status == 201, await r.text()
        await asyncio.sleep(0.05)
    try:
        await asyncio.wait_for(done.wait(), 30)
    except asyncio.TimeoutError:
        pass
    for ws in wss:
        await ws.close()
    for t in readers:
        t.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    got = len(delays)
    return (
        f"  ws fan-out: {sockets} sockets x {messages} messages: received {got}/{expected}, "
        f"delay p50 {pct(delays, 50) * 1000:.1f} ms, p95 {pct(delays, 95) * 1000:.1f} ms"
    )


async def main_async(args: argparse.Namespace) -> None:
    header = (
        f"  {'operation':<22} {'requests':>7} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'svc CPU ms/req':>12} {'errors':>6}"
    )
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="handoff-bench-")))
        backends: list[tuple[str, Callable[[], str]]] = []
        if args.only in (None, "sqlite"):
            backends.append(("sqlite", lambda: f"sqlite+aiosqlite:///{workdir / 'bench.db'}"))
        if args.only in (None, "postgresql"):
            backends.append(("postgresql", lambda: stack.enter_context(temporary_postgres("bench"))))
        for label, make_url in backends:
            url = make_url()
            print(f"\n{label}: {args.clients} concurrent clients, one service process", flush=True)
            rows = await bench_backend(label, url, args, workdir)
            print(header)
            print("\n".join(rows), flush=True)
            print(f"  load average after run: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--requests", type=int, default=2000, help="requests per measured operation (mixed: twice)")
    p.add_argument("--sockets", type=int, default=200)
    p.add_argument("--messages", type=int, default=50)
    p.add_argument("--only", choices=["sqlite", "postgresql"])
    args = p.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(f"handoff_service load benchmark, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
