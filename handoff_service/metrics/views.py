"""The KPI dashboard's API (supervisors only): the metric dictionary, the dashboard and its CSV
exports, all under the same filters (filters.py)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from handoff_service.core import csvfile
from handoff_service.core.deps import DEPS
from handoff_service.core.http import SUPERVISOR_ONLY, Param, RouteTable, json_response, principal

from . import casefile, dashboard, export, filters, service, states

routes = RouteTable()
ERRORS = (400, 401, 403)


@routes.get(
    "/api/metrics/dictionary",
    summary="The metric dictionary: key, unit, label and definition (zh, en) of every KPI (METRICS.md)",
    tag="metrics",
    auth=SUPERVISOR_ONLY,
    response="MetricDictionary",
    errors=(401, 403),
)
async def metrics_dictionary(request: web.Request) -> web.StreamResponse:
    return json_response({"metrics": states.METRICS})


@routes.get(
    "/api/metrics/dashboard",
    summary="KPI dashboard: cards against the previous period, times, series, buckets, heatmap, SLA, CSAT, "
    "agents, teams, categories, follow-ups",
    tag="metrics",
    auth=SUPERVISOR_ONLY,
    query=filters.query_params(),
    response="MetricDashboard",
    errors=ERRORS,
)
async def metrics_dashboard(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    deps = request.app[DEPS]
    return json_response(await dashboard.dashboard(deps, await filters.parse(deps, query)))


@routes.get(
    "/api/metrics/export",
    summary="CSV (UTF-8 with BOM, formulas escaped, free text masked) of one table of the dashboard, "
    "with the same filters; audited",
    tag="metrics",
    auth=SUPERVISOR_ONLY,
    query=[Param("table", {"type": "string", "enum": list(states.EXPORT_TABLES)}, True), *filters.query_params()],
    content_type="text/csv",
    errors=ERRORS,
)
async def metrics_export(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    deps = request.app[DEPS]
    f = await filters.parse(deps, query)
    name = query["table"]
    if name == "cases":  # up to a year of cases: streamed page by page
        await service.record_export(deps, principal(request), name, f.public())
        pages = casefile.pages(deps, f)
        return await csvfile.stream(
            request, export.filename(f, name), casefile.CASE_COLUMNS, pages, free_text=casefile.FREE_TEXT
        )
    header, columns, free_text = await export.table(deps, f, name)
    await service.record_export(deps, principal(request), name, f.public())
    return csvfile.response(export.filename(f, name), csvfile.columns_text(header, columns, free_text=free_text))


_NUM = {"type": "number", "nullable": True}
_TIME = {"type": "object", "properties": dict.fromkeys(("p50", "p90", "mean", "cases", "events"), _NUM)}
BODIES: dict[str, dict[str, Any]] = {}  # no request bodies: every route is a GET
RESPONSES: dict[str, dict[str, Any]] = {
    "MetricDictionary": {
        "type": "object",
        "required": ["metrics"],
        "properties": {
            "metrics": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "unit", "label", "definition"],
                    "properties": {
                        "key": {"type": "string"},
                        "unit": {"type": "string", "enum": list(states.UNITS)},
                        "label": {"type": "object"},
                        "definition": {"type": "object"},
                    },
                },
            }
        },
    },
    "MetricDashboard": {
        "type": "object",
        "required": ["filters", "period", "previous", "cards", "times", "series", "sla", "csat", "agents", "teams"],
        "properties": {
            "filters": {"type": "object"},
            "period": {"type": "object"},
            "previous": {"type": "object"},
            "cards": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "unit", "value", "previous", "change"],
                    "properties": {
                        "key": {"type": "string", "enum": list(states.CARDS)},
                        "unit": {"type": "string", "enum": list(states.UNITS)},
                        "value": _NUM,
                        "previous": _NUM,
                        "change": _NUM,
                        "cases": {"type": "integer"},
                        "events": {"type": "integer"},
                    },
                },
            },
            "times": {"type": "object", "properties": dict.fromkeys(states.TIMES, _TIME)},
            "series": {"type": "object"},
            "first_response_buckets": {"type": "array", "items": {"type": "object"}},
            "heatmap": {"type": "array", "items": {"type": "object"}},
            "sla": {"type": "array", "items": {"type": "object"}},
            "csat": {"type": "object"},
            "agents": {"type": "array", "items": {"type": "object"}},
            "teams": {"type": "array", "items": {"type": "object"}},
            "categories": {"type": "array", "items": {"type": "object"}},
            "follow_ups": {"type": "object"},
        },
    },
}
