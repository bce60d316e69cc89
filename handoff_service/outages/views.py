"""Outage notices' API: supervisors publish, update and resolve them (agents read them); the bot reads
the notices in force and links a customer's case to one."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from handoff_service.cases.states import CASE_NUMBER_PATTERN
from handoff_service.core.deps import DEPS
from handoff_service.core.http import BOT, LIMIT, Param, RouteTable, id_param, json_response, principal
from handoff_service.core.principal import AGENTS, SUPERVISORS
from handoff_service.core.validation import text

from . import queries, states
from . import service as outages

routes = RouteTable()
OUTAGE_ID = id_param("outage_id", "Outage notice id", "outage_not_found")
WRITE = (400, 401, 403, 404, 409, 413, 415)


@routes.get(
    "/api/outages/vocabulary",
    summary="Outage statuses, the transitions an update may make, and the topics a notice may affect",
    tag="outages",
    auth=AGENTS,
    response="OutageVocabulary",
    errors=(401, 403),
)
async def outage_vocabulary(request: web.Request) -> web.StreamResponse:
    return json_response(
        {
            "statuses": [{"name": s, "label": states.STATUS_LABELS[s]} for s in states.STATUSES],
            "transitions": {s: list(to) for s, to in states.TRANSITIONS.items()},
            "publish_statuses": list(states.IN_FORCE),
            "topics": [{"name": t, "label": label} for t, label in states.TOPICS.items()],
        }
    )


@routes.get(
    "/api/outages",
    summary="Outage notices, newest first: in force (default), resolved or all",
    tag="outages",
    auth=AGENTS,
    query=[Param("status", {"type": "string", "enum": list(queries.LIST_FILTERS), "default": "in_force"}), LIMIT],
    response="OutageList",
    errors=(400, 401, 403),
)
async def outage_list(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    notices = await queries.list_notices(request.app[DEPS], which=query["status"], limit=query["limit"])
    return json_response({"notices": notices})


@routes.get(
    "/api/outages/{outage_id}",
    summary="One outage notice with its updates (time, author) and its linked cases",
    tag="outages",
    auth=AGENTS,
    path_params=[OUTAGE_ID],
    response="Outage",
    errors=(401, 403, 404),
)
async def outage_get(request: web.Request, outage_id: int) -> web.StreamResponse:
    return json_response(await queries.get_notice(request.app[DEPS], outage_id))


@routes.post(
    "/api/outages",
    summary="Publish an outage notice (title and message in zh and en, topics, status, expected recovery; audited)",
    tag="outages",
    auth=SUPERVISORS,
    body="OutageNew",
    status=201,
    response="Outage",
    errors=(400, 401, 403, 413, 415),
)
async def outage_publish(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await outages.publish(request.app[DEPS], principal(request), body), status=201)


@routes.post(
    "/api/outages/{outage_id}/updates",
    summary="Append an update; customers with an open linked case are told of a new status or recovery time",
    tag="outages",
    auth=SUPERVISORS,
    path_params=[OUTAGE_ID],
    body="OutageUpdateNew",
    status=201,
    response="Outage",
    errors=WRITE,
)
async def outage_update(request: web.Request, outage_id: int, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await outages.add_update(request.app[DEPS], principal(request), outage_id, body), status=201)


@routes.post(
    "/api/outages/{outage_id}/resolve",
    summary="Resolve a notice with its last message and a short review (cause, fix, prevention); always told",
    tag="outages",
    auth=SUPERVISORS,
    path_params=[OUTAGE_ID],
    body="OutageResolve",
    response="Outage",
    errors=WRITE,
)
async def outage_resolve(request: web.Request, outage_id: int, body: dict[str, Any]) -> web.StreamResponse:
    return json_response(await outages.resolve(request.app[DEPS], principal(request), outage_id, body))


@routes.post(
    "/api/outages/{outage_id}/cases",
    summary="Link a case to a notice in force (audited); linking again changes nothing",
    tag="outages",
    auth=SUPERVISORS,
    path_params=[OUTAGE_ID],
    body="OutageLinkCase",
    response="Outage",
    errors=WRITE,
)
async def outage_link(request: web.Request, outage_id: int, body: dict[str, Any]) -> web.StreamResponse:
    out, _ = await outages.link_case(request.app[DEPS], principal(request), outage_id, body["case"])
    return json_response(out)


@routes.post(
    "/api/outages/{outage_id}/resolve-cases",
    summary="Resolve the linked cases together in one transaction (those that may be resolved now)",
    tag="outages",
    auth=SUPERVISORS,
    path_params=[OUTAGE_ID],
    body="Resolve",
    response="OutageCasesResolved",
    errors=WRITE,
)
async def outage_resolve_cases(request: web.Request, outage_id: int, body: dict[str, Any]) -> web.StreamResponse:
    deps = request.app[DEPS]
    return json_response(await outages.resolve_cases(deps, principal(request), outage_id, body["result"]))


# ---------------------------------------------------------------- the bot's


@routes.get(
    "/api/bot/outages",
    summary="The outage notices in force (newest first), those affecting a topic when given",
    tag="bot",
    auth=BOT,
    query=[Param("topic", {"type": "string", "enum": list(states.TOPICS)})],
    response="BotOutageList",
    errors=(400, 401, 403),
)
async def bot_outages(request: web.Request, query: dict[str, Any]) -> web.StreamResponse:
    return json_response({"notices": await queries.in_force(request.app[DEPS], query["topic"])})


@routes.post(
    "/api/bot/outages/{outage_id}/cases",
    summary="Link the customer's case to a notice in force (the case's customer reported it); again: 200",
    tag="bot",
    auth=BOT,
    path_params=[OUTAGE_ID],
    body="OutageLinkCase",
    status=201,
    response="Outage",
    also={200: "The case was linked before; nothing changed"},
    errors=WRITE,
)
async def bot_outage_link(request: web.Request, outage_id: int, body: dict[str, Any]) -> web.StreamResponse:
    deps = request.app[DEPS]
    out, created = await outages.link_case(
        deps, principal(request), outage_id, body["case"], body.get("conversation_id")
    )
    return json_response(out, status=201 if created else 200)


# ---------------------------------------------------------------- request and response schemas
# (merged into schemas.build_bodies and schemas.RESPONSES, from which the OpenAPI document is built)


def obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False, **extra}
    if required:
        s["required"] = required
    return s


def _bilingual(max_len: int) -> dict[str, Any]:
    field = text(1, max_len, nonblank=True)
    return obj({"zh": field, "en": field}, ["zh", "en"], description="Chinese (zh-CN) and English")


BILINGUAL_TITLE = _bilingual(200)
BILINGUAL_MESSAGE = _bilingual(2000)
OUTAGE_TOPICS = {
    "type": "array",
    "maxItems": len(states.TOPICS),
    "items": {"type": "string", "enum": list(states.TOPICS)},
    "description": "affected topics (GET /api/outages/vocabulary); none: a general notice",
}
RECOVERY_TIME = {
    "type": "integer",
    "minimum": 0,
    "maximum": 2**33,
    "nullable": True,
    "description": "expected recovery, Unix time in seconds (null: not known yet)",
}
OUTAGE_VERSION = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "description": "the version read"}
TEXT = text(1, 4000, nonblank=True)
USER_REF = {
    "type": "object",
    "nullable": True,
    "properties": {"id": {"type": "integer"}, "username": {"type": "string"}, "display_name": {"type": "string"}},
}

BODIES: dict[str, dict[str, Any]] = {
    "OutageNew": obj(
        {
            "title": BILINGUAL_TITLE,
            "message": BILINGUAL_MESSAGE,
            "topics": OUTAGE_TOPICS,
            "status": {"type": "string", "enum": list(states.IN_FORCE)},
            "expected_recovery_at": RECOVERY_TIME,
        },
        ["title", "message", "topics"],
    ),
    "OutageUpdateNew": obj(
        {
            "message": BILINGUAL_MESSAGE,
            "status": {"type": "string", "enum": list(states.IN_FORCE)},
            "expected_recovery_at": RECOVERY_TIME,
            "version": OUTAGE_VERSION,
        },
        ["message"],
        description="Without status: the same status (a progress update). Without expected_recovery_at: "
        "unchanged; null: not known.",
    ),
    "OutageResolve": obj(
        {
            "message": BILINGUAL_MESSAGE,
            "review": obj(
                {"cause": TEXT, "fix": TEXT, "prevention": TEXT},
                ["cause", "fix", "prevention"],
            ),
            "version": OUTAGE_VERSION,
        },
        ["message", "review"],
    ),
    "OutageLinkCase": obj(
        {
            "case": {"type": "string", "pattern": CASE_NUMBER_PATTERN, "description": "the case number"},
            "conversation_id": text(
                1, 128, description="the bot's conversation: a case of another conversation is 404"
            ),
        },
        ["case"],
    ),
}
RESPONSES: dict[str, dict[str, Any]] = {
    "Outage": {
        "type": "object",
        "required": ["id", "title", "topics", "status", "in_force", "linked_cases", "reports"],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "object", "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}},
            "topics": {"type": "array", "items": {"type": "string"}},
            "status": {"type": "string", "enum": list(states.STATUSES)},
            "in_force": {"type": "boolean"},
            "expected_recovery_at": {"type": "string", "nullable": True},
            "created_at": {"type": "string"},
            "created_by": USER_REF,
            "updated_at": {"type": "string"},
            "resolved_at": {"type": "string", "nullable": True},
            "latest": {"type": "object", "nullable": True, "description": "the latest update"},
            "linked_cases": {"type": "integer"},
            "reports": {"type": "integer", "description": "customers (conversations) who reported it"},
            "review": {
                "type": "object",
                "nullable": True,
                "properties": {
                    "cause": {"type": "string", "nullable": True},
                    "fix": {"type": "string", "nullable": True},
                    "prevention": {"type": "string", "nullable": True},
                },
            },
            "version": {"type": "integer"},
            "updates": {
                "type": "array",
                "description": "oldest first (one notice only)",
                "items": {
                    "type": "object",
                    "required": ["id", "at", "status", "message"],
                    "properties": {
                        "id": {"type": "integer"},
                        "at": {"type": "string"},
                        "author": USER_REF,
                        "status": {"type": "string"},
                        "message": {"type": "object"},
                        "expected_recovery_at": {"type": "string", "nullable": True},
                        "notified": {"type": "integer", "description": "customers sent this update"},
                        "details": {"type": "object"},
                    },
                },
            },
            "cases": {"type": "array", "items": {"type": "object"}, "description": "linked cases (one notice only)"},
        },
    },
    "OutageList": {
        "type": "object",
        "required": ["notices"],
        "properties": {"notices": {"type": "array", "items": {"$ref": "#/components/schemas/Outage"}}},
    },
    "OutageVocabulary": {
        "type": "object",
        "required": ["statuses", "transitions", "topics"],
        "properties": {
            "statuses": {"type": "array", "items": {"type": "object"}},
            "transitions": {"type": "object"},
            "publish_statuses": {"type": "array", "items": {"type": "string"}},
            "topics": {"type": "array", "items": {"type": "object"}},
        },
    },
    "OutageCasesResolved": {
        "type": "object",
        "required": ["resolved", "skipped"],
        "properties": {
            "resolved": {"type": "array", "items": {"type": "string"}},
            "skipped": {"type": "array", "items": {"type": "object"}},
        },
    },
    "BotOutageList": {
        "type": "object",
        "required": ["notices"],
        "properties": {
            "notices": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "title", "status"],
                    "properties": {
                        "id": {"type": "integer"},
                        "title": {"type": "object"},
                        "topics": {"type": "array", "items": {"type": "string"}},
                        "status": {"type": "string"},
                        "status_label": {"type": "object"},
                        "expected_recovery_at": {"type": "string", "nullable": True},
                        "latest": {"type": "object", "nullable": True},
                        "reports": {"type": "integer"},
                    },
                },
            }
        },
    },
}
