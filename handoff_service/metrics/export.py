"""The CSV behind each chart, with exactly the filters of the view: the aggregated tables are the
dashboard's own figures (figures.py), `cases` is one row per case the period touched (opened,
resolved or reopened in it) with every figure of that case; free text is masked by core.csvfile."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, union

from handoff_service.cases.models import Case
from handoff_service.core.deps import Deps
from handoff_service.core.orm import table_of

from . import figures, queries
from .filters import Filters
from .queries import MC, MY, Data

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


def _figures_rows(obj: Sequence[dict[str, Any]], columns: Sequence[str]) -> tuple[list[str], list[list[Any]]]:
    return list(columns), [[row.get(c) for c in columns] for row in obj]


async def _cases(deps: Deps, f: Filters, d: Data) -> tuple[list[str], list[list[Any]]]:
    p = f.period
    # the cases the period touched: each part reads a short range of its own index (an OR would
    # read every case)
    touched = union(
        select(MC.c.case_id).where(MC.c.created_at >= p.start, MC.c.created_at < p.end),
        select(MY.c.case_id).where(MY.c.ended_at >= p.start, MY.c.ended_at < p.end),
        select(MY.c.case_id).where(MY.c.cycle > 0, MY.c.started_at >= p.start, MY.c.started_at < p.end),
    )
    q = (
        select(MC, C.c.description, C.c.result, C.c.csat_comment)
        .select_from(MC.join(C, C.c.id == MC.c.case_id))
        .where(MC.c.case_id.in_(touched), *queries.where(f))
        .order_by(MC.c.created_at, MC.c.case_id)
    )
    async with deps.read_engine.begin() as conn:
        rows = await queries.named_rows(conn, q)
        people = await queries.staff_named(conn, _staff_ids(rows))
    resolved: dict[int, list[float | None]] = {}
    for case_id, seconds in zip(d.resolved.values("case_id"), d.resolved.values("seconds"), strict=True):
        resolved.setdefault(case_id, []).append(seconds)
    reopened = Counter(d.reopened.values("case_id"))
    waits: dict[int, list[float]] = {}
    for case_id, seconds in zip(d.waits.values("case_id"), d.waits.values("seconds"), strict=True):
        if seconds is not None:
            waits.setdefault(case_id, []).append(seconds)

    def name(staff_id: int | None) -> str | None:
        person = people.get(staff_id) if staff_id is not None else None
        return person.username if person else None

    out = []
    for r in rows:
        owner = people.get(r.owner_id) if r.owner_id is not None else None
        cycles = resolved.get(r.case_id, [])
        values = {
            "case": r.number,
            "created_at": r.created_at.astimezone(f.tz).isoformat(),
            "owner": name(r.owner_id),
            "owner_team": owner.team if owner else None,
            "last_handler": name(r.last_handler_id),
            "created_in_period": int(p.start <= r.created_at < p.end),
            "resolutions_in_period": len(cycles),
            "reopens_in_period": reopened.get(r.case_id, 0),
            "handed_off": r.handoff_at is not None,
            "waits_in_period": len(waits.get(r.case_id, [])),
            "reply_seconds_total": sum(waits.get(r.case_id, [])) if r.case_id in waits else None,
            "resolution_seconds_in_period": sum(y for y in cycles if y is not None) if cycles else None,
            "csat_owner": name(r.csat_owner_id),
            "csat_handler": name(r.csat_handler_id),
        }
        out.append([values[c] if c in values else getattr(r, c) for c in CASE_COLUMNS])
    return list(CASE_COLUMNS), out


async def table(deps: Deps, f: Filters, name: str) -> tuple[list[str], list[list[Any]], tuple[str, ...]]:
    """(header, rows, free-text columns) of one export table."""
    d, people = await queries.period_data(deps, f)
    if name == "cases":
        header, rows = await _cases(deps, f, d)
        return header, rows, FREE_TEXT
    if name == "series":
        cols = ["t", "cases_new", "cases_resolved", "cases_reopened", "handoffs", "first_response_p50"]
        header, rows = _figures_rows(figures.series(d, f), cols)
    elif name == "first_response_buckets":
        header, rows = _figures_rows(figures.first_response_buckets(d), ["bucket", "cases"])
    elif name == "heatmap":
        header, rows = _figures_rows(figures.heatmap(d, f.tz), ["weekday", "hour", "cases"])
    elif name == "sla":
        header, rows = _figures_rows(
            figures.sla(d, deps.sla.names), ["tier", "deadline", "met", "breached", "attainment"]
        )
    elif name == "csat":
        c = figures.csat(d)
        header = ["rating", "responses"]
        rows = [[k, v] for k, v in c["distribution"].items()]
    elif name == "agents":
        cols = ["agent", "display_name", "team", *figures.FIGURE_COLUMNS]
        header, rows = _figures_rows(figures.agents(d, people), cols)
    elif name == "teams":
        header, rows = _figures_rows(figures.teams(d, people), ["team", *figures.FIGURE_COLUMNS])
    else:  # categories
        header, rows = _figures_rows(figures.categories(d), ["category", "cases", "share"])
    return header, rows, ("display_name",)


def _staff_ids(rows: Sequence[Any]) -> set[int]:
    ids = (i for r in rows for i in (r.owner_id, r.last_handler_id, r.csat_owner_id, r.csat_handler_id))
    return {i for i in ids if i is not None}


def filename(f: Filters, name: str) -> str:
    return f"metrics-{name}-{f.period.first_day.isoformat()}-{f.period.last_day.isoformat()}.csv"
