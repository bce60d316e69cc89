"""The CSV behind each chart, with exactly the filters of the view: the aggregated tables are the
dashboard's own figures (figures.py), `cases` is one row per case the period touched (opened,
resolved or reopened in it) with every figure of that case; free text is masked by core.csvfile."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
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


# the export's columns from the rollup rows of `cases` (columns.KINDS), as they are
ROLLUP = (
    "channel",
    "language",
    "category",
    "tier",
    "claim_seconds",
    "first_response_seconds",
    "resolutions",
    "reopens",
    "sla_first_response",
    "sla_result",
    "sla_follow_up",
    "csat_overall",
    "csat_attitude",
    "csat_speed",
    "csat_solved",
    "visits_planned",
    "visits_solved",
    "visits_not_solved",
    "visits_no_answer",
)
# and from the case's row: what the rollup rows do not carry
INFO = ("case_id", "number", "created", "status", "bot_resolved", *FREE_TEXT)
ID_BATCH = 5000  # case ids bound in one IN list (SQLite and asyncpg allow 32,767 parameters)


def _figures_columns(obj: Sequence[dict[str, Any]], columns: Sequence[str]) -> tuple[list[str], list[Sequence[Any]]]:
    return list(columns), [[row.get(c) for row in obj] for c in columns]


async def _cases(deps: Deps, f: Filters, d: Data) -> tuple[list[str], list[Sequence[Any]]]:
    """The cases the period touched (opened, resolved or reopened in it), column by column: 25,000
    cases make a million cells, and a pass over a column costs several times less than building
    rows. The cases opened before the period come first, then the period's in order of creation."""
    p = f.period
    async with deps.read_engine.begin() as conn:
        t, info = await _touched(conn, f, d)
        staff = {name: t.values(name) for name in ("owner_id", "last_handler_id", "csat_owner_id", "csat_handler_id")}
        people = await queries.staff_named(conn, {i for ids in staff.values() for i in ids} - {None})
    col = dict(zip(INFO, _transposed(info, len(INFO)), strict=True))
    created_s = np.array(col["created"], np.int64)
    username = {i: person.username for i, person in people.items()}
    team = {i: person.team for i, person in people.items()}
    order = t["case_id"]
    resolutions, resolution_seconds = _tally(order, d.resolved["case_id"], d.resolved["seconds"])
    reopens, _ = _tally(order, d.reopened["case_id"])
    waits = d.waits.where(~np.isnan(d.waits["seconds"]))  # the unanswered ones have no time yet
    wait_counts, wait_seconds = _tally(order, waits["case_id"], waits["seconds"])
    values = {
        **{name: t.values(name) for name in ROLLUP},
        **col,
        "case": col["number"],
        "created_at": local_times(created_s, f.tz),
        "owner": [username.get(i) for i in staff["owner_id"]],
        "owner_team": [team.get(i) for i in staff["owner_id"]],
        "last_handler": [username.get(i) for i in staff["last_handler_id"]],
        "created_in_period": ((created_s >= p.start.timestamp()) & (created_s < p.end.timestamp()))
        .astype(int)
        .tolist(),
        "resolutions_in_period": resolutions,
        "reopens_in_period": reopens,
        "handed_off": t["handed_off"].astype(bool).tolist(),
        "waits_in_period": wait_counts,
        "reply_seconds_total": [s if n else None for n, s in zip(wait_counts, wait_seconds, strict=True)],
        "resolution_seconds_in_period": [
            s if n else None for n, s in zip(resolutions, resolution_seconds, strict=True)
        ],
        "csat_owner": [username.get(i) for i in staff["csat_owner_id"]],
        "csat_handler": [username.get(i) for i in staff["csat_handler_id"]],
    }
    return list(CASE_COLUMNS), [values[c] for c in CASE_COLUMNS]


