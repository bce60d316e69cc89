"""The audit log, for supervisors."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from handoff_service.core.deps import DEPS
from handoff_service.core.http import LIMIT, SUPERVISOR_ONLY, Param, RouteTable, json_response
from handoff_service.core.validation import text

from . import service as audit

routes = RouteTable()


@routes.get(
    "/api/audit",
    summary="Audit log of staff actions (newest first)",
    tag="audit",
    auth=SUPERVISOR_ONLY,
    query=[
        Param("before_id", {"type": "integer", "minimum": 1, "maximum": 2**53}),
        Param("actor", text(0, 64)),
        Param("action", text(0, 64)),
        LIMIT,
    ],
    response="AuditList",
    errors=(400, 401, 403),
)
async def audit_log(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    items = await audit.list_entries(
        request.app[DEPS],
        limit=query["limit"],
        before_id=query["before_id"],
        actor=query["actor"],
        action=query["action"],
    )
    return json_response({"entries": items})
