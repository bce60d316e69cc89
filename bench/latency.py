#!/usr/bin/env python
"""Latency/throughput benchmark through the REST channel: prints figures, asserts nothing.

  cd /work/main && .venv/bin/python bench/latency.py [--levels 1,10,50]

Starts this assistant (action server + Rasa with the production model, in-memory
tracker store, throwaway demo order store) and a plain `rasa init` project (moodbot,
trained into a temp dir), warms both up, then runs 1, 10 and 50 concurrent
conversations against each (interleaved per level, so background load hits both alike).
Each conversation is its own sender id and sends several turns, one after the other.
Prints reply latency p50/p95 and messages/s per level, and the throughput ratio
ours/plain; before the load, for each Rasa server started alone: the time from start to
the first answer, its resident memory then, and the model file's size. All servers are
stopped at the end, also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

C.setup()

from bot.identity import GATEWAY_SECRET_ENV, SIGNATURE_HEADER, sign_body  # noqa: E402
from bot.serve import BRIDGE_TOKEN_VARIABLE, SERVING_THREADS, TOKEN_VARIABLE  # noqa: E402

GATEWAY_SECRET = "bench-gateway-secret-" + "0" * 24  # the stand-in gateway's, for this run only

# an anonymous customer answers the last four digits of the order's phone after giving an order number
OURS_CONVERSATIONS: list[list[str]] = [
    ["你好", "我的订单12345到哪了", "8001", "退款一般多久到账", "谢谢", "再见"],
    [
        "hi there",
        "what's the status of order 20003",
        "9002",
        "how long does a refund take",
        "what are your opening hours",
        "great, goodbye",
    ],
    ["您好", "我想退货", "退货运费谁出", "好的，谢谢"],
    ["hello", "where is my package", "20003", "9002", "do you ship to other cities", "thanks, bye"],
    ["你好", "你们客服几点上班", "支持哪些付款方式", "保修多久", "再见"],
    ["hi", "I want a refund for order 12345", "8001", "how can I contact you", "are you a bot?", "bye"],
    ["你好", "我的訂單12345還沒到", "8001", "謝謝", "再見"],
    ["早上好", "帮我查一下订单20003", "尾号9002", "发票怎么开", "好的", "拜拜"],
]
PLAIN_CONVERSATIONS: list[list[str]] = [
    ["hello", "I am sad", "yes", "great", "bye"],
    ["hi", "I am feeling very good", "bye"],
    ["hey there", "I'm unhappy", "no", "goodbye"],
    ["good morning", "are you a bot?", "great", "see you later"],
    ["hello", "I am very sad", "yes", "thanks, bye"],
]
# both servers run in the environment `make run` gives Rasa (bot.serve: one BLAS thread)
SERVING = {**SERVING_THREADS, **os.environ, GATEWAY_SECRET_ENV: GATEWAY_SECRET}
# conversations per concurrency level (workers take the next one when theirs ends)
CONVERSATIONS_PER_LEVEL = {1: 12, 10: 40, 50: 100}
TARGET_RATIO = 1.0  # ours/plain msg/s at every level; and p95 at 10 and 50 no worse than plain's
TARGET_START_S, TARGET_RSS_GB, TARGET_SIZE_MB = 20, 1.2, 60
# the three-member DIET ensemble this pipeline replaced, measured on this machine on 2026-12-06
ENSEMBLE_DATE = "2026-12-06"
ENSEMBLE_START = {"start_s": "~45 s", "rss": "2.35 GB", "size": "~290 MB"}


# ---------------------------------------------------------------- servers


def start_ours(procs: C.Processes, model: Path, work: Path, *, tracker_db: Path | None = None, bridge: str = ""):
    """Action server + Rasa; by default as here (`rasa run`, in-memory tracker store). `tracker_db`:
    the SQL tracker store on this SQLite file; `bridge`: a bridge token, Rasa then started as `make
    run` starts it (`bot.serve`, the HTTP API under a token of this run, the bridge routes)."""
    rasa_port, actions_port = C.free_port(), C.free_port()
    endpoints = work / "endpoints_ours.yml"
    tracker_store = f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tracker_db}\n" if tracker_db else ""
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        "  headers:\n    X-Action-Secret: ${ACTION_SERVER_SECRET}\n"
        "nlg:\n  type: bot.nlg.LocalizedNLG\n" + tracker_store,
        encoding="utf-8",
    )
    # as `make run` serves it: the action server answers Rasa only, which sends the shared secret
    env = {
        **SERVING,
        "SANIC_HOST": "127.0.0.1",
        "DEMO_STORE_PATH": str(work / "demo_store.db"),
        "ACTION_SERVER_SECRET": secrets.token_urlsafe(24),
    }
    launcher: list = [C.RASA, "run"]
    rasa_env = env
    if bridge:  # Rasa's alone (bot.serve keeps them from what it starts)
        rasa_env = {**env, TOKEN_VARIABLE: secrets.token_urlsafe(24), BRIDGE_TOKEN_VARIABLE: bridge}
        launcher = [C.PYTHON, "-m", "bot.serve"]
    actions = procs.start(
        [C.PYTHON, "-m", "actions.serve", "--actions", "actions", "-p", actions_port],
        C.ROOT,
        work / "ours_actions.log",
        env,
    )
    rasa = procs.start(
        [
            *launcher,
            "--model",
            model,
            "--interface",
            "127.0.0.1",
            "--port",
            rasa_port,
            "--endpoints",
            endpoints,
            "--credentials",
            C.ROOT / "credentials.yml",
        ],
        C.ROOT,
        work / "ours_rasa.log",
        rasa_env,
    )
    return (
        f"http://127.0.0.1:{rasa_port}",
        (actions, work / "ours_actions.log", actions_port),
        (rasa, work / "ours_rasa.log"),
    )


def start_plain(procs: C.Processes, project: Path, work: Path):
    models = sorted((project / "models").glob("*.tar.gz"))
    if not models:
        raise RuntimeError(f"rasa init produced no model:\n{C.tail(work / 'init.log')}")
    port = C.free_port()
    endpoints = work / "endpoints_plain.yml"
    endpoints.write_text("{}\n", encoding="utf-8")
    rasa = procs.start(
        [
            C.RASA,
            "run",
            "--model",
            models[-1],
            "--interface",
            "127.0.0.1",
            "--port",
            port,
            "--endpoints",
            endpoints,
            "--credentials",
            project / "credentials.yml",
        ],
        project,
        work / "plain_rasa.log",
        SERVING,
    )
    return f"http://127.0.0.1:{port}", (rasa, work / "plain_rasa.log")


# ---------------------------------------------------------------- load


async def send(session, url: str, sender: str, message: str):
    start = time.perf_counter()
    payload = json.dumps({"sender": sender, "message": message}).encode()
    # signed as the messaging gateway signs (our REST channel requires it; stock Rasa ignores it)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign_body(GATEWAY_SECRET, payload)}
    async with session.post(url, data=payload, headers=headers) as response:
        body = await response.json(content_type=None)
        ok = response.status == 200
    return time.perf_counter() - start, ok, bool(body) if ok else False


async def run_level(base: str, scripts: Sequence[list[str]], concurrency: int, n_conv: int, tag: str):
    import aiohttp

    url = f"{base}/webhooks/rest/webhook"
    run_id = uuid.uuid4().hex[:8]
    queue = iter(range(n_conv))
    latencies: list[float] = []
    stats = {"errors": 0, "empty": 0, "messages": 0}
    timeout = aiohttp.ClientTimeout(total=180)

    async def worker(session) -> None:
        for i in queue:  # a shared iterator: each conversation is taken once
            sender = f"{tag}-{run_id}-c{concurrency}-{i}"
            for message in scripts[i % len(scripts)]:
                try:
                    seconds, ok, nonempty = await send(session, url, sender, message)
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    stats["errors"] += 1
                    continue
                stats["messages"] += 1
                latencies.append(seconds)
                stats["errors"] += 0 if ok else 1
                stats["empty"] += 0 if nonempty else 1

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        wall = time.perf_counter() - start
    return {
        "p50": C.percentile(latencies, 50) * 1000,
        "p95": C.percentile(latencies, 95) * 1000,
        "rate": stats["messages"] / wall,
        "wall": wall,
        "conversations": n_conv,
        "samples": latencies,  # seconds, to pool several runs
        **stats,
    }


def resident_gb(pid: int) -> float:
    """VmRSS of a process and its children (Rasa runs in one process; `rasa` may fork a child)."""
    total = 0
    for candidate in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{candidate}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024 / 1024


def children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


async def first_answer(base: str, text: str, started: float, process, log: Path, deadline: float = 300) -> float:
    """Seconds from `started` (the server's launch) to the first non-empty reply to `text`."""
    import aiohttp

    url = f"{base}/webhooks/rest/webhook"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        while time.time() - started < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{base}: server exited early:\n{C.tail(log)}")
            try:
                _, ok, nonempty = await send(session, url, f"start-{uuid.uuid4().hex[:8]}", text)
                if ok and nonempty:
                    return time.time() - started
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{base}: no answer within {deadline} s:\n{C.tail(log)}")


async def warm_up(base: str, scripts: Sequence[list[str]], tag: str, deadline: float = 240) -> None:
    """Until a full reply arrives (first message loads lazy parts), then a few conversations."""
    import aiohttp

    url = f"{base}/webhooks/rest/webhook"
    end = time.time() + deadline
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        while True:
            try:
                _, ok, nonempty = await send(session, url, f"{tag}-warmup-0", scripts[0][0])
                if ok and nonempty:
                    break
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            if time.time() > end:
                raise RuntimeError(f"{tag}: no reply during warm-up")
            await asyncio.sleep(1)
    await run_level(base, scripts, 1, len(scripts), f"{tag}-warmup")
    await run_level(base, scripts, 10, 10, f"{tag}-warmup")


def log_problems(log: Path) -> list[str]:
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return [
        line.strip()[:160] for line in lines if " ERROR " in line or "[error" in line or line.startswith("Traceback")
    ]


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", default="1,10,50", help="concurrent conversations, comma-separated")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    t0 = time.time()
    work = Path(tempfile.mkdtemp(prefix="latency_"))
    project = work / "moodbot"
    project.mkdir()
    print("REST latency benchmark (figures only, no assertions)")
    print(f"machine: {os.cpu_count()} cores, load average at start " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    try:
        with C.Processes() as procs:
            model = C.production_model()
            print(f"ours : {C.relative(model)} (in-memory tracker store, throwaway demo order store)")
            # the plain project trains first, so that each server starts alone (start-up is measured)
            start = time.time()
            init = procs.start([C.RASA, "init", "--no-prompt", "--init-dir", project], work, work / "init.log")
            code = init.wait(timeout=900)
            if code != 0:
                raise RuntimeError(f"rasa init failed ({code}):\n{C.tail(work / 'init.log')}")
            print(f"plain: `rasa init` moodbot trained in {work.name}/moodbot ({C.fmt_duration(time.time() - start)})")
            startup: dict[str, dict] = {}
            started = time.time()
            ours_url, (actions, actions_log, actions_port), (ours_rasa, ours_log) = start_ours(procs, model, work)
            seconds = asyncio.run(first_answer(ours_url, OURS_CONVERSATIONS[0][0], started, ours_rasa, ours_log))
            startup["ours"] = {"start_s": seconds, "rss": resident_gb(ours_rasa.pid), "size": model.stat().st_size}
            C.wait_for(f"http://127.0.0.1:{actions_port}/health", actions, actions_log)
            started = time.time()
            plain_url, (plain_rasa, plain_log) = start_plain(procs, project, work)
            seconds = asyncio.run(first_answer(plain_url, PLAIN_CONVERSATIONS[0][0], started, plain_rasa, plain_log))
            plain_model = sorted((project / "models").glob("*.tar.gz"))[-1]
            startup["plain"] = {
                "start_s": seconds,
                "rss": resident_gb(plain_rasa.pid),
                "size": plain_model.stat().st_size,
            }
            print(f"servers up after {C.fmt_duration(time.time() - t0)}; warming up...", flush=True)

            async def bench() -> dict[int, dict[str, dict]]:
                await warm_up(ours_url, OURS_CONVERSATIONS, "ours")
                await warm_up(plain_url, PLAIN_CONVERSATIONS, "plain")
                results: dict[int, dict[str, dict]] = {}
                for level in levels:
                    n_conv = CONVERSATIONS_PER_LEVEL.get(level, max(2 * level, 12))
                    results[level] = {}
                    for name, url, scripts, pids in (
                        ("ours", ours_url, OURS_CONVERSATIONS, [ours_rasa.pid, actions.pid]),
                        ("plain", plain_url, PLAIN_CONVERSATIONS, [plain_rasa.pid]),
                    ):
                        cpu = C.cpu_seconds(pids)
                        cpu_rest = C.cpu_seconds(pids[1:])
                        r = await run_level(url, scripts, level, n_conv, name)
                        r["cpu_ms"] = (C.cpu_seconds(pids) - cpu) * 1000 / max(r["messages"], 1)
                        r["cpu_ms_actions"] = (C.cpu_seconds(pids[1:]) - cpu_rest) * 1000 / max(r["messages"], 1)
                        r["rss"] = resident_gb(pids[0])
                        results[level][name] = r
                    o, p = results[level]["ours"], results[level]["plain"]
                    print(
                        f"  level {level:>2} done: ours {o['messages']} msgs in {o['wall']:.1f} s, "
                        f"plain {p['messages']} msgs in {p['wall']:.1f} s",
                        flush=True,
                    )
                return results

            results = asyncio.run(bench())
            server_logs = {"ours rasa": ours_log, "ours actions": actions_log, "plain rasa": plain_log}
            for proc, log, name in (
                (ours_rasa, ours_log, "ours"),
                (plain_rasa, plain_log, "plain"),
                (actions, actions_log, "actions"),
            ):
                if proc.poll() is not None:
                    print(f"WARNING: {name} server exited during the run:\n{C.tail(log)}")

        def verdict(ok: bool) -> str:
            return "met" if ok else "NOT met"

        o, p = startup["ours"], startup["plain"]
        print(f"\n{'each Rasa server started alone':40}{'ours':>10}{'plain':>10}   ensemble ({ENSEMBLE_DATE})   target")
        print(
            f"{'start to first answer':40}{o['start_s']:>9.1f}s{p['start_s']:>9.1f}s   {ENSEMBLE_START['start_s']:>8}"
            f"   <= {TARGET_START_S} s: {verdict(o['start_s'] <= TARGET_START_S)}"
        )
        print(
            f"{'resident memory after loading':40}{o['rss']:>8.2f}GB{p['rss']:>8.2f}GB   {ENSEMBLE_START['rss']:>8}"
            f"   <= {TARGET_RSS_GB} GB: {verdict(o['rss'] <= TARGET_RSS_GB)}"
        )
        print(
            f"{'model file':40}{o['size'] / 1e6:>8.1f}MB{p['size'] / 1e6:>8.1f}MB   {ENSEMBLE_START['size']:>8}"
            f"   <= {TARGET_SIZE_MB} MB: {verdict(o['size'] / 1e6 <= TARGET_SIZE_MB)}"
        )
        print(
            f"  resident memory after the heaviest level: ours {max(results[level]['ours']['rss'] for level in levels):.2f} GB,"
            f" plain {max(results[level]['plain']['rss'] for level in levels):.2f} GB"
        )

        print(
            f"\n{'conc.':>5} {'system':>6} {'convs':>6} {'msgs':>5} {'err':>4} {'empty':>5}"
            f" {'p50 ms':>8} {'p95 ms':>8} {'msg/s':>7} {'CPU ms/msg':>10}   ours/plain msg/s (target >= "
            f"{TARGET_RATIO:.2f}); p95 (target at 10 and 50: no worse)"
        )
        for level in levels:
            for name in ("ours", "plain"):
                r = results[level][name]
                ratio = ""
                if name == "ours":
                    plain = results[level]["plain"]
                    x = r["rate"] / plain["rate"]
                    ratio = f"{x:.2f}x {'(met)' if x >= TARGET_RATIO else '(NOT met)'}"
                    if level >= 10:
                        ratio += f"; p95 {r['p95'] / plain['p95']:.2f}x plain's ({verdict(r['p95'] <= plain['p95'])})"
                print(
                    f"{level:>5} {name:>6} {r['conversations']:>6} {r['messages']:>5} {r['errors']:>4}"
                    f" {r['empty']:>5} {r['p50']:>8.0f} {r['p95']:>8.0f} {r['rate']:>7.1f} {r['cpu_ms']:>10.0f}   {ratio}"
                )
        print(
            "  turns per conversation: ours "
            f"{sum(map(len, OURS_CONVERSATIONS)) / len(OURS_CONVERSATIONS):.1f} (zh/en mix: greetings, "
            "order lookups via the action server, refunds, FAQs), plain "
            f"{sum(map(len, PLAIN_CONVERSATIONS)) / len(PLAIN_CONVERSATIONS):.1f} (moodbot)"
        )
        print(
            "  CPU ms/msg = server CPU time (ours: Rasa + action server; plain: Rasa) per message, "
            "less sensitive to other load on the machine than msg/s; of which ours' action server: "
            + ", ".join(f"{level}: {results[level]['ours']['cpu_ms_actions']:.0f} ms" for level in levels)
        )
        # per level with a measured CPU cost (a level without one is left out, not paired with the next ratio)
        cpu_ratio = [
            (level, results[level]["plain"]["cpu_ms"] / results[level]["ours"]["cpu_ms"])
            for level in levels
            if results[level]["ours"]["cpu_ms"] > 0
        ]
        if cpu_ratio:
            print(
                "  CPU-cost ratio plain/ours per message (a load-independent throughput ratio): "
                + ", ".join(f"{level}: {x:.2f}x" for level, x in cpu_ratio)
            )
        print("  load average at end " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        for name, log in server_logs.items():
            if problems := log_problems(log):
                print(f"  {name} log: {len(problems)} error/traceback lines, e.g.: " + " | ".join(problems[:3]))
        print(f"\ntotal run time {C.fmt_duration(time.time() - t0)} (servers stopped)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
