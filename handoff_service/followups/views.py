"""Follow-up visit routes: the list of visits to make, an answer recorded by an agent (a phone
call) and a call nobody answered. The customer's own answer comes through the bot API."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from handoff_service.core.deps import DEPS
from handoff_service.core.http import (
    AGENTS,
    CASE_ID,
    LIMIT,
    WRITE_ERRORS,
    Param,
    RouteTable,
    id_param,
    json_response,
    principal,
)

from . import queries, service, states

routes = RouteTable()
VISIT_ID = id_param("visit_id", "Follow-up visit id", "visit_not_found")


@routes.get(
    "/api/follow-ups/vocabulary",
    summary="Follow-up visit states and steps",
    tag="follow-ups",
    auth=AGENTS,
    response="FollowUpVocabulary",
    errors=(401, 403),
)
async def follow_up_vocabulary(request: web.Request) -> web.StreamResponse:
    return json_response(queries.vocabulary())


@routes.get(
    "/api/follow-ups",
    summary="Follow-up visits, soonest due first (default: mine still to make)",
    tag="follow-ups",
    auth=AGENTS,
    query=[
        Param(
            "scope",
            {"type": "string", "enum": [queries.MINE, queries.ALL], "default": queries.MINE},
            description="mine: cases I own or last handled; all: every case (supervisors)",
        ),
        Param("state", {"type": "string", "enum": list(states.STATES)}),
        LIMIT,
    ],
    response="FollowUpList",
    errors=(400, 401, 403),
)
async def list_follow_ups(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    wanted = (query["state"],) if query["state"] else states.OPEN_STATES
    visits = await queries.list_visits(
        request.app[DEPS], principal(request), scope=query["scope"], visit_states=wanted, limit=query["limit"]
    )
    return json_response({"visits": visits})


@routes.post(
    "/api/cases/{case_id}/follow-up",
    summary="Record the follow-up visit's answer, e.g. from a phone call (not solved reopens to the owner)",
    tag="cases",
    auth=AGENTS,
    path_params=[CASE_ID],
    body="FollowUp",
    response="Case",
    errors=WRITE_ERRORS,
)
async def follow_up_case(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await service.answer(request.app[DEPS], principal(request), case_id, body))


@routes.post(
    "/api/follow-ups/{visit_id}/no-answer",
    summary="Nobody answered the follow-up call: the visit ends as no answer",
    tag="follow-ups",
    auth=AGENTS,
    path_params=[VISIT_ID],
    body="FollowUpNoAnswer",
    response="FollowUpState",
    errors=WRITE_ERRORS,
)
async def follow_up_no_answer(request: web.Request, visit_id: int, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(
        await service.no_answer_by_phone(request.app[DEPS], principal(request), visit_id, body.get("comment"))
    )
