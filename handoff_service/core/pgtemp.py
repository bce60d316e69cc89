"""A throwaway PostgreSQL server for tests and benchmarks (Debian's binaries).

    python -m handoff_service.pgtemp -- <command ...>

starts a server in a fresh temp directory on a free 127.0.0.1 port, exports
HANDOFF_TEST_DATABASE_URL (postgresql+asyncpg://...) to the command, and stops
and removes the server afterwards, whatever happens. Run as root, the server
runs as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise SystemExit("PostgreSQL not found under /usr/lib/postgresql (apt-get install postgresql)")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@contextlib.contextmanager
def temporary_postgres(dbname: str = "handoff") -> Iterator[str]:
    """Yields a SQLAlchemy URL of a fresh, empty database."""
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="handoff-pg-"))
    data = root / "data"
    data.mkdir()
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        os.chown(data, pw.pw_uid, pw.pw_gid)
    port = _free_port()
    proc: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            _as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        log = open(root / "postgres.log", "wb")
        proc = subprocess.Popen(
            _as_postgres(
                [
                    str(bindir / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(port),
                    "-h",
                    "127.0.0.1",
                    "-k",
                    str(root),
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=300",
                ]
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            ready = subprocess.run(
                [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if ready.returncode == 0:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not start; see {root / 'postgres.log'}")
            time.sleep(0.1)
        subprocess.run(
            [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", dbname], check=True
        )
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{dbname}"
    finally:
        if proc is not None:
            # pg_ctl waits until the postmaster is gone (runuser does not forward signals)
            subprocess.run(
                _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "stop", "-m", "fast", "-w", "-t", "30"]),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if (data / "postmaster.pid").exists():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print(__doc__)
        return 2
    # turn SIGTERM into a normal exit so the server is stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with temporary_postgres() as url:
        env = {**os.environ, "HANDOFF_TEST_DATABASE_URL": url}
        print(f"pgtemp: PostgreSQL at {url}", file=sys.stderr, flush=True)
        return subprocess.call(argv, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
