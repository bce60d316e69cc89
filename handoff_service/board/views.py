"""The supervisor's live board and the one-click acknowledgement of an escalated deadline."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from handoff_service.core.deps import DEPS
from handoff_service.core.http import CASE_ID, SUPERVISOR_ONLY, RouteTable, json_response, principal
from handoff_service.sla.states import DEADLINES

from . import queries
from . import service as board

routes = RouteTable()

_USER = {"type": "object", "nullable": True}
ACK = {
    "type": "object",
    "required": ["case_id", "number", "deadline", "due", "state", "by", "at"],
    "properties": {
        "case_id": {"type": "integer"},
        "number": {"type": "string"},
        "deadline": {"type": "string", "enum": list(DEADLINES)},
        "due": {"type": "string"},
        "state": {"type": "string"},
        "by": _USER,
        "at": {"type": "string"},
        "event_id": {"type": "integer"},
    },
}
# request and response schemas (schemas.py adds them to the OpenAPI document)
BODIES: dict[str, dict[str, Any]] = {
    "EscalationAck": {
        "type": "object",
        "properties": {"deadline": {"type": "string", "enum": list(DEADLINES)}},
        "required": ["deadline"],
        "additionalProperties": False,
    }
}
RESPONSES: dict[str, dict[str, Any]] = {
    "EscalationAcknowledgement": ACK,
    "Board": {
        "type": "object",
        "required": ["generated_at", "queue", "staff", "deadlines", "outages"],
        "properties": {
            "generated_at": {"type": "string"},
            "queue": {
                "type": "object",
                "required": ["total", "tiers"],
                "properties": {
                    "total": {"type": "integer"},
                    "tiers": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["tier", "count", "cases"],
                            "properties": {
                                "tier": {"type": "string"},
                                "rank": {"type": "integer"},
                                "count": {"type": "integer"},
                                "oldest_waiting_since": {"type": "string", "nullable": True},
                                "oldest_wait_seconds": {"type": "integer", "nullable": True},
                                "cases": {"type": "array", "items": {"type": "object"}},
                            },
                        },
                    },
                },
            },
            "staff": {"type": "array", "items": {"type": "object"}},
            "deadlines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["case", "deadline", "due", "state", "acknowledgement"],
                    "properties": {
                        "case": {"type": "object"},
                        "deadline": {"type": "string", "enum": list(DEADLINES)},
                        "due": {"type": "string"},
                        "state": {"type": "string"},
                        "acknowledgement": {**ACK, "nullable": True},
                    },
                },
            },
            "outages": {"type": "array", "items": {"type": "object"}},
        },
    },
}


@routes.get(
    "/api/board",
    summary="The supervisor's live board: queue by tier with waiting times, staff online and their load, "
    "escalated deadlines with their acknowledgement, outage notices in force",
    tag="board",
    auth=SUPERVISOR_ONLY,
    response="Board",
    errors=(401, 403),
)
async def live_board(request: web.Request) -> web.StreamResponse:
    return json_response(await queries.board(request.app[DEPS]))


@routes.post(
    "/api/cases/{case_id}/escalations/ack",
    summary="Acknowledge the current escalation of a deadline (a timeline entry; audited; "
    "the same escalation again: 200 with the first acknowledgement)",
    tag="board",
    auth=SUPERVISOR_ONLY,
    path_params=[CASE_ID],
    body="EscalationAck",
    status=201,
    also={200: "Acknowledged before: the first acknowledgement, nothing new"},
    response="EscalationAcknowledgement",
    errors=(400, 401, 403, 404, 409, 413, 415),
)
async def acknowledge_escalation(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    ack, created = await board.acknowledge(request.app[DEPS], principal(request), case_id, body["deadline"])
    return json_response(ack, status=201 if created else 200)
