"""Helpers shared by bench/nlu_eval.py, bench/latency.py and bench/review_feed_cost.py (paths, model,
servers, stats)."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from bot.training.nlu import (  # noqa: E402,F401  (shared with bot.training)
    BENCHMARKS,
    production_model,
    read_benchmark,
    relative,
)

VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = VENV_BIN / "python"
RASA = VENV_BIN / "rasa"
# as in .ci/train.sh: one TensorFlow thread makes a training reproducible
REPRODUCIBLE_TRAINING = {"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1"}


def setup() -> None:
    """cwd = repo root, `bot` importable here and in child processes, quiet libraries."""
    os.chdir(ROOT)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(ROOT) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *paths])
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.ERROR)
    for name in ("rasa", "tensorflow", "absl", "jieba", "sanic", "asyncio", "aiohttp"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:  # rasa's structlog events (one debug line per parsed message) go to stdout otherwise
        from rasa.utils.log_utils import configure_structlog

        configure_structlog(logging.ERROR)
    except ImportError:
        pass


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank-with-interpolation percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def cpu_seconds(pids: Sequence[int]) -> float:
    """User+system CPU time used so far by these processes (all their threads), from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def fmt_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s"


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited early (code {process.returncode}):\n{tail(log)}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {timeout:.0f} s:\n{tail(log)}")


def tail(log: Path, chars: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


class Processes:
    """Starts child processes in their own process groups; stops them all on exit, error or signal."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, args: Sequence[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
        proc = subprocess.Popen(
            [str(a) for a in args],
            cwd=cwd,
            env=env or os.environ.copy(),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, timeout: float = 20) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)
        self.procs.clear()

    def __enter__(self) -> Processes:
        self._old = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.stop_all()
        finally:
            for sig, handler in self._old.items():
                signal.signal(sig, handler)

    @staticmethod
    def _on_signal(signum, _frame) -> None:
        # turned into an exception so that __exit__ (and finally blocks) run
        raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def timed(label: str) -> Iterator[None]:
    start = time.time()
    yield
    print(f"  [{label}: {fmt_duration(time.time() - start)}]", flush=True)
