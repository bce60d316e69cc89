"""Health, OpenAPI document and SLA tiers."""

from __future__ import annotations

from aiohttp import web

from ..api import AGENTS, PUBLIC, SPECS, RouteTable, json_response
from ..context import DEPS
from ..openapi import build_openapi

routes = RouteTable()


@routes.get("/api/health", summary="Liveness check", tag="meta", auth=PUBLIC, response="Health")
async def health(request: web.Request) -> web.StreamResponse:
    return json_response({"status": "ok"})


@routes.get("/api/openapi.json", summary="This API's OpenAPI document", tag="meta", auth=PUBLIC)
async def openapi(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    return json_response(build_openapi(request.app[SPECS], deps.sla.names))


@routes.get("/api/sla/tiers", summary="Configured severity tiers and SLA deadlines", tag="meta", auth=AGENTS, errors=(401, 403))
async def sla_tiers(request: web.Request) -> web.StreamResponse:
    sla = request.app[DEPS].sla
    return json_response({
        "default_tier": sla.default_tier,
        "near_breach_fraction": sla.near_breach_fraction,
        "tiers": [sla.tiers[n].as_dict() for n in sla.names],
    })
