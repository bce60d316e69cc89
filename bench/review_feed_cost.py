#!/usr/bin/env python
"""What the trainers' review feed costs the customer's reply: prints figures, asserts nothing.

  cd /work/main && .venv/bin/python bench/review_feed_cost.py [--rounds 6] [--conversations 30]

Starts this assistant as bench/latency.py does (action server + Rasa with the current model), but
with the SQL tracker store on SQLite (a file in a temp dir) and the bridge routes (bot/bridge.py,
under a bridge token of this run), i.e. what handoff_service's ReviewFeed reads. Then runs the same
conversation load (10 concurrent conversations, latency.py's zh/en scripts) in interleaved rounds,
each round once per condition (the order turns each round, so that background load and the growing
database hit all alike):

  (a) no review feed (the baseline);
  (b) a reader polling GET /handoff/review/events?after=<last>&limit=500 every 0.5 s (10x
      handoff_service's default HANDOFF_REVIEW_POLL_SECONDS) and following next_after, reading on
      at once while a page comes back full, as handoff_service's ReviewFeed does;
  (c) worst case: a reader re-reading from after=0 every 0.5 s (a full page of 500 each time).

Prints reply latency p50/p95, messages/s and the servers' CPU per message per condition, the
ratios to (a), and the feed requests and records read (with the feed request's own latency).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

import _common as C
import aiohttp
import latency as L

FEED_PATH = "/handoff/review/events"
PAGE = 500  # handoff_service's page (handoff_service/review/scheduled.py)
POLL_SECONDS = 0.5  # handoff_service polls every 5 s by default
LEVEL = 10  # concurrent conversations
BASELINE = "a"
CONDITIONS = {
    "a": "no review feed",
    "b": f"feed reader following next_after every {POLL_SECONDS} s",
    "c": f"feed reader re-reading from 0 every {POLL_SECONDS} s",
}


async def poll(session, base: str, token: str, mode: str, stats: dict) -> None:
    """One poll of the review feed: mode "follow" reads on from next_after, every page there is;
    "from0" reads the first page again."""
    headers = {"Authorization": f"Bearer {token}"}
    while True:
        start = time.perf_counter()
        params = {"after": str(stats["after"] if mode == "follow" else 0), "limit": str(PAGE)}
        try:
            async with session.get(base + FEED_PATH, params=params, headers=headers) as response:
                body = await response.json(content_type=None)
                ok = response.status == 200 and isinstance(body, dict)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            ok, body = False, {}
        stats["seconds"].append(time.perf_counter() - start)
        stats["requests"] += 1
        if not ok:
            stats["errors"] += 1
            return
        records = body.get("events") or []
        stats["records"] += len(records)
        if mode == "follow":
            stats["after"] = int(body.get("next_after", stats["after"]))
        if mode != "follow" or len(records) < PAGE:
            return


def feed_stats(after: int = 0) -> dict:
    return {"after": after, "requests": 0, "records": 0, "errors": 0, "seconds": []}


async def feed_reader(base: str, token: str, mode: str, stop: asyncio.Event, stats: dict) -> None:
    """Polls every POLL_SECONDS until `stop`."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        while not stop.is_set():
            await poll(session, base, token, mode, stats)
            try:
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)
            except asyncio.TimeoutError:
                pass


async def one_round(base: str, token: str, condition: str, n_conv: int, pids: list[int], follow: dict) -> dict:
    stop = asyncio.Event()
    feed = feed_stats()
    reader = None
    if condition == "b":
        # first, untimed, what the other conditions' rounds added: (b) measures the steady state
        catch_up = feed_stats(follow.get("after", 0))
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            await poll(session, base, token, "follow", catch_up)
        feed["after"] = catch_up["after"]
        reader = asyncio.create_task(feed_reader(base, token, "follow", stop, feed))
    elif condition == "c":
        reader = asyncio.create_task(feed_reader(base, token, "from0", stop, feed))
    cpu = C.cpu_seconds(pids)
    result = await L.run_level(base, L.OURS_CONVERSATIONS, LEVEL, n_conv, f"feed{condition}")
    result["cpu_ms"] = (C.cpu_seconds(pids) - cpu) * 1000 / max(result["messages"], 1)
    if reader is not None:
        stop.set()
        await reader
    if condition == "b":
        follow["after"] = feed["after"]
    result["feed"] = feed
    return result


