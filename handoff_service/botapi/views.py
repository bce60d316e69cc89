"""The bot's API (service token only; called by Rasa's custom actions): cases, their
timeline, handoff, customer messages, satisfaction and follow-up answers."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from handoff_service.cases import intake, queries
from handoff_service.cases.states import CASE_NUMBER_PATTERN
from handoff_service.core.deps import DEPS
from handoff_service.core.http import BOT, WRITE_ERRORS, Param, RouteTable, json_response, principal
from handoff_service.core.validation import text
from handoff_service.followups import service as follow_ups
from handoff_service.messages import service as messages

routes = RouteTable()

NUMBER = Param(
    "number",
    {"type": "string", "pattern": CASE_NUMBER_PATTERN},
    True,
    "Case number, e.g. C20261124-0007",
    "case_not_found",
)


@routes.post(
    "/api/bot/cases",
    summary="Open a case (at the first contact); a repeated idempotency_key returns the case created with it (200)",
    tag="bot",
    auth=BOT,
    body="CreateCase",
    status=201,
    response="Case",
    also={200: "A case with this idempotency_key already exists; it is returned unchanged"},
    errors=(400, 401, 403, 413, 415),
)
async def bot_create_case(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
    case, created = await intake.create_case(request.app[DEPS], body)
    return json_response(case, status=201 if created else 200)


CONVERSATION = Param(
    "conversation_id",
    text(1, 128),
    False,
    "The conversation asking (a customer's case status): a case opened by another conversation is "
    "answered 404 case_not_found, exactly like a case that does not exist",
)


@routes.get(
    "/api/bot/cases/{number}",
    summary="Read a case by its number; with conversation_id, only that conversation's case",
    tag="bot",
    auth=BOT,
    path_params=[NUMBER],
    query=[CONVERSATION],
    response="Case",
    errors=(400, 401, 403, 404),
)
async def bot_get_case(request: web.Request, number: str, query: dict[str, Any]) -> web.StreamResponse:
    case = await queries.get_case_by_number(request.app[DEPS], number, conversation_id=query["conversation_id"])
    return json_response(case)


@routes.patch(
    "/api/bot/cases/{number}",
    summary=(
        "Update category, description, tier (only to a more urgent one; 409 tier_lowering_not_allowed) "
        "or language; a bot 'updated' timeline entry lists the changes"
    ),
    tag="bot",
    auth=BOT,
    path_params=[NUMBER],
    body="UpdateCase",
    response="Case",
    errors=WRITE_ERRORS,
)
async def bot_update_case(request: web.Request, number: str, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await intake.bot_update_case(request.app[DEPS], number, body))


@routes.post(
    "/api/bot/cases/{number}/timeline",
    summary="Append a bot step to the timeline (e.g. a five-step script stage)",
    tag="bot",
    auth=BOT,
    path_params=[NUMBER],
    body="TimelineEntry",
    status=201,
    response="TimelineAck",
    also={200: "This idempotency_key was already used on the case: the original acknowledgement, nothing added"},
    errors=WRITE_ERRORS,
)
async def bot_timeline(request: web.Request, number: str, body: dict[str, Any]) -> web.StreamResponse:
    out, created = await intake.bot_timeline_entry(
        request.app[DEPS], number, body["action"], body.get("details", {}), body.get("idempotency_key")
    )
    return json_response(out, status=201 if created else 200)


@routes.post(
    "/api/bot/cases/{number}/handoff",
    summary="Request a human: queue the case with its summary card",
    tag="bot",
    auth=BOT,
    path_params=[NUMBER],
    body="HandoffRequest",
    response="HandoffAck",
    errors=WRITE_ERRORS,
)
async def bot_handoff(request: web.Request, number: str, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await intake.request_handoff(request.app[DEPS], number, body))


@routes.post(
    "/api/bot/cases/{number}/messages",
    summary="Relay a customer message while an agent handles the case",
    tag="bot",
    auth=BOT,
    path_params=[NUMBER],
    body="CustomerMessage",
    status=201,
    response="Message",
    errors=WRITE_ERRORS,
)
async def bot_relay_message(request: web.Request, number: str, body: dict[str, Any]) -> web.StreamResponse:
    msg = await messages.relay_customer_message(request.app[DEPS], number, body["text"], body.get("metadata", {}))
    return json_response(msg, status=201)


@routes.post(
    "/api/bot/cases/{number}/resolve",
    summary="The bot settled the case without a human",
    tag="bot",
    auth=BOT,
    path_params=[NUMBER],
    body="Resolve",
    response="Case",
    errors=WRITE_ERRORS,
)
async def bot_resolve(request: web.Request, number: str, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await intake.bot_resolve(request.app[DEPS], number, body["result"].strip()))


@routes.post(
    "/api/bot/cases/{number}/csat",
    summary="Record the satisfaction survey (Likert 1-5)",
    tag="bot",
    auth=BOT,
    path_params=[NUMBER],
    body="Csat",
    response="Case",
    errors=WRITE_ERRORS,
)
async def bot_csat(request: web.Request, number: str, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await intake.record_csat(request.app[DEPS], number, body))


@routes.post(
    "/api/bot/cases/{number}/follow-up",
    summary="Record the follow-up visit answer (not solved reopens)",
    tag="bot",
    auth=BOT,
    path_params=[NUMBER],
    body="FollowUp",
    response="Case",
    errors=WRITE_ERRORS,
)
async def bot_follow_up(request: web.Request, number: str, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await follow_ups.answer(request.app[DEPS], principal(request), number, body))
