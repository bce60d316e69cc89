"""The review list's API, for trainers and supervisors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from handoff_service.core.deps import DEPS
from handoff_service.core.http import CASE_ID, LIMIT, Param, RouteTable, id_param, json_response, principal
from handoff_service.core.principal import AGENTS, ANY_STAFF, TRAINERS
from handoff_service.core.validation import text
from handoff_service.rasa.client import RASA

from . import queries, states
from . import service as review

routes = RouteTable()
ITEM_ID = id_param("item_id", "Review item id", "review_item_not_found")
CONFIDENCE = {"type": "number", "minimum": 0, "maximum": 1}
# the console turns the trainer's dates (service zone) into Unix seconds
TIME = {"type": "integer", "minimum": 0, "maximum": 2**33, "description": "Unix time in seconds"}


def _time(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


@routes.get(
    "/api/review/vocabulary",
    summary="The review list's reasons, statuses and transitions",
    tag="review",
    auth=TRAINERS,
    response="ReviewVocabulary",
    errors=(401, 403),
)
async def review_vocabulary(request: web.Request) -> web.StreamResponse:
    transitions = {action: {"from": list(src), "to": to} for action, (src, to) in states.TRANSITIONS.items()}
    return json_response({"reasons": list(states.REASONS), "statuses": list(states.STATUSES), "actions": transitions})


@routes.get(
    "/api/review/items",
    summary="Misunderstood customer messages, most pressing first (count x recency)",
    tag="review",
    auth=TRAINERS,
    query=[
        Param("status", {"type": "string", "enum": list(states.STATUSES)}),
        Param("reason", {"type": "string", "enum": list(states.REASONS)}),
        Param("intent", text(0, 128)),
        Param("language", text(0, 16)),
        Param("channel", text(0, 32)),
        Param("min_confidence", CONFIDENCE),
        Param("max_confidence", CONFIDENCE),
        Param("since", TIME),
        Param("until", TIME),
        Param("offset", {"type": "integer", "minimum": 0, "maximum": 100_000, "default": 0}),
        LIMIT,
    ],
    response="ReviewItemList",
    errors=(400, 401, 403),
)
async def review_items(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    filters = queries.Filters(
        statuses=(query["status"],) if query["status"] else states.LISTED,
        reason=query["reason"],
        intent=query["intent"] or None,
        language=query["language"] or None,
        channel=query["channel"] or None,
        min_confidence=query["min_confidence"],
        max_confidence=query["max_confidence"],
        since=_time(query["since"]),
        until=_time(query["until"]),
    )
    page = await queries.list_items(request.app[DEPS], filters, limit=query["limit"], offset=query["offset"])
    return json_response(page)


@routes.get(
    "/api/review/kpis",
    summary="Trainers' figures: backlog, items labelled per day, median hours from collection to label",
    tag="review",
    auth=TRAINERS,
    query=[Param("days", {"type": "integer", "minimum": 1, "maximum": 366, "default": 14})],
    response="ReviewKpis",
    errors=(400, 401, 403),
)
async def review_kpis(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    return json_response(await queries.kpis(request.app[DEPS], days=query["days"]))


@routes.get(
    "/api/review/export",
    summary="Reviewed items in the trainers' JSONL item format, oldest first (python -m bot.training export)",
    tag="review",
    auth=TRAINERS,
    query=[
        Param(
            "status", {"type": "string", "pattern": "^(labelled|applied|ignored)(,(labelled|applied|ignored)){0,2}$"}
        ),
        Param("after_id", {"type": "integer", "minimum": 0, "maximum": 2**53, "default": 0}),
        LIMIT,
    ],
    response="ReviewExport",
    errors=(400, 401, 403),
)
async def review_export(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    statuses = tuple(query["status"].split(",")) if query["status"] else queries.EXPORTED
    page = await queries.export_items(request.app[DEPS], statuses, limit=query["limit"], after_id=query["after_id"])
    return json_response(page)


@routes.get(
    "/api/review/items/{item_id}/context",
    summary="The item's latest message in its conversation: 5 turns before and after (masked), and its cases",
    tag="review",
    auth=TRAINERS,
    path_params=[ITEM_ID],
    response="ReviewContext",
    errors=(401, 403, 404),
)
async def review_context(request: web.Request, item_id: int) -> web.StreamResponse:
    deps = request.app[DEPS]
    return json_response(await queries.context(deps, request.app[RASA], principal(request), item_id))


@routes.get(
    "/api/review/intents",
    summary="What a message may be labelled with: the loaded model's intents and FAQ answers (faq/...)",
    tag="review",
    auth=ANY_STAFF,
    response="ReviewIntents",
    errors=(401,),
)
async def review_intents(request: web.Request) -> web.StreamResponse:
    return json_response(await queries.intents(request.app[DEPS], request.app[RASA]))


@routes.post(
    "/api/cases/{case_id}/corrections",
    summary="An agent says what the customer meant by a message of the case: it joins the review list (audited)",
    tag="review",
    auth=AGENTS,
    path_params=[CASE_ID],
    body="ReviewCorrection",
    status=201,
    response="ReviewCorrected",
    errors=(400, 401, 403, 404, 413, 415, 503),
)
async def review_correction(request: web.Request, case_id: int, body: dict[str, Any]) -> web.StreamResponse:
    deps, rasa = request.app[DEPS], request.app[RASA]
    given = (body["text"], body.get("at"), body["intent"])
    return json_response(await review.correct(deps, rasa, principal(request), case_id, *given), status=201)


def _acted(spec_action: str, summary: str, body: str | None) -> None:
    """One route per trainer action: POST /api/review/items/{item_id}/<action>."""

    async def act(request: web.Request, item_id: int, body: dict[str, Any] | None = None) -> web.StreamResponse:
        given = body or {}
        item = await review.review(
            request.app[DEPS],
            principal(request),
            item_id,
            spec_action,
            label=given.get("label"),
            comment=given.get("comment"),
        )
        return json_response(item)

    act.__name__ = f"review_{spec_action}"
    routes.post(
        f"/api/review/items/{{item_id}}/{spec_action}",
        summary=summary,
        tag="review",
        auth=TRAINERS,
        path_params=[ITEM_ID],
        body=body,
        response="ReviewItem",
        errors=(400, 401, 403, 404, 409, 413, 415) if body else (401, 403, 404, 409),
    )(act)


_acted(states.LABEL, "Label an item with the intent the customer meant (audited)", "ReviewLabel")
_acted(states.IGNORE, "Ignore an item: the same text never comes back (audited)", None)
_acted(states.FLAG, "Flag an item for discussion, with a comment (audited)", "ReviewFlag")
_acted(states.REOPEN, "Reopen an item: back to the list, label cleared (audited)", None)
_acted(states.MARK_APPLIED, "Mark a labelled item written into the training data (python -m bot.training apply)", None)
