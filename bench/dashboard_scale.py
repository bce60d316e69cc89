"""KPI dashboard benchmark (issue 28): dashboard and export response times over 100,000 cases and
about 1,000,000 timeline events, on SQLite and PostgreSQL, and the time to rebuild the rollups.

For each backend a fresh database is migrated and filled by the demo-data generator
(handoff_service/demo, detail "full": cases over the last 120 days with realistic timelines, messages
and follow-up visits, handed to the benchmark's 40 agents in 5 teams, written in batches through
SQLAlchemy Core); the rollups are rebuilt from the raw tables (timed, the same code as
`python -m handoff_service metrics-rebuild`); PostgreSQL's tables are ANALYZEd (what autovacuum does
within a minute of a bulk load). Then the real service (`python -m handoff_service serve`) answers a
supervisor's requests over HTTP, one at a time: the default dashboard (7 days), 30, 120 and 365
days, filtered views, an hourly view, and CSV exports. Today and yesterday are marked as changed
first, so the dashboard reads them from the rows and the other days packed, as in use.

    .venv-handoff/bin/python bench/dashboard_scale.py [--cases 100000] [--rounds 10] [--only sqlite|postgresql]

Target (issue 28, not asserted): p95 <= 1 s for the dashboard and the exports. The per-case
export streams page by page: "first byte" is when its first bytes arrived, the p95 columns when
the whole file had.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _handoff import free_port, pct, start_service, wait_healthy  # noqa: E402

from handoff_service.core.clock import SystemClock  # noqa: E402
from handoff_service.core.config import Settings  # noqa: E402
from handoff_service.core.db import build_engine  # noqa: E402
from handoff_service.core.migrate import upgrade  # noqa: E402
from handoff_service.core.pgtemp import temporary_postgres  # noqa: E402
from handoff_service.core.security import Passwords  # noqa: E402
from handoff_service.demo import service as demo  # noqa: E402
from handoff_service.demo.generator import Agent  # noqa: E402
from handoff_service.metrics import blocks, columns  # noqa: E402
from handoff_service.metrics.service import rebuild  # noqa: E402
from handoff_service.staff.service import create_token, create_user  # noqa: E402

TARGET_P95_MS = 1000.0
DAYS = 120
AGENTS = 40

REQUESTS = [
    ("dashboard, default (7 days)", "/api/metrics/dashboard"),
    ("dashboard, 30 days", "/api/metrics/dashboard?from={d30}&to={today}"),
    (
        "dashboard, 30 days, tier=high, language=zh",
        "/api/metrics/dashboard?from={d30}&to={today}&tier=high&language=zh",
    ),
    ("dashboard, 30 days, team=team1", "/api/metrics/dashboard?from={d30}&to={today}&team=team1"),
    ("dashboard, 30 days, agent=agent7", "/api/metrics/dashboard?from={d30}&to={today}&agent=agent7"),
    ("dashboard, 7 days hourly", "/api/metrics/dashboard?granularity=hour"),
    ("dashboard, 120 days", "/api/metrics/dashboard?from={d120}&to={today}"),
    ("dashboard, 120 days, team=team1", "/api/metrics/dashboard?from={d120}&to={today}&team=team1"),
    ("dashboard, 365 days", "/api/metrics/dashboard?from={d365}&to={today}"),
    ("export cases, 7 days", "/api/metrics/export?table=cases"),
    ("export cases, 30 days, category=refund", "/api/metrics/export?table=cases&from={d30}&to={today}&category=refund"),
    ("export agents, 30 days", "/api/metrics/export?table=agents&from={d30}&to={today}"),
    ("export series, 30 days", "/api/metrics/export?table=series&from={d30}&to={today}"),
    ("export cases, 30 days", "/api/metrics/export?table=cases&from={d30}&to={today}"),
    ("export agents, 120 days", "/api/metrics/export?table=agents&from={d120}&to={today}"),
    ("export cases, 120 days (every case)", "/api/metrics/export?table=cases&from={d120}&to={today}"),
]


async def prepare(url: str, cases: int, now: datetime) -> tuple[dict[str, int], float, float, str]:
    await asyncio.to_thread(upgrade, url)
    engine = build_engine(url, pool_size=2)
    try:
        clock, pw = SystemClock(), Passwords(1, 1024, 1)
        staff = []
        for i in range(AGENTS):
            u = await create_user(
                engine, clock, pw, username=f"agent{i}", password="bench password 1", role="agent", team=f"team{i % 5}"
            )
            staff.append(Agent(u["id"], u["username"], u["team"]))
        await create_user(engine, clock, pw, username="sup", password="bench password 1", role="supervisor")
        token, _ = await create_token(engine, clock, kind="staff", username="sup", name="bench")
        opts = demo.options(Settings.from_env(), seed=28, now=now, days=DAYS, cases=cases, detail="full")
        t0 = time.perf_counter()
        counts = await demo.write(engine, opts, agents=staff)
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        await rebuild(engine)
        rebuild_s = time.perf_counter() - t0
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:
                await conn.execute(text("COMMIT"))
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    return counts, load_s, rebuild_s, token


async def mark_recent(url: str, now: datetime) -> int:
    """Marks today and yesterday (UTC) as changed, as a running service leaves them between two
    rounds of its packer: the dashboard then reads those days from the rows, as it would in use."""
    engine = build_engine(url, pool_size=1)
    try:
        today = blocks.day_of(now)
        async with engine.begin() as conn:
            await blocks.mark(conn, [(kind, day) for kind in columns.KINDS for day in (today - 1, today)])
    finally:
        await engine.dispose()
    return 2


async def measure(base: str, token: str, rounds: int) -> dict[str, tuple[list[float], list[float]]]:
    """(whole response, first byte of the body) times in ms per request."""
    today = datetime.now(UTC).date()
    fmt = {"today": today.isoformat()}
    for days in (30, 120, 365):
        fmt[f"d{days}"] = (today.fromordinal(today.toordinal() - days + 1)).isoformat()
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name, _ in REQUESTS}
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as s:
        for round_ in range(rounds + 1):  # one unmeasured round first
            for name, path in REQUESTS:
                t0 = time.perf_counter()
                async with s.get(base + path.format(**fmt)) as r:
                    await r.content.readany()
                    first = time.perf_counter()
                    await r.read()
                    assert r.status == 200, (path, r.status, await r.text())
                if round_:
                    times[name][0].append((time.perf_counter() - t0) * 1000)
                    times[name][1].append((first - t0) * 1000)
    return times


async def run_backend(name: str, url: str, args: argparse.Namespace, workdir: Path) -> None:
    now = datetime.now(UTC)
    counts, load_s, rebuild_s, token = await prepare(url, args.cases, now)
    await mark_recent(url, now)
    print(
        f"\n{name}: {counts['cases']:,} cases, {counts['events']:,} timeline events, {counts['messages']:,} "
        f"messages, {counts['visits']:,} visits; bulk load {load_s:.0f} s; rollup rebuild {rebuild_s:.1f} s"
    )
    port = free_port()
    log = workdir / f"{name}-service.log"
    proc = start_service(
        url,
        port,
        log,
        HANDOFF_SLA_INTERVAL_SECONDS="0",
        HANDOFF_REVIEW_POLL_SECONDS="0",
        HANDOFF_FOLLOW_UP_INTERVAL_SECONDS="0",
        HANDOFF_METRICS_PACK_SECONDS="0",
    )
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_healthy(base, proc, log)
        times = await measure(base, token, args.rounds)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"  {'request':48} {'p50 ms':>8} {'p95 ms':>8} {'first byte p95':>15}")
    over = []
    for req, (values, firsts) in times.items():
        p95 = pct(values, 95)
        if p95 > TARGET_P95_MS:
            over.append(f"{req} {p95:.0f} ms (first byte {pct(firsts, 95):.0f} ms)")
        print(f"  {req:48} {pct(values, 50):8.0f} {p95:8.0f} {pct(firsts, 95):15.0f}")
    every = [v for values, _ in times.values() for v in values]
    print(f"  {'all requests':48} {pct(every, 50):8.0f} {pct(every, 95):8.0f}")
    met = len(times) - len(over)
    print(f"  target p95 <= {TARGET_P95_MS:.0f} ms: met by {met} of {len(times)} requests")
    for line in over:
        print(f"    not met: {line}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    args = ap.parse_args()
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="metrics-bench-")))
        if args.only in (None, "sqlite"):
            await run_backend("sqlite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}", args, workdir)
        if args.only in (None, "postgresql"):
            url = stack.enter_context(temporary_postgres())
            await run_backend("postgresql", url, args, workdir)


if __name__ == "__main__":
    asyncio.run(main())
