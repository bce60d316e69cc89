"""The per-case CSV: one row per case the period touched (opened, resolved or reopened in it, under
the view's filters) with every figure of that case. It is written page by page (PAGE cases), so a
year of cases streams in bounded memory and its first bytes leave at once, and each page column by
column: a page makes 190,000 cells, and a pass over a column costs several times less than
building rows.

The figures come from the period's rollup rows (queries.Data, mostly packed): those of the cases
opened in the period are `d.cases`; the few cases opened before it (resolved or reopened in it)
are read with their case's row. The cases table gives only what the rollups do not carry (number,
exact time, status, free text)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.cases.models import Case
from handoff_service.core.deps import Deps
from handoff_service.core.orm import table_of

from . import blocks, columns, figures, queries
from .columns import QUARTER, Table
from .filters import Filters
from .queries import MC, Data

C = table_of(Case)
CASE_COLUMNS = (
    "case",
    "created_at",
    "channel",
    "language",
    "category",
    "tier",
    "status",
    "owner",
    "owner_team",
    "last_handler",
    "created_in_period",
    "resolutions_in_period",
    "reopens_in_period",
    "handed_off",
    "claim_seconds",
    "first_response_seconds",
    "waits_in_period",
    "reply_seconds_total",
    "resolution_seconds_in_period",
    "resolutions",
    "reopens",
    "bot_resolved",
    "sla_first_response",
    "sla_result",
    "sla_follow_up",
    "csat_overall",
    "csat_attitude",
    "csat_speed",
    "csat_solved",
    "csat_owner",
    "csat_handler",
    "visits_planned",
    "visits_solved",
    "visits_not_solved",
    "visits_no_answer",
    "description",
    "result",
    "csat_comment",
)
FREE_TEXT = ("description", "result", "csat_comment")


# the export's columns that are the rollup rows' of `cases` (columns.KINDS), taken as they are
# (handed_off too, then as a boolean)
ROLLUP = tuple(name for name in CASE_COLUMNS if name in dict(columns.KINDS["cases"]))
INFO = ("case_id", "number", "created", "status", "bot_resolved", *FREE_TEXT)  # from the cases
PAGE = 5000  # cases per page, and case ids bound in one IN list (SQLite and asyncpg allow 32,767)
STAFF = ("owner_id", "last_handler_id", "csat_owner_id", "csat_handler_id")


async def pages(deps: Deps, f: Filters) -> AsyncGenerator[list[Sequence[Any]], None]:
    """The export's columns (CASE_COLUMNS), page by page: the cases opened before the period first,
    then the period's, each in order of creation (the order of the rollup rows)."""
    d, people = await queries.period_data(deps, f)
    tallies = _Tallies(d)
    async with deps.read_engine.begin() as conn:
        earlier, earlier_info = await _earlier(conn, d)
        named = {i for name in STAFF for i in earlier.values(name)} - {None} - set(people)
        people = {**people, **await queries.staff_named(conn, named)}
    for i in range(0, len(earlier), PAGE):
        yield _page(f, tallies, people, earlier.where(slice(i, i + PAGE)), earlier_info[i : i + PAGE])
    for i in range(0, len(d.cases), PAGE):
        t = d.cases.where(slice(i, i + PAGE))
        async with deps.read_engine.begin() as conn:
            t, info = await _with_info(conn, f, t)
        yield _page(f, tallies, people, t, info)


def _info_columns(conn: AsyncConnection) -> tuple[Any, ...]:
    created = blocks.epoch_div(conn, MC.c.created_at, 1).label("created")  # to the second
    return (MC.c.case_id, MC.c.number, created, MC.c.status, MC.c.bot_resolved, *(C.c[n] for n in FREE_TEXT))


async def _earlier(conn: AsyncConnection, d: Data) -> tuple[Table, list[Any]]:
    """The rollup rows and INFO of the cases opened before the period (those it resolved or
    reopened), in order of creation: as many as were open across its start, so read at once."""
    ids = np.setdiff1d(np.union1d(d.resolved["case_id"], d.reopened["case_id"]), d.cases["case_id"]).tolist()
    rollup = blocks.select_columns(conn, "cases")
    rows: list[Any] = []
    for i in range(0, len(ids), PAGE):
        q = select(*rollup, *_info_columns(conn)).select_from(MC.join(C, C.c.id == MC.c.case_id))
        rows.extend((await conn.execute(q.where(MC.c.case_id.in_(ids[i : i + PAGE])))).all())
    k = len(rollup)
    rows.sort(key=lambda r: (r[k + 2], r[k]))  # created, case_id
    return columns.from_rows("cases", [r[:k] for r in rows]), [r[k:] for r in rows]