async def _touched(conn: AsyncConnection, f: Filters, d: Data) -> tuple[Table, list[Any]]:
    """The rollup rows (`cases`) and the case rows (INFO) of the cases the period touched, in the
    export's order. The rollup rows are the period's (`d`, mostly packed) for the cases opened in
    it; the few cases opened before it are read with their case's row. The case's row gives only
    what the rollups do not carry (number, exact time, status, free text)."""
    p = f.period
    earlier = np.setdiff1d(np.union1d(d.resolved["case_id"], d.reopened["case_id"]), d.cases["case_id"]).tolist()
    source = MC.join(C, C.c.id == MC.c.case_id)
    rollup = blocks.select_columns(conn, "cases")
    created = blocks.epoch_div(conn, MC.c.created_at, 1).label("created")  # to the second
    info_columns = (MC.c.case_id, MC.c.number, created, MC.c.status, MC.c.bot_resolved, *(C.c[n] for n in FREE_TEXT))
    before: list[Any] = []
    for i in range(0, len(earlier), ID_BATCH):
        q = select(*rollup, *info_columns).select_from(source).where(MC.c.case_id.in_(earlier[i : i + ID_BATCH]))
        before.extend((await conn.execute(q)).all())
    k = len(rollup)
    before.sort(key=lambda r: (r[k + 2], r[k]))  # created, case_id
    q = select(*info_columns).select_from(source).where(MC.c.created_at >= p.start, MC.c.created_at < p.end)
    inside = (await conn.execute(q.where(*queries.where(f)).order_by(MC.c.created_at, MC.c.case_id))).all()
    t = columns.concat("cases", [d.cases, columns.from_rows("cases", [r[:k] for r in before])])
    info = [r[k:] for r in before] + list(inside)
    # a case opened after `d` was read has no rollup row in it: left out, as from the view
    at = _find(t["case_id"], np.array([r[0] for r in info], np.int64))
    kept = at < len(t)
    if not kept.all():
        info = [r for r, keep in zip(info, kept.tolist(), strict=True) if keep]
    return t.take(at[kept]), info


def local_times(seconds: np.ndarray, tz: ZoneInfo) -> list[str]:
    """These times (seconds since 1970, UTC) in the zone, as ISO 8601 to the second with the
    offset ("2026-11-24T16:05:09+08:00"); one zone lookup per quarter hour, as in the figures."""
    quarters, index = np.unique(seconds // QUARTER, return_inverse=True)
    moments = [datetime.fromtimestamp(q * QUARTER, tz) for q in quarters.tolist()]
    shift = np.array([int(m.utcoffset().total_seconds()) for m in moments], np.int64)  # type: ignore[union-attr]
    local = np.datetime_as_string((seconds + shift[index]).astype("datetime64[s]"), unit="s").tolist()
    offsets = [m.isoformat()[19:] for m in moments]  # "+08:00"
    return [t + offsets[i] for t, i in zip(local, index.tolist(), strict=True)]


def _transposed(rows: Sequence[Sequence[Any]], width: int) -> list[Sequence[Any]]:
    return list(zip(*rows, strict=True)) or [()] * width


def _find(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The position in `ids` (distinct, in any order) of each of `wanted`; len(ids) where it is not
    there."""
    order = np.append(np.argsort(ids), len(ids))
    at = order[np.searchsorted(ids, wanted, sorter=order[:-1])]
    at[np.append(ids, 0)[at] != wanted] = len(ids)  # wanted ids are >= 1
    return at


def _tally(order: np.ndarray, ids: np.ndarray, seconds: np.ndarray | None = None) -> tuple[list[int], list[float]]:
    """For each case id of `order`: how many of the rows `ids` are its, and the sum of their
    `seconds` (NaN counted as 0) added in the rows' order, as `sum` adds."""
    known, inverse = np.unique(ids, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(known))
    sums = np.bincount(inverse, np.nan_to_num(seconds), len(known)) if seconds is not None else counts * 0.0
    at = _find(known, order)
    return np.append(counts, 0)[at].tolist(), np.append(sums, 0.0)[at].tolist()


async def table(deps: Deps, f: Filters, name: str) -> tuple[list[str], list[Sequence[Any]], tuple[str, ...]]:
    """(header, columns, free-text columns) of one export table."""
    d, people = await queries.period_data(deps, f)
    if name == "cases":
        header, rows = await _cases(deps, f, d)
        return header, rows, FREE_TEXT
    if name == "series":
        cols = ["t", "cases_new", "cases_resolved", "cases_reopened", "handoffs", "first_response_p50"]
        header, rows = _figures_columns(figures.series(d, f), cols)
    elif name == "first_response_buckets":
        header, rows = _figures_columns(figures.first_response_buckets(d), ["bucket", "cases"])
    elif name == "heatmap":
        header, rows = _figures_columns(figures.heatmap(d, f.tz), ["weekday", "hour", "cases"])
    elif name == "sla":
        header, rows = _figures_columns(
            figures.sla(d, deps.sla.names), ["tier", "deadline", "met", "breached", "attainment"]
        )
    elif name == "csat":
        c = figures.csat(d)
        header, rows = ["rating", "responses"], [list(c["distribution"]), list(c["distribution"].values())]
    elif name == "agents":
        cols = ["agent", "display_name", "team", *figures.FIGURE_COLUMNS]
        header, rows = _figures_columns(figures.agents(d, people), cols)
    elif name == "teams":
        header, rows = _figures_columns(figures.teams(d, people), ["team", *figures.FIGURE_COLUMNS])
    else:  # categories
        header, rows = _figures_columns(figures.categories(d), ["category", "cases", "share"])
    return header, rows, ("display_name",)


def filename(f: Filters, name: str) -> str:
    return f"metrics-{name}-{f.period.first_day.isoformat()}-{f.period.last_day.isoformat()}.csv"
