"""Message routes: the conversation of a case, agent replies, retry of a failed delivery."""

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
    id_param,
    json_response,
    principal,
)

from . import service as messages

routes = RouteTable()

MESSAGE_ID = id_param("message_id", "Message id", "message_not_found")


@routes.get(
    "/api/cases/{case_id}/messages",
    summary="Conversation messages in order, with delivery status",
    tag="messages",
    auth=AGENTS,
    path_params=[CASE_ID],
    query=[Param("after_id", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}), LIMIT],
    response="MessageList",
    errors=READ_ERRORS,
)
async def list_messages(request: web.Request, case_id: int, query: dict[str, Any]) -> web.StreamResponse:
    items = await messages.list_messages(
        request.app[DEPS], principal(request), case_id, after_id=query["after_id"], limit=query["limit"]
    )
    return json_response({"messages": items})


@routes.post(
    "/api/cases/{case_id}/messages",
    summary="Reply to the customer (current handler only); delivered through Rasa",
    tag="messages",
    auth=AGENTS,
    path_params=[CASE_ID],
    body="Reply",
    status=201,
    response="Message",
    errors=WRITE_ERRORS,
)
async def reply(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    msg = await messages.agent_reply(request.app[DEPS], principal(request), case_id, body["text"])
    return json_response(msg, status=201)


@routes.post(
    "/api/cases/{case_id}/messages/{message_id}/retry",
    summary="Retry a failed delivery (same idempotency key)",
    tag="messages",
    auth=AGENTS,
    path_params=[CASE_ID, MESSAGE_ID],
    response="Message",
    errors=(401, 403, 404, 409),
)
async def retry_delivery(request: web.Request, case_id: int, message_id: int) -> web.StreamResponse:
    return json_response(await messages.retry_delivery(request.app[DEPS], principal(request), case_id, message_id))