def merged(rounds: list[dict]) -> dict:
    """One condition's rounds together: latencies pooled, rates from summed messages and wall time."""
    latencies = [x for r in rounds for x in r["samples"]]
    messages = sum(r["messages"] for r in rounds)
    feed_seconds = [x for r in rounds for x in r["feed"]["seconds"]]
    return {
        "messages": messages,
        "errors": sum(r["errors"] for r in rounds),
        "empty": sum(r["empty"] for r in rounds),
        "p50": C.percentile(latencies, 50) * 1000,
        "p95": C.percentile(latencies, 95) * 1000,
        "rate": messages / sum(r["wall"] for r in rounds),
        "rates": [r["rate"] for r in rounds],
        "cpu_ms": sum(r["cpu_ms"] * r["messages"] for r in rounds) / max(messages, 1),
        "requests": sum(r["feed"]["requests"] for r in rounds),
        "records": sum(r["feed"]["records"] for r in rounds),
        "feed_errors": sum(r["feed"]["errors"] for r in rounds),
        "feed_p50": C.percentile(feed_seconds, 50) * 1000,
        "feed_p95": C.percentile(feed_seconds, 95) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="rounds; each runs every condition once")
    parser.add_argument("--conversations", type=int, default=30, help="conversations per condition and round")
    parser.add_argument("--conditions", default="abc", help="which of a, b, c (a is the baseline)")
    args = parser.parse_args()
    conditions = [c for c in CONDITIONS if c in args.conditions or c == BASELINE]
    t0 = time.time()
    work = Path(tempfile.mkdtemp(prefix="review_feed_cost_"))
    token = secrets.token_urlsafe(24)
    print("Review feed cost: reply latency with and without a review-feed reader (figures only, no assertions)")
    print(f"machine: {os.cpu_count()} cores, load average at start " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    try:
        with C.Processes() as procs:
            model = C.production_model()
            tracker_db = work / "tracker.db"
            print(f"ours: {C.relative(model)}, SQL tracker store on SQLite ({tracker_db.name}), bridge routes on")
            url, (actions, actions_log, actions_port), (rasa, rasa_log) = L.start_ours(
                procs, model, work, tracker_db=tracker_db, bridge=token
            )
            C.wait_for(f"http://127.0.0.1:{actions_port}/health", actions, actions_log)
            pids = [rasa.pid, actions.pid]

            async def bench() -> dict[str, list[dict]]:
                await L.first_answer(url, L.OURS_CONVERSATIONS[0][0], time.time(), rasa, rasa_log)
                await L.warm_up(url, L.OURS_CONVERSATIONS, "feed")
                # the feed's first page full before (c) re-reads it
                async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
                    for _ in range(20):
                        probe = feed_stats()
                        await poll(session, url, token, "from0", probe)
                        if probe["errors"]:
                            raise RuntimeError(f"the review feed answered with an error:\n{C.tail(rasa_log)}")
                        if probe["records"] >= PAGE:
                            break
                        await L.run_level(url, L.OURS_CONVERSATIONS, LEVEL, LEVEL, "feed-fill")
                print(f"servers up and warm after {C.fmt_duration(time.time() - t0)}", flush=True)
                results: dict[str, list[dict]] = {c: [] for c in conditions}
                follow: dict = {}
                for i in range(args.rounds):
                    order = conditions[i % len(conditions) :] + conditions[: i % len(conditions)]
                    for condition in order:
                        r = await one_round(url, token, condition, args.conversations, pids, follow)
                        results[condition].append(r)
                    print(
                        f"  round {i + 1}/{args.rounds} ({', '.join(order)}): "
                        + ", ".join(f"{c} {results[c][-1]['messages']} msgs" for c in conditions),
                        flush=True,
                    )
                return results

            results = asyncio.run(bench())
            for proc, log, name in ((rasa, rasa_log, "rasa"), (actions, actions_log, "actions")):
                if proc.poll() is not None:
                    print(f"WARNING: {name} server exited during the run:\n{C.tail(log)}")
            problems = {name: L.log_problems(log) for name, log in (("rasa", rasa_log), ("actions", actions_log))}
            db_mb = tracker_db.stat().st_size / 1e6

        rows = {c: merged(results[c]) for c in conditions}
        base = rows[BASELINE]
        print(
            f"\n{LEVEL} concurrent conversations, {args.rounds} interleaved rounds of {args.conversations} "
            f"conversations per condition; baseline: ({BASELINE}) = {CONDITIONS[BASELINE]}"
        )
        print(
            f"{'condition':<58} {'msgs':>5} {'err':>4} {'p50 ms':>7} {'p95 ms':>7} {'msg/s':>6} {'CPU ms/msg':>10}"
            f" {'p95 /(a)':>8} {'msg/s /(a)':>10}"
        )
        for c in conditions:
            r = rows[c]
            print(
                f"({c}) {CONDITIONS[c]:<54} {r['messages']:>5} {r['errors']:>4} {r['p50']:>7.0f} {r['p95']:>7.0f}"
                f" {r['rate']:>6.1f} {r['cpu_ms']:>10.1f} {r['p95'] / base['p95']:>7.2f}x {r['rate'] / base['rate']:>9.2f}x"
            )
        for c in conditions:
            r = rows[c]
            print(f"  ({c}) msg/s per round: " + ", ".join(f"{x:.1f}" for x in r["rates"]))
        for c in conditions:
            r = rows[c]
            if r["requests"]:
                print(
                    f"  ({c}) feed: {r['requests']} requests, {r['records']} records read, {r['feed_errors']} errors;"
                    f" feed request p50 / p95 {r['feed_p50']:.0f} / {r['feed_p95']:.0f} ms"
                )
        print(f"  tracker.db at the end: {db_mb:.1f} MB; CPU ms/msg = Rasa + action server CPU per message")
        print("  load average at end " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        for name, lines in problems.items():
            if lines:
                print(f"  {name} log: {len(lines)} error/traceback lines, e.g.: " + " | ".join(lines[:3]))
        print(f"\ntotal run time {C.fmt_duration(time.time() - t0)} (servers stopped)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
