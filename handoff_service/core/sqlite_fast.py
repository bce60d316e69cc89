"""aiosqlite dialect with one thread round trip per statement.

SQLAlchemy's aiosqlite adapter makes four trips to aiosqlite's thread per
statement (cursor, execute, fetchall, close); each costs a thread wake-up and a
GIL hand-over, and on SQLite a writer holds the database lock for all of them.
This cursor runs execute + fetchall + close as one call in that thread.
Used for `sqlite+aiosqlite` URLs by db.build_engine; everything else is stock.
"""

from __future__ import annotations

import collections
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util.concurrency import await_

NAME = "sqlite.handoff_aiosqlite"


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: Any) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._description = None
        self._rowcount = -1
        self._lastrowid = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @staticmethod
    def _run(conn: Any, operation: Any, parameters: Any, many: bool) -> tuple[Any, int, Any, list[Any]]:
        cur = conn.cursor()
        try:
            if many:
                cur.executemany(operation, parameters)
            else:
                cur.execute(operation, () if parameters is None else parameters)
            rows = cur.fetchall() if cur.description else []
            return cur.description, cur.rowcount, cur.lastrowid, rows
        finally:
            cur.close()

    async def _call(self, operation: Any, parameters: Any, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            aconn = self._connection
            desc, rc, lid, rows = await aconn._execute(self._run, aconn._conn, operation, parameters, many)
        self._description, self._rowcount, self._lastrowid = desc, rc, lid
        self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._call(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._call(operation, seq_of_parameters, True)

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()

    def nextset(self) -> None:
        return None

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None


class Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class DBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> Connection:
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True
        return Connection(self, await_(connection))


class Dialect(SQLiteDialect_aiosqlite):
    driver = "handoff_aiosqlite"
    supports_statement_cache = True
    supports_server_side_cursors = False

    @classmethod
    def import_dbapi(cls) -> DBAPI:
        return DBAPI(__import__("aiosqlite"), __import__("sqlite3"))


def register() -> None:
    registry.register(NAME, __name__, "Dialect")
