"""The CSV behind each chart, with exactly the filters of the view: the aggregated tables are the
dashboard's own figures (figures.py); `cases`, one row per case, is casefile.py's. Free text is
masked by core.csvfile."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handoff_service.core.deps import Deps

from . import figures, queries
from .filters import Filters


def _figures_columns(obj: Sequence[dict[str, Any]], columns: Sequence[str]) -> tuple[list[str], list[Sequence[Any]]]:
    return list(columns), [[row.get(c) for row in obj] for c in columns]


async def table(deps: Deps, f: Filters, name: str) -> tuple[list[str], list[Sequence[Any]], tuple[str, ...]]:
    """(header, columns, free-text columns) of one aggregated table (not `cases`: casefile.py)."""
    d, people = await queries.period_data(deps, f)
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
