"""SLA tiers, for the console's countdowns."""

from __future__ import annotations

from aiohttp import web

from handoff_service.core.deps import DEPS
from handoff_service.core.http import AGENTS, RouteTable, json_response

routes = RouteTable()


@routes.get(
    "/api/sla/tiers", summary="Configured severity tiers and SLA deadlines", tag="meta", auth=AGENTS, errors=(401, 403)
)
async def sla_tiers(request: web.Request) -> web.StreamResponse:
    sla = request.app[DEPS].sla
    return json_response(
        {
            "default_tier": sla.default_tier,
            "near_breach_fraction": sla.near_breach_fraction,
            "tiers": [sla.tiers[n].as_dict() for n in sla.names],
        }
    )
