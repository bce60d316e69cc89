"""What the handoff_service benchmarks (run with .venv-handoff) share: a free port, percentiles, and
the real service started as a process on a given database and waited for."""

from __future__ import annotations

import asyncio
import math
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * p / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def start_service(db_url: str, port: int, log: Path, **settings: str) -> subprocess.Popen[bytes]:
    """`python -m handoff_service serve` on `db_url`, quiet logs; `settings` are more HANDOFF_*
    variables (e.g. HANDOFF_RASA_URL)."""
    env = {
        **os.environ,
        "HANDOFF_DATABASE_URL": db_url,
        "HANDOFF_PORT": str(port),
        "HANDOFF_ACCESS_LOG": "false",
        "HANDOFF_LOG_LEVEL": "WARNING",
        **settings,
    }
    out = open(log, "wb")  # noqa: SIM115 - the service's log, kept open while it runs
    return subprocess.Popen(
        [sys.executable, "-m", "handoff_service", "serve"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
    )


async def wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    async with aiohttp.ClientSession() as s:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"service exited:\n{log.read_text(errors='replace')[-3000:]}")
            try:
                async with s.get(f"{base}/api/health") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("service did not become healthy")
