"""The audit log, for supervisors: the filtered list (paged by `before_id`) and its CSV export."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from handoff_service.core import csvfile
from handoff_service.core.deps import DEPS
from handoff_service.core.http import LIMIT, SUPERVISOR_ONLY, Param, RouteTable, json_response, principal
from handoff_service.core.validation import text

from . import service as audit

routes = RouteTable()
# the console turns the supervisor's dates (their day) into Unix seconds
TIME = {"type": "integer", "minimum": 0, "maximum": 2**33, "description": "Unix time in seconds"}
FILTERS = [
    Param("actor", text(0, 64), description="username of the staff member"),
    Param("action", text(0, 64), description='an action (case.accept), or a prefix ending in "." (case.)'),
    Param("outcome", {"type": "string", "enum": ["ok", "denied"]}),
    Param("target", text(0, 64), description="what was acted on: a case number, a request path…"),
    Param("since", TIME, description="from this time (inclusive)"),
    Param("until", TIME, description="before this time (exclusive)"),
]
EXPORT_MAX = 10_000


def _time(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


def _blank(value: str | None) -> str | None:
    """An empty filter field means no filter (the console sends its empty inputs)."""
    return value or None


def _filters(query: dict[str, Any]) -> audit.Filters:
    return audit.Filters(
        actor=_blank(query["actor"]),
        action=_blank(query["action"]),
        outcome=query["outcome"],
        target=_blank(query["target"]),
        since=_time(query["since"]),
        until=_time(query["until"]),
    )


@routes.get(
    "/api/audit",
    summary="Audit log of staff actions (newest first), filtered by actor, action, outcome, target and time",
    tag="audit",
    auth=SUPERVISOR_ONLY,
    query=[Param("before_id", {"type": "integer", "minimum": 1, "maximum": 2**53}), *FILTERS, LIMIT],
    response="AuditList",
    errors=(400, 401, 403),
)
async def audit_log(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    items = await audit.list_entries(
        request.app[DEPS], limit=query["limit"], before_id=query["before_id"], filters=_filters(query)
    )
    return json_response({"entries": items})


@routes.get(
    "/api/audit/export",
    summary="The filtered audit log as CSV (UTF-8 with BOM, formula cells escaped, details masked; "
    f"newest {EXPORT_MAX:,} rows at most); the export is audited",
    tag="audit",
    auth=SUPERVISOR_ONLY,
    query=FILTERS,
    content_type="text/csv",
    errors=(400, 401, 403),
)
async def audit_export(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    deps = request.app[DEPS]
    rows = await audit.export(deps, principal(request), _filters(query), EXPORT_MAX)
    name = f"audit-log-{deps.clock.now().strftime('%Y%m%d-%H%M%S')}.csv"
    return csvfile.response(name, csvfile.to_text(audit.EXPORT_HEADER, rows, free_text=("details", "target_id")))
