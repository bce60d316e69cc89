"""The OpenAPI 3.0 document, generated from every feature's route table and the
schemas, served with the health check."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from handoff_service import __version__
from handoff_service.core.deps import DEPS
from handoff_service.core.http import BOT, PUBLIC, SPECS, RouteSpec, RouteTable, json_response
from handoff_service.schemas import RESPONSES, build_bodies

routes = RouteTable()


@routes.get("/api/health", summary="Liveness check", tag="meta", auth=PUBLIC, response="Health")
async def health(request: web.Request) -> web.StreamResponse:
    return json_response({"status": "ok"})


@routes.get("/api/openapi.json", summary="This API's OpenAPI document", tag="meta", auth=PUBLIC)
async def openapi(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    return json_response(build_openapi(request.app[SPECS], deps.sla.names))


_REF = "#/components/schemas/"


def _list_of(key: str, item: str) -> dict[str, Any]:
    return {"type": "object", "required": [key], "properties": {key: {"type": "array", "items": {"$ref": _REF + item}}}}


WRAPPERS: dict[str, dict[str, Any]] = {
    "Health": {"type": "object", "properties": {"status": {"type": "string"}}},
    "Login": {
        "type": "object",
        "required": ["user", "csrf_token"],
        "properties": {
            "user": {"$ref": _REF + "User"},
            "csrf_token": {"type": "string"},
            "expires_at": {"type": "string"},
        },
    },
    "UserList": _list_of("staff", "User"),
    "CaseCardList": _list_of("cases", "CaseCard"),
    "Timeline": _list_of("events", "TimelineItem"),
    "MessageList": _list_of("messages", "Message"),
    "AuditList": {"type": "object", "required": ["entries"], "properties": {"entries": {"type": "array"}}},
    "ReviewItemList": _list_of("items", "ReviewItem"),
    "ReviewKpis": {
        "type": "object",
        "required": ["backlog", "by_status", "labelled_per_day"],
        "properties": {
            "backlog": {"type": "integer"},
            "by_status": {"type": "object"},
            "labelled_per_day": {"type": "array", "items": {"type": "object"}},
            "median_hours_to_label": {"type": "number", "nullable": True},
            "zone": {"type": "string"},
            "fallback_rate": {"type": "array", "items": {"type": "object"}, "description": "per week and language"},
        },
    },
    "ReviewContext": {
        "type": "object",
        "required": ["conversation_id", "available", "turns", "cases"],
        "properties": {
            "conversation_id": {"type": "string"},
            "at": {"type": "string"},
            "available": {"type": "boolean"},
            "error": {"type": "string", "nullable": True},
            "turns": {"type": "array", "items": {"type": "object"}, "description": "5 before, the message, 5 after"},
            "cases": {"type": "array", "items": {"type": "object"}, "description": "those the caller may open"},
        },
    },
    "ReviewIntents": {
        "type": "object",
        "required": ["intents", "available"],
        "properties": {
            "intents": {"type": "array", "items": {"type": "string"}},
            "available": {"type": "boolean"},
            "error": {"type": "string", "nullable": True},
        },
    },
    "ReviewReport": {
        "type": "object",
        "required": ["id", "created_at", "title", "passed"],
        "properties": {
            "id": {"type": "integer"},
            "created_at": {"type": "string"},
            "created_by": {"type": "string", "nullable": True},
            "title": {"type": "string"},
            "passed": {"type": "boolean"},
            "markdown": {"type": "string", "description": "show as text: never rendered as HTML"},
        },
    },
    "ReviewReportList": _list_of("reports", "ReviewReport"),
    "ReviewCorrected": {
        "type": "object",
        "required": ["item_id", "status"],
        "properties": {"item_id": {"type": "integer"}, "status": {"type": "string"}},
    },
    "ReviewExport": {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {"type": "array", "items": {"type": "object"}},
            "next_after_id": {"type": "integer", "nullable": True},
        },
    },
    "ReviewVocabulary": {
        "type": "object",
        "required": ["reasons", "statuses", "actions"],
        "properties": {"reasons": {"type": "array"}, "statuses": {"type": "array"}, "actions": {"type": "object"}},
    },
    "FollowUpVocabulary": {
        "type": "object",
        "required": ["states", "open", "steps", "channels"],
        "properties": {
            "states": {"type": "array"},
            "open": {"type": "array"},
            "steps": {"type": "object"},
            "channels": {"type": "array"},
        },
    },
    "FollowUpList": _list_of("visits", "FollowUpVisit"),
    "FollowUpState": {
        "type": "object",
        "required": ["id", "state"],
        "properties": {"id": {"type": "integer"}, "state": {"type": "string"}},
    },
    "TimelineAck": {
        "type": "object",
        "properties": {"case": {"type": "string"}, "action": {"type": "string"}, "at": {"type": "string"}},
    },
    "HandoffAck": {
        "type": "object",
        "required": ["case", "queue_position", "agents_online"],
        "properties": {
            "case": {"$ref": _REF + "Case"},
            "queue_position": {"type": "integer"},
            "agents_online": {"type": "integer"},
            "first_response_due": {"type": "string"},
        },
    },
}

_ERROR_TEXT = {
    400: "Malformed JSON, a wrong type or a missing field",
    401: "Not authenticated",
    403: "Wrong role or token kind, CSRF failure, or not the case's handler",
    404: "Unknown id",
    409: "Not allowed in the case's current state",
    413: "Body too large",
    415: "Body is not JSON",
    429: "Too many attempts",
    503: "Rasa could not be read; try again",
}


def _operation(spec: RouteSpec) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": spec.operation_id, "summary": spec.summary, "tags": [spec.tag]}
    params = []
    for p in spec.path_params:
        params.append(
            {"name": p.name, "in": "path", "required": True, "description": p.description, "schema": p.schema}
        )
    for p in spec.query:
        params.append(
            {"name": p.name, "in": "query", "required": p.required, "description": p.description, "schema": p.schema}
        )
    if params:
        op["parameters"] = params
    if spec.body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": _REF + spec.body}}},
        }
    responses: dict[str, Any] = {}
    if spec.websocket:
        responses["101"] = {"description": "Switched to the websocket protocol; events are JSON text frames"}
    elif spec.status == 204:
        responses["204"] = {"description": "Done"}
    else:
        content = {
            "application/json": {"schema": {"$ref": _REF + spec.response} if spec.response else {"type": "object"}}
        }
        if spec.content_type != "application/json":
            content = {spec.content_type: {"schema": {"type": "string"}}}
        responses[str(spec.status)] = {"description": "Success", "content": content}
        for status, description in spec.also.items():
            responses[str(status)] = {"description": description, "content": content}
    for code in spec.errors:
        responses[str(code)] = {"$ref": f"#/components/responses/E{code}"}
    op["responses"] = responses
    if spec.auth == PUBLIC:
        op["security"] = []
    elif spec.auth == BOT:
        op["security"] = [{"botToken": []}]
    else:
        op["security"] = [{"staffToken": []}, {"sessionCookie": []}]
        op["x-roles"] = sorted(spec.auth)
    return op


def build_openapi(specs: list[RouteSpec], tier_names: list[str]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for spec in specs:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec)
    schemas: dict[str, Any] = {**build_bodies(tier_names), **RESPONSES, **WRAPPERS}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "handoff_service",
            "version": __version__,
            "description": (
                "Cases, queue, SLA and first-responder ownership. Errors are always "
                '{"error": {"code", "message"}}. Cookie-authenticated state-changing requests '
                "must send the X-CSRF-Token header (value from login)."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                f"E{code}": {
                    "description": text,
                    "content": {"application/json": {"schema": {"$ref": _REF + "Error"}}},
                }
                for code, text in _ERROR_TEXT.items()
            },
            "securitySchemes": {
                "staffToken": {"type": "http", "scheme": "bearer", "description": "Staff API token (create-token)"},
                "botToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Bot service token (create-token --bot)",
                },
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "handoff_session"},
            },
        },
    }