async def _with_info(conn: AsyncConnection, f: Filters, t: Table) -> tuple[Table, list[Any]]:
    """The rollup rows `t` (cases opened in the period, in order of creation) with the INFO of
    their cases, in t's order (a case that is gone has no row left). Read as a range of creation
    times under the view's filters, which a database reads along an index: the quarter hours from
    t's first to its last, less the cases of those quarters on a neighbouring page."""
    first, last = int(t["q"][0]), int(t["q"][-1]) + 1
    start, end = (datetime.fromtimestamp(q * QUARTER, UTC) for q in (first, last))
    q = select(*_info_columns(conn)).select_from(MC.join(C, C.c.id == MC.c.case_id))
    q = q.where(MC.c.created_at >= start, MC.c.created_at < end, *queries.where(f))
    rows = (await conn.execute(q)).all()
    at = _find(np.array([r[0] for r in rows], np.int64), t["case_id"])
    kept = at < len(rows)
    return t.where(kept), [rows[j] for j in at[kept].tolist()]


def _page(f: Filters, tallies: _Tallies, people: dict[int, Any], t: Table, info: list[Any]) -> list[Sequence[Any]]:
    """The export's columns of the cases `t` (rollup rows) and `info` (their INFO, in t's order)."""
    p = f.period
    col = dict(zip(INFO, list(zip(*info, strict=True)) or [()] * len(INFO), strict=True))
    created = np.array(col["created"], np.int64)
    username = {i: person.username for i, person in people.items()}
    staff = {name: t.values(name) for name in STAFF}
    order = t["case_id"]
    resolutions, resolution_seconds = tallies.resolved.of(order)
    waits, reply_seconds = tallies.waits.of(order)
    values = {
        **{name: t.values(name) for name in ROLLUP},
        **col,
        "case": col["number"],
        "created_at": local_times(created, f.tz),
        "owner": [username.get(i) for i in staff["owner_id"]],
        "owner_team": [people[i].team if i in people else None for i in staff["owner_id"]],
        "last_handler": [username.get(i) for i in staff["last_handler_id"]],
        "created_in_period": ((created >= p.start.timestamp()) & (created < p.end.timestamp())).astype(int).tolist(),
        "resolutions_in_period": resolutions,
        "reopens_in_period": tallies.reopened.of(order)[0],
        "handed_off": t["handed_off"].astype(bool).tolist(),
        "waits_in_period": waits,
        "reply_seconds_total": reply_seconds,
        "resolution_seconds_in_period": resolution_seconds,
        "csat_owner": [username.get(i) for i in staff["csat_owner_id"]],
        "csat_handler": [username.get(i) for i in staff["csat_handler_id"]],
    }
    return [values[c] for c in CASE_COLUMNS]


class _Tally:
    """Rows of one kind per case: how many, and the sum of their seconds (NaN counted as 0) added
    in the rows' order, as `sum` adds."""

    def __init__(self, ids: np.ndarray, seconds: np.ndarray | None = None) -> None:
        self.known, inverse = np.unique(ids, return_inverse=True)
        counts = np.bincount(inverse, minlength=len(self.known))
        sums = np.bincount(inverse, np.nan_to_num(seconds), len(self.known)) if seconds is not None else counts * 0.0
        self.counts, self.sums = np.append(counts, 0), np.append(sums, 0.0)

    def of(self, order: np.ndarray) -> tuple[list[int], list[float | None]]:
        """For each case id of `order`: its count, and its sum (None if it has no row)."""
        at = _find(self.known, order)
        counts = self.counts[at].tolist()
        return counts, [s if n else None for n, s in zip(counts, self.sums[at].tolist(), strict=True)]


class _Tallies:
    def __init__(self, d: Data) -> None:
        self.resolved = _Tally(d.resolved["case_id"], d.resolved["seconds"])
        self.reopened = _Tally(d.reopened["case_id"])
        waits = d.waits.where(~np.isnan(d.waits["seconds"]))  # the unanswered ones have no time yet
        self.waits = _Tally(waits["case_id"], waits["seconds"])


def local_times(seconds: np.ndarray, tz: ZoneInfo) -> list[str]:
    """These times (seconds since 1970, UTC) in the zone, as ISO 8601 to the second with the
    offset ("2026-11-24T16:05:09+08:00"); one zone lookup per quarter hour, as in the figures."""
    index, moments = figures.local_of(seconds // QUARTER, tz)
    shift = np.array([int(m.utcoffset().total_seconds()) for m in moments], np.int64)  # type: ignore[union-attr]
    local = np.datetime_as_string((seconds + shift[index]).astype("datetime64[s]"), unit="s").tolist()
    offsets = [m.isoformat()[19:] for m in moments]  # "+08:00"
    return [t + offsets[i] for t, i in zip(local, index.tolist(), strict=True)]


def _find(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The position in `ids` (distinct, in any order) of each of `wanted`; len(ids) where it is not
    there."""
    order = np.append(np.argsort(ids), len(ids))
    at = order[np.searchsorted(ids, wanted, sorter=order[:-1])]
    at[np.append(ids, 0)[at] != wanted] = len(ids)  # wanted ids are >= 1
    return at
