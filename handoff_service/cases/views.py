"""Staff case routes: queue, lists, a case, its timeline, accept, claim, transfer,
resolve, reopen, close, tier and private notes (the follow-up answer: followups/views.py)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from handoff_service.core.deps import DEPS
from handoff_service.core.http import (
    AGENTS,
    CASE_ID,
    LIMIT,
    READ_ERRORS,
    WRITE_ERRORS,
    Param,
    RouteTable,
    json_response,
    principal,
)
from handoff_service.core.validation import text

from . import queries, service
from .states import STATUSES

routes = RouteTable()


@routes.get(
    "/api/queue",
    summary="Waiting cases, ordered by tier then first-response deadline",
    tag="cases",
    auth=AGENTS,
    query=[Param("team", text(0, 64)), LIMIT],
    response="CaseCardList",
    errors=(400, 401, 403),
)
async def get_queue(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    items = await queries.queue(request.app[DEPS], principal(request), team=query["team"], limit=query["limit"])
    return json_response({"cases": items})


@routes.get(
    "/api/cases",
    summary="List cases (newest first)",
    tag="cases",
    auth=AGENTS,
    query=[
        Param("status", {"type": "string", "enum": list(STATUSES)}),
        Param("mine", {"type": "boolean", "default": False}, description="only cases I own or handle"),
        LIMIT,
        Param("offset", {"type": "integer", "minimum": 0, "maximum": 1_000_000, "default": 0}),
    ],
    response="CaseCardList",
    errors=(400, 401, 403),
)
async def list_cases(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    items = await queries.list_cases(
        request.app[DEPS],
        principal(request),
        status=query["status"],
        mine=query["mine"],
        limit=query["limit"],
        offset=query["offset"],
    )
    return json_response({"cases": items})


@routes.get(
    "/api/cases/{case_id}",
    summary="One case",
    tag="cases",
    auth=AGENTS,
    path_params=[CASE_ID],
    response="Case",
    errors=READ_ERRORS,
)
async def get_case(request: web.Request, case_id: int) -> web.StreamResponse:
    return json_response(await queries.get_case(request.app[DEPS], case_id, principal(request)))


@routes.get(
    "/api/cases/{case_id}/timeline",
    summary="The case's append-only timeline",
    tag="cases",
    auth=AGENTS,
    path_params=[CASE_ID],
    response="Timeline",
    errors=READ_ERRORS,
)
async def get_timeline(request: web.Request, case_id: int) -> web.StreamResponse:
    return json_response({"events": await queries.timeline(request.app[DEPS], principal(request), case_id)})


@routes.post(
    "/api/cases/{case_id}/accept",
    summary="Accept a queued case; the first agent to accept becomes its owner",
    tag="cases",
    auth=AGENTS,
    path_params=[CASE_ID],
    response="Case",
    errors=(401, 403, 404, 409),
)
async def accept_case(request: web.Request, case_id: int) -> web.StreamResponse:
    return json_response(await service.accept(request.app[DEPS], principal(request), case_id))


@routes.post(
    "/api/cases/{case_id}/claim",
    summary="Pick up a case transferred to my team",
    tag="cases",
    auth=AGENTS,
    path_params=[CASE_ID],
    response="Case",
    errors=(401, 403, 404, 409),
)
async def claim_case(request: web.Request, case_id: int) -> web.StreamResponse:
    return json_response(await service.claim(request.app[DEPS], principal(request), case_id))


@routes.post(
    "/api/cases/{case_id}/transfer",
    summary="Transfer to another agent or a team (the owner stays)",
    tag="cases",
    auth=AGENTS,
    path_params=[CASE_ID],
    body="Transfer",
    response="Case",
    errors=WRITE_ERRORS,
)
async def transfer_case(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await service.transfer(request.app[DEPS], principal(request), case_id, body))


@routes.post(
    "/api/cases/{case_id}/resolve",
    summary="Resolve with a result text; the bot resumes and asks for satisfaction",
    tag="cases",
    auth=AGENTS,
    path_params=[CASE_ID],
    body="Resolve",
    response="Case",
    errors=WRITE_ERRORS,
)
async def resolve_case(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await service.resolve(request.app[DEPS], principal(request), case_id, body["result"].strip()))


@routes.post(
    "/api/cases/{case_id}/reopen",
    summary="Reopen a resolved case; it returns to its owner",
    tag="cases",
    auth=AGENTS,
    path_params=[CASE_ID],
    body="Reason",
    response="Case",
    errors=WRITE_ERRORS,
)
async def reopen_case(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await service.reopen(request.app[DEPS], principal(request), case_id, body.get("reason")))


@routes.post(
    "/api/cases/{case_id}/close",
    summary="Archive a resolved case (owner or supervisor)",
    tag="cases",
    auth=AGENTS,
    path_params=[CASE_ID],
    body="Note",
    response="Case",
    errors=WRITE_ERRORS,
)
async def close_case(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await service.close(request.app[DEPS], principal(request), case_id, body.get("note")))


@routes.post(
    "/api/cases/{case_id}/tier",
    summary="Change the severity tier (deadlines are recomputed)",
    tag="cases",
    auth=AGENTS,
    path_params=[CASE_ID],
    body="TierChange",
    response="Case",
    errors=WRITE_ERRORS,
)
async def change_tier(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(
        await service.change_tier(request.app[DEPS], principal(request), case_id, body["tier"], body.get("reason"))
    )


@routes.post(
    "/api/cases/{case_id}/notes",
    summary="Add a private note (staff only; a timeline entry, never sent to the customer)",
    tag="cases",
    auth=AGENTS,
    path_params=[CASE_ID],
    body="PrivateNote",
    status=201,
    response="PrivateNoteItem",
    errors=WRITE_ERRORS,
)
async def add_note(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    note = await service.add_note(request.app[DEPS], principal(request), case_id, body["text"].strip())
    return json_response(note, status=201)
