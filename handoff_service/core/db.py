"""Engine construction. Nothing is created at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

READONLY = "handoff_readonly"


def ensure_sqlite_dir(url: str) -> None:
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)


def build_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine; on SQLite: WAL, busy timeout and BEGIN IMMEDIATE for writes."""
    backend = make_url(url).get_backend_name()
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        ensure_sqlite_dir(url)
        kwargs["connect_args"] = {"timeout": 30}
        kwargs["pool_size"] = pool_size
        kwargs["max_overflow"] = 0
        kwargs["pool_timeout"] = 60
        # every use of a connection ends its own transaction (engine.begin()), and
        # reads run without one: skip the extra ROLLBACK round trip on check-in
        kwargs["pool_reset_on_return"] = None
    else:
        kwargs["pool_size"] = pool_size
        kwargs["max_overflow"] = pool_size
        kwargs["pool_timeout"] = 60
    target: str | URL = url
    if backend == "sqlite" and make_url(url).get_driver_name() == "aiosqlite":
        from . import sqlite_fast

        sqlite_fast.register()
        target = make_url(url).set(drivername="sqlite+handoff_aiosqlite")
    engine = create_async_engine(target, **kwargs)
    if backend == "sqlite":
        _configure_sqlite(engine)
    return engine


def readonly(engine: AsyncEngine) -> AsyncEngine:
    """The same pool for reads: autocommit, so a read costs no BEGIN/COMMIT round
    trips (each statement still sees a consistent snapshot)."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{READONLY: True})  # _on_begin emits no BEGIN
    return engine.execution_options(isolation_level="AUTOCOMMIT", **{READONLY: True})


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (pysqlite's implicit BEGIN is deferred).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front, so concurrent read-then-write
        # transactions queue on busy_timeout instead of failing with SQLITE_BUSY.
        if not conn.get_execution_options().get(READONLY):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(sync_engine, "connect", _on_connect)
    event.listen(sync_engine, "begin", _on_begin)
