"""The rollup rows packed per kind and UTC day (metric_blocks), and the days whose rows changed
since they were packed (metric_stale).

- `mark` (in the refresh's transaction) marks the days a case's rows had and have
  (`days_of_rows`: of the rows it deleted and those it inserts, with no query).
- `pack_day` (the packer, scheduled.py; and the rebuild, after `mark_all`) packs a marked day from
  the rows and unmarks it; the mark is locked meanwhile, so a change committed at the same time
  marks the day again after it.
- `read` gives the rows of a span: packed days from their blocks, marked days from the rows. So a
  reader always sees the rows as they are, and a packed day always equals its rows packed again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, case, cast, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.core.orm import table_of

from . import columns
from .columns import KINDS, QUARTER, QUARTERS_PER_DAY, Table
from .models import MetricBlock, MetricCase, MetricCycle, MetricStale, MetricWait

MB, MS = table_of(MetricBlock), table_of(MetricStale)
MC, MY, MW = table_of(MetricCase), table_of(MetricCycle), table_of(MetricWait)
DAY = 86_400
# kind -> (its own table, its time column, the condition of its rows)
SOURCES: dict[str, tuple[Any, Any, Any]] = {
    "cases": (MC, MC.c.created_at, None),
    "resolved": (MY, MY.c.ended_at, MY.c.ended_at.is_not(None)),
    "reopened": (MY, MY.c.started_at, MY.c.cycle > 0),
    "waits": (MW, MW.c.started_at, None),
}
# the same conditions on a row's values (rows deleted or about to be inserted: no query)
_KEEPS: dict[str, Callable[[Mapping[Any, Any]], bool]] = {
    "cases": lambda r: True,
    "resolved": lambda r: r["ended_at"] is not None,
    "reopened": lambda r: r["cycle"] > 0,
    "waits": lambda r: True,
}
# what `days_of_rows` reads of a row, per table
DAY_COLUMNS = {MC: (MC.c.created_at,), MY: (MY.c.cycle, MY.c.started_at, MY.c.ended_at), MW: (MW.c.started_at,)}
_EXTRA = {"resolved": (MY.c.seconds, MY.c.handler_id), "reopened": (), "waits": (MW.c.seconds,)}
_ORDER = {MC: (MC.c.case_id,), MY: (MY.c.case_id, MY.c.cycle), MW: (MW.c.case_id, MW.c.seq)}


def epoch_div(conn: AsyncConnection, col: Any, seconds: int) -> Any:
    """`col` (a UTC time) as the number of whole `seconds` since 1970, computed by the database."""
    if conn.dialect.name == "sqlite":
        return cast(cast(func.strftime("%s", col), Integer) / seconds, Integer)
    return cast(func.floor(func.extract("epoch", col) / seconds), Integer)


def select_columns(conn: AsyncConnection, kind: str) -> list[Any]:
    """The kind's columns (columns.KINDS), in order, from its table and its case's row."""
    own, time, _ = SOURCES[kind]
    out = [own.c.case_id, epoch_div(conn, time, QUARTER), *(MC.c[name] for name, _ in columns.DIMS)]
    if kind != "cases":
        return [*out, *_EXTRA[kind]]
    for name, _ in KINDS["cases"][len(out) :]:
        out.append(case((MC.c.handoff_at.is_not(None), 1), else_=0) if name == "handed_off" else MC.c[name])
    return out


async def rows_between(conn: AsyncConnection, kind: str, start: datetime, end: datetime) -> Table:
    """The rollup rows of `kind` whose time is in [start, end), in a fixed order."""
    own, time, cond = SOURCES[kind]
    source = own if own is MC else own.join(MC, own.c.case_id == MC.c.case_id)
    q = select(*select_columns(conn, kind)).select_from(source).where(time >= start, time < end)
    if cond is not None:
        q = q.where(cond)
    rows = (await conn.execute(q.order_by(time, *_ORDER[own]))).all()
    return columns.from_rows(kind, rows)


def day_start(day: int) -> datetime:
    return datetime.fromtimestamp(day * DAY, UTC)


def day_of(at: datetime) -> int:
    return int(at.timestamp()) // DAY


async def read(conn: AsyncConnection, kind: str, start_q: int, end_q: int) -> Table:
    """The rows of `kind` whose time is in the quarter hours [start_q, end_q)."""
    first, last = start_q // QUARTERS_PER_DAY, (end_q - 1) // QUARTERS_PER_DAY
    if last < first:
        return columns.empty(kind)
    in_span = [MS.c.kind == kind, MS.c.day >= first, MS.c.day <= last]
    stale = set((await conn.execute(select(MS.c.day).where(*in_span))).scalars())
    parts: dict[int, Table] = {}
    blocks = select(MB.c.day, MB.c.data).where(MB.c.kind == kind, MB.c.day >= first, MB.c.day <= last)
    for day, data in await conn.execute(blocks):
        if day not in stale:
            parts[day] = columns.unpack(data)
    for lo, hi in _runs(sorted(stale)):
        parts[lo] = await rows_between(conn, kind, day_start(lo), day_start(hi + 1))
    table = columns.concat(kind, [parts[d] for d in sorted(parts)])
    if start_q % QUARTERS_PER_DAY or end_q % QUARTERS_PER_DAY:  # the span cuts its first or last day
        table = table.where((table["q"] >= start_q) & (table["q"] < end_q))
    return table


def _runs(days: list[int]) -> list[tuple[int, int]]:
    """Consecutive days as (first, last) runs: one query per run."""
    out: list[tuple[int, int]] = []
    for d in days:
        if out and out[-1][1] == d - 1:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def days_of_rows(table: Any, rows: Iterable[Mapping[Any, Any]]) -> set[tuple[str, int]]:
    """The (kind, day) of these rows of one rollup table (MC, MY or MW; each row has at least the
    table's DAY_COLUMNS)."""
    out: set[tuple[str, int]] = set()
    for kind, (own, time, _) in SOURCES.items():
        if own is table:
            keeps = _KEEPS[kind]
            out.update((kind, day_of(r[time.name])) for r in rows if keeps(r))
    return out


async def mark(conn: AsyncConnection, days: Iterable[tuple[str, int]]) -> None:
    """Marks these (kind, day)s as changed (their blocks no longer match their rows)."""
    rows = [{"kind": k, "day": d, "seq": 1} for k, d in sorted(set(days))]
    if not rows:
        return
    ins = pg_insert(MS) if conn.dialect.name == "postgresql" else sqlite_insert(MS)
    stmt = ins.on_conflict_do_update(index_elements=[MS.c.kind, MS.c.day], set_={"seq": MS.c.seq + 1})
    await conn.execute(stmt, rows)


async def pack_day(conn: AsyncConnection, kind: str, day: int) -> int | None:
    """Packs one marked day from its rows (no rows: no block) and unmarks it; None if it is not
    marked (another packer did it). The mark is locked first, so a change committed meanwhile
    waits, then marks the day again."""
    seq = (
        await conn.execute(select(MS.c.seq).where(MS.c.kind == kind, MS.c.day == day).with_for_update())
    ).scalar_one_or_none()
    if seq is None:
        return None
    table = await rows_between(conn, kind, day_start(day), day_start(day + 1))
    await conn.execute(delete(MB).where(MB.c.kind == kind, MB.c.day == day))
    if len(table):
        await conn.execute(insert(MB).values(kind=kind, day=day, rows=len(table), data=columns.pack(table)))
    await conn.execute(delete(MS).where(MS.c.kind == kind, MS.c.day == day))
    return len(table)


async def mark_all(conn: AsyncConnection) -> None:
    """Marks every day that has rollup rows (after a rebuild: `pack_marked` then packs them all)."""
    days: set[tuple[str, int]] = set()
    for kind, (own, time, cond) in SOURCES.items():
        q = select(epoch_div(conn, time, DAY)).select_from(own).distinct()
        if cond is not None:
            q = q.where(cond)
        days.update((kind, d) for d in (await conn.execute(q)).scalars())
    await mark(conn, days)


async def pack_marked(
    begin: Callable[[], AbstractAsyncContextManager[AsyncConnection]], *, limit: int, before: int | None = None
) -> int:
    """Packs up to `limit` marked days (`before`: only days before that one), oldest first, one
    transaction each (`begin`: the caller's write transaction); returns how many."""
    q = select(MS.c.kind, MS.c.day).order_by(MS.c.day, MS.c.kind).limit(limit)
    if before is not None:
        q = q.where(MS.c.day < before)
    async with begin() as conn:
        marked = (await conn.execute(q)).all()
    for kind, day in marked:
        async with begin() as conn:
            await pack_day(conn, kind, day)
    return len(marked)
