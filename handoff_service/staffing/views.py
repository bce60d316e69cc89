"""Staffing API (supervisors only): next week's forecast and the weekly plan."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from handoff_service.core.deps import DEPS
from handoff_service.core.http import SUPERVISOR_ONLY, Param, RouteTable, json_response, principal

from . import service as staffing
from .forecast import Params

routes = RouteTable()

QUERY = [
    Param("weeks", {"type": "integer", "minimum": 1, "maximum": 12, "default": 4}, description="weeks of history"),
    Param(
        "target",
        {"type": "number", "minimum": 0.5, "maximum": 0.99, "default": 0.8},
        description="share of handoffs answered within answer_seconds",
    ),
    Param(
        "answer_seconds",
        {"type": "number", "minimum": 1, "maximum": 86400, "default": 60},
        description="the service level's answer time (a tier's first-response deadline when shorter)",
    ),
    Param(
        "shrinkage",
        {"type": "number", "minimum": 0, "maximum": 0.9, "default": 0.3},
        description="share of scheduled time not spent on the queue (breaks, training, absence)",
    ),
    Param(
        "max_occupancy",
        {"type": "number", "minimum": 0.5, "maximum": 1, "default": 0.85},
        description="highest share of time an agent is busy with handoffs",
    ),
]


@routes.get(
    "/api/staffing/forecast",
    summary="Next week's agents needed per hour (Erlang C from the measured handoffs and handle times) "
    "next to the plan; the current hour with the agents online",
    tag="staffing",
    auth=SUPERVISOR_ONLY,
    query=QUERY,
    response="StaffingForecast",
    errors=(400, 401, 403),
)
async def staffing_forecast(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    params = Params(
        weeks=query["weeks"],
        target=float(query["target"]),
        answer_seconds=float(query["answer_seconds"]),
        shrinkage=float(query["shrinkage"]),
        max_occupancy=float(query["max_occupancy"]),
    )
    return json_response(await staffing.build_forecast(request.app[DEPS], params))


@routes.get(
    "/api/staffing/plan",
    summary="The weekly staffing plan: agents scheduled per hour of the week (service zone), all 168 hours",
    tag="staffing",
    auth=SUPERVISOR_ONLY,
    response="StaffingPlan",
    errors=(401, 403),
)
async def staffing_plan_get(request: web.Request) -> web.StreamResponse:
    return json_response(await staffing.get_plan(request.app[DEPS]))


@routes.route(
    "PUT",
    "/api/staffing/plan",
    summary="Replace the weekly staffing plan (hours not given: no agents; audited with what changed)",
    tag="staffing",
    auth=SUPERVISOR_ONLY,
    body="StaffingPlanUpdate",
    response="StaffingPlan",
    errors=(400, 401, 403, 413, 415),
)
async def staffing_plan_put(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await staffing.save_plan(request.app[DEPS], principal(request), body["hours"]))


# ---------------------------------------------------------------- schemas
# (merged into schemas.build_bodies and schemas.RESPONSES, from which the OpenAPI document is built)

_PLAN_HOUR = {
    "type": "object",
    "properties": {
        "weekday": {"type": "integer", "minimum": 0, "maximum": 6, "description": "0 = Monday"},
        "hour": {"type": "integer", "minimum": 0, "maximum": 23},
        "agents": {"type": "integer", "minimum": 0, "maximum": 10000},
    },
    "required": ["weekday", "hour", "agents"],
    "additionalProperties": False,
}
BODIES: dict[str, dict[str, Any]] = {
    "StaffingPlanUpdate": {
        "type": "object",
        "properties": {"hours": {"type": "array", "maxItems": 168, "items": _PLAN_HOUR}},
        "required": ["hours"],
        "additionalProperties": False,
    }
}
_NUM = {"type": "number"}
_BY_TIER = {"type": "object", "additionalProperties": {"type": "number"}, "description": "per tier, and total"}
_HOUR = {
    "type": "object",
    "required": ["weekday", "hour", "arrivals", "agents_needed", "staff_needed", "binding"],
    "properties": {
        "start": {"type": "string", "description": "the hour's start, ISO 8601 in the service zone"},
        "weekday": {"type": "integer"},
        "hour": {"type": "integer"},
        "arrivals": _BY_TIER,
        "handle_seconds": _NUM,
        "agents_needed": _BY_TIER,
        "staff_needed": {"type": "integer"},
        "service_level": _NUM,
        "asa_seconds": _NUM,
        "occupancy": _NUM,
        "answer_seconds": _NUM,
        "binding": {"type": "string", "enum": ["none", "answer_time", "first_response_deadline", "occupancy"]},
        "scheduled": {"type": "integer"},
        "gap": {"type": "integer"},
        "online": {"type": "integer"},
    },
}
RESPONSES: dict[str, dict[str, Any]] = {
    "StaffingPlan": {
        "type": "object",
        "required": ["zone", "hours"],
        "properties": {
            "zone": {"type": "string"},
            "hours": {"type": "array", "items": _PLAN_HOUR},
            "updated_at": {"type": "string", "nullable": True},
            "updated_by": {"type": "object", "nullable": True},
        },
    },
    "StaffingForecast": {
        "type": "object",
        "required": ["zone", "week_start", "parameters", "history", "tiers", "handle_time", "hours", "now"],
        "properties": {
            "zone": {"type": "string"},
            "generated_at": {"type": "string"},
            "week_start": {"type": "string"},
            "parameters": {"type": "object"},
            "history": {"type": "object"},
            "tiers": {"type": "array", "items": {"type": "object"}},
            "handle_time": {"type": "object"},
            "hours": {"type": "array", "items": _HOUR},
            "now": _HOUR,
        },
    },
}
