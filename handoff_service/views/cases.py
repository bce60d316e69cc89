"""Staff case routes: queue, accept, claim, transfer, resolve, reopen, close,
tier, follow-up, messages and the audit log."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import audit, cases, messages
from ..api import AGENTS, SUPERVISOR_ONLY, Param, RouteTable, json_response, principal
from ..context import DEPS
from ..schemas import text
from ..states import STATUSES

routes = RouteTable()

CASE_ID = Param("case_id", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}, True, "Case id", "case_not_found")
MESSAGE_ID = Param("message_id", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}, True, "Message id", "message_not_found")
LIMIT = Param("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 100})
READ_ERRORS = (400, 401, 403, 404)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415)


@routes.get(
    "/api/queue", summary="Waiting cases, ordered by tier then first-response deadline", tag="cases",
    auth=AGENTS, query=[Param("team", text(0, 64)), LIMIT], response="CaseCardList",
    errors=(400, 401, 403),
)
async def get_queue(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    items = await cases.queue(request.app[DEPS], principal(request), team=query["team"], limit=query["limit"])
    return json_response({"cases": items})


@routes.get(
    "/api/cases", summary="List cases (newest first)", tag="cases", auth=AGENTS,
    query=[
        Param("status", {"type": "string", "enum": list(STATUSES)}),
        Param("mine", {"type": "boolean", "default": False}, description="only cases I own or handle"),
        LIMIT,
        Param("offset", {"type": "integer", "minimum": 0, "maximum": 1_000_000, "default": 0}),
    ],
    response="CaseCardList", errors=(400, 401, 403),
)
async def list_cases(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    items = await cases.list_cases(
        request.app[DEPS], principal(request), status=query["status"], mine=query["mine"],
        limit=query["limit"], offset=query["offset"],
    )
    return json_response({"cases": items})


@routes.get("/api/cases/{case_id}", summary="One case", tag="cases", auth=AGENTS, path_params=[CASE_ID], response="Case", errors=READ_ERRORS)
async def get_case(request: web.Request, case_id: int) -> web.StreamResponse:
    return json_response(await cases.get_case(request.app[DEPS], case_id))


@routes.get(
    "/api/cases/{case_id}/timeline", summary="The case's append-only timeline", tag="cases", auth=AGENTS,
    path_params=[CASE_ID], response="Timeline", errors=READ_ERRORS,
)
async def get_timeline(request: web.Request, case_id: int) -> web.StreamResponse:
    return json_response({"events": await cases.timeline(request.app[DEPS], case_id)})


@routes.post(
    "/api/cases/{case_id}/accept", summary="Accept a queued case; the first agent to accept becomes its owner",
    tag="cases", auth=AGENTS, path_params=[CASE_ID], response="Case", errors=(401, 403, 404, 409),
)
async def accept_case(request: web.Request, case_id: int) -> web.StreamResponse:
    return json_response(await cases.accept(request.app[DEPS], principal(request), case_id))


@routes.post(
    "/api/cases/{case_id}/claim", summary="Pick up a case transferred to my team", tag="cases", auth=AGENTS,
    path_params=[CASE_ID], response="Case", errors=(401, 403, 404, 409),
)
async def claim_case(request: web.Request, case_id: int) -> web.StreamResponse:
    return json_response(await cases.claim(request.app[DEPS], principal(request), case_id))


@routes.post(
    "/api/cases/{case_id}/transfer", summary="Transfer to another agent or a team (the owner stays)", tag="cases",
    auth=AGENTS, path_params=[CASE_ID], body="Transfer", response="Case", errors=WRITE_ERRORS,
)
async def transfer_case(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await cases.transfer(request.app[DEPS], principal(request), case_id, body))


@routes.post(
    "/api/cases/{case_id}/resolve", summary="Resolve with a result text; the bot resumes and asks for satisfaction",
    tag="cases", auth=AGENTS, path_params=[CASE_ID], body="Resolve", response="Case", errors=WRITE_ERRORS,
)
async def resolve_case(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await cases.resolve(request.app[DEPS], principal(request), case_id, body["result"].strip()))


@routes.post(
    "/api/cases/{case_id}/reopen", summary="Reopen a resolved case; it returns to its owner", tag="cases",
    auth=AGENTS, path_params=[CASE_ID], body="Reason", response="Case", errors=WRITE_ERRORS,
)
async def reopen_case(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await cases.reopen(request.app[DEPS], principal(request), case_id, body.get("reason")))


@routes.post(
    "/api/cases/{case_id}/close", summary="Archive a resolved case (owner or supervisor)", tag="cases",
    auth=AGENTS, path_params=[CASE_ID], body="Note", response="Case", errors=WRITE_ERRORS,
)
async def close_case(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await cases.close(request.app[DEPS], principal(request), case_id, body.get("note")))


@routes.post(
    "/api/cases/{case_id}/tier", summary="Change the severity tier (deadlines are recomputed)", tag="cases",
    auth=AGENTS, path_params=[CASE_ID], body="TierChange", response="Case", errors=WRITE_ERRORS,
)
async def change_tier(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(
        await cases.change_tier(request.app[DEPS], principal(request), case_id, body["tier"], body.get("reason"))
    )


@routes.post(
    "/api/cases/{case_id}/follow-up", summary="Record the follow-up visit (not solved reopens to the owner)",
    tag="cases", auth=AGENTS, path_params=[CASE_ID], body="FollowUp", response="Case", errors=WRITE_ERRORS,
)
async def follow_up_case(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await cases.follow_up(request.app[DEPS], principal(request), case_id, body))


@routes.get(
    "/api/cases/{case_id}/messages", summary="Conversation messages in order, with delivery status", tag="messages",
    auth=AGENTS, path_params=[CASE_ID],
    query=[Param("after_id", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}), LIMIT],
    response="MessageList", errors=READ_ERRORS,
)
async def list_messages(request: web.Request, case_id: int, query: dict[str, Any]) -> web.StreamResponse:
    items = await messages.list_messages(request.app[DEPS], case_id, after_id=query["after_id"], limit=query["limit"])
    return json_response({"messages": items})


@routes.post(
    "/api/cases/{case_id}/messages", summary="Reply to the customer (current handler only); delivered through Rasa",
    tag="messages", auth=AGENTS, path_params=[CASE_ID], body="Reply", status=201, response="Message",
    errors=WRITE_ERRORS,
)
async def reply(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    msg = await messages.agent_reply(request.app[DEPS], principal(request), case_id, body["text"])
    return json_response(msg, status=201)


@routes.post(
    "/api/cases/{case_id}/messages/{message_id}/retry", summary="Retry a failed delivery (same idempotency key)",
    tag="messages", auth=AGENTS, path_params=[CASE_ID, MESSAGE_ID], response="Message", errors=(401, 403, 404, 409),
)
async def retry_delivery(request: web.Request, case_id: int, message_id: int) -> web.StreamResponse:
    return json_response(await messages.retry_delivery(request.app[DEPS], principal(request), case_id, message_id))


@routes.get(
    "/api/audit", summary="Audit log of staff actions (newest first)", tag="audit", auth=SUPERVISOR_ONLY,
    query=[
        Param("before_id", {"type": "integer", "minimum": 1, "maximum": 2**53}),
        Param("actor", text(0, 64)),
        Param("action", text(0, 64)),
        LIMIT,
    ],
    response="AuditList", errors=(400, 401, 403),
)
async def audit_log(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    items = await audit.list_entries(
        request.app[DEPS], limit=query["limit"], before_id=query["before_id"], actor=query["actor"], action=query["action"]
    )
    return json_response({"entries": items})
