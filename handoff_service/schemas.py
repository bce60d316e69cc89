"""JSON schemas (OpenAPI 3.0 subset): request bodies are validated against these,
and the OpenAPI document is built from them."""

from __future__ import annotations

from typing import Any, cast

from handoff_service.board import views as board_views
from handoff_service.cases.states import ACTOR_KINDS, STATUSES
from handoff_service.core.validation import text
from handoff_service.delivery import states as delivery_states
from handoff_service.followups import states as follow_up_states
from handoff_service.messages.service import AGENT, CUSTOMER
from handoff_service.metrics import views as metrics_views
from handoff_service.outages import views as outage_views
from handoff_service.review import states as review_states
from handoff_service.sla.states import STATES as SLA_STATES
from handoff_service.staffing import views as staffing_views

# features that keep their request and response schemas beside their routes (BODIES, RESPONSES)
FEATURE_VIEWS = (outage_views, board_views, staffing_views, metrics_views)

REPORT_CHARS = 16_000  # an evaluation report's Markdown (bot.training evaluate --publish shortens it to fit)
TEXT = text(1, 4000, nonblank=True)
SHORT = text(1, 64)
NAME = {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$"}
NOTE = text(0, 2000, nullable=True)
LIKERT = {"type": "integer", "minimum": 1, "maximum": 5}
FREE_OBJECT = {"type": "object", "maxProperties": 50}
LANGUAGE = {"type": "string", "pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", "maxLength": 16}
IDEMPOTENCY_KEY = text(
    1, 128, description="The caller's key for this request; a retry with the same key does not repeat it."
)
ACTION_PATTERN = r"^[a-z][a-z0-9_.]{0,63}$"


def obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False, **extra}
    if required:
        s["required"] = required
    return s


def build_bodies(tier_names: list[str]) -> dict[str, dict[str, Any]]:
    tier = {"type": "string", "enum": tier_names}
    return {
        "ReviewLabel": obj(
            {
                "label": {"type": "string", "pattern": r"^[A-Za-z0-9_/.-]{1,128}$", "description": "the intent meant"},
                "comment": text(0, 2000),
            },
            ["label"],
        ),
        "ReviewFlag": obj({"comment": TEXT}, ["comment"]),
        "ReviewReportNew": obj(
            {
                "title": text(1, 200, nonblank=True),
                "passed": {"type": "boolean"},
                "markdown": text(1, REPORT_CHARS, nonblank=True),
            },
            ["title", "passed", "markdown"],
        ),
        "ReviewCorrection": obj(
            {
                "text": TEXT,
                "at": {"type": "string", "format": "date-time", "nullable": True, "maxLength": 40},
                "intent": {"type": "string", "pattern": r"^[A-Za-z0-9_/.-]{1,128}$", "description": "the intent meant"},
            },
            ["text", "intent"],
        ),
        "LoginRequest": obj(
            {"username": text(1, 64), "password": text(1, 1024)},
            ["username", "password"],
        ),
        "CreateCase": obj(
            {
                "channel": SHORT,
                "conversation_id": text(1, 128),
                "language": LANGUAGE,
                "category": SHORT,
                "tier": tier,
                "description": text(0, 4000),
                "links": {
                    "type": "array",
                    "maxItems": 20,
                    "items": obj({"rel": SHORT, "href": text(1, 500)}, ["rel", "href"]),
                },
                "outage_notice": text(1, 64, nullable=True),
                "idempotency_key": IDEMPOTENCY_KEY,
            },
            ["channel", "conversation_id", "language", "category"],
        ),
        "UpdateCase": obj(
            {"category": SHORT, "description": text(0, 4000), "tier": tier, "language": LANGUAGE},
            minProperties=1,
            description="At least one field. The bot may only raise the tier (to a more urgent one).",
        ),
        "TimelineEntry": obj(
            {
                "action": {"type": "string", "pattern": ACTION_PATTERN},
                "details": FREE_OBJECT,
                "idempotency_key": IDEMPOTENCY_KEY,
            },
            ["action"],
        ),
        "HandoffRequest": obj(
            {
                "summary": obj(
                    {
                        "problem": TEXT,
                        "collected": FREE_OBJECT,
                        "steps_tried": {"type": "array", "maxItems": 50, "items": text(0, 500)},
                        "emotion": text(0, 32),
                        "severity": text(0, 32),
                        "reason": text(0, 64),
                    },
                    ["problem"],
                ),
                "tier": tier,
            },
            ["summary"],
        ),
        "CustomerMessage": obj({"text": TEXT, "metadata": FREE_OBJECT}, ["text"]),
        "Csat": obj(
            {
                "overall": LIKERT,
                "attitude": LIKERT,
                "speed": LIKERT,
                "solved": LIKERT,
                "comment": text(0, 2000, nullable=True),
            },
            ["overall"],
        ),
        # rating: the service, 1-5, kept when the survey was not answered
        "FollowUp": obj({"solved": {"type": "boolean"}, "comment": NOTE, "rating": LIKERT}, ["solved"]),
        "FollowUpNoAnswer": obj({"comment": NOTE}),
        "Resolve": obj({"result": TEXT}, ["result"]),
        "Transfer": obj(
            {"to_agent": NAME, "to_team": NAME, "note": NOTE},
            description="Exactly one of to_agent or to_team.",
            oneOf=[{"required": ["to_agent"]}, {"required": ["to_team"]}],
            **cast(
                dict[str, Any],
                {
                    "x-oneOf-message": "give exactly one of to_agent or to_team",
                    "x-error-code": "invalid_transfer_target",
                },
            ),
        ),
        "Reason": obj({"reason": NOTE}),
        "Note": obj({"note": NOTE}),
        "TierChange": obj({"tier": tier, "reason": NOTE}, ["tier"]),
        "Reply": obj({"text": TEXT}, ["text"]),
        "PrivateNote": obj({"text": TEXT}, ["text"]),
        "PhrasingCheck": obj({"text": text(0, 4000)}, ["text"]),
        **{name: schema for views in FEATURE_VIEWS for name, schema in views.BODIES.items()},
    }


USER = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "username": {"type": "string"},
        "display_name": {"type": "string"},
        "role": {"type": "string"},
        "team": {"type": "string", "nullable": True},
    },
}
USER_REF = {
    "type": "object",
    "nullable": True,
    "properties": {"id": {"type": "integer"}, "username": {"type": "string"}, "display_name": {"type": "string"}},
}
DEADLINE = {
    "type": "object",
    "properties": {"due": {"type": "string", "nullable": True}, "state": {"type": "string", "enum": list(SLA_STATES)}},
}

RESPONSES: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {"type": "object"},
                },
            }
        },
    },
    "User": USER,
    "Case": {
        "type": "object",
        "required": ["id", "number", "status", "owner", "handler", "sla"],
        "properties": {
            "id": {"type": "integer"},
            "number": {"type": "string"},
            "channel": {"type": "string"},
            "conversation_id": {"type": "string"},
            "language": {"type": "string"},
            "category": {"type": "string"},
            "tier": {"type": "string"},
            "description": {"type": "string"},
            "summary": {"type": "object", "nullable": True},
            "result": {"type": "string", "nullable": True},
            "status": {"type": "string", "enum": list(STATUSES)},
            "allowed_actions": {"type": "array", "items": {"type": "string"}},
            "my_actions": {
                "type": "array",
                "items": {"type": "string"},
                "description": "What the calling staff member may do on the case now (staff routes only)",
            },
            "owner": USER_REF,
            "handler": USER_REF,
            "handler_team": {"type": "string", "nullable": True},
            "links": {"type": "array"},
            "outage_notice": {"type": "string", "nullable": True},
            "reopen_count": {"type": "integer"},
            "version": {"type": "integer"},
            "sla": {
                "type": "object",
                "properties": {"first_response": DEADLINE, "result": DEADLINE, "follow_up": DEADLINE},
            },
            "csat": {"type": "object", "nullable": True},
            "idempotency_key": {"type": "string", "nullable": True},
        },
    },
    "FollowUpVisit": {
        "type": "object",
        "required": ["id", "state", "due_at", "attempts", "case"],
        "properties": {
            "id": {"type": "integer"},
            "state": {"type": "string", "enum": list(follow_up_states.STATES)},
            "cycle": {"type": "integer"},
            "due_at": {"type": "string"},
            "attempts": {"type": "integer"},
            "sent_at": {"type": "string", "nullable": True},
            "answered_at": {"type": "string", "nullable": True},
            "answer_channel": {"type": "string", "nullable": True},
            "answered_by": USER_REF,
            "rating": {"type": "integer", "nullable": True},
            "comment": {"type": "string", "nullable": True},
            "cancel_reason": {"type": "string", "nullable": True},
            "case": {"type": "object"},
        },
    },
    "CaseCard": {
        "type": "object",
        "required": ["id", "number", "status"],
        "properties": {
            "id": {"type": "integer"},
            "number": {"type": "string"},
            "status": {"type": "string"},
            "tier": {"type": "string"},
            "owner": USER_REF,
            "handler": USER_REF,
            "position": {"type": "integer"},
        },
    },
    "TimelineItem": {
        "type": "object",
        "required": ["id", "at", "actor_kind", "action"],
        "properties": {
            "id": {"type": "integer"},
            "at": {"type": "string"},
            "actor_kind": {"type": "string", "enum": list(ACTOR_KINDS)},
            "actor_id": {"type": "string", "nullable": True},
            "action": {"type": "string"},
            "status_from": {"type": "string", "nullable": True},
            "status_to": {"type": "string", "nullable": True},
            "owner": USER_REF,
            "handler": USER_REF,
            "details": {"type": "object"},
        },
    },
    "PrivateNoteItem": {
        "type": "object",
        "required": ["id", "at", "text"],
        "properties": {
            "id": {"type": "integer"},
            "case_id": {"type": "integer"},
            "at": {"type": "string"},
            "author": USER_REF,
            "text": {"type": "string"},
        },
    },
    "Transcript": {
        "type": "object",
        "required": ["case", "rasa", "items"],
        "properties": {
            "case": {"type": "string"},
            "conversation_id": {"type": "string"},
            "rasa": {
                "type": "object",
                "properties": {"available": {"type": "boolean"}, "error": {"type": "string", "nullable": True}},
            },
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["source", "kind", "text"],
                    "properties": {
                        "source": {"type": "string", "enum": ["rasa", "case"]},
                        "kind": {"type": "string", "enum": ["customer", "bot", "agent"]},
                        "text": {"type": "string"},
                        "at": {"type": "string", "nullable": True},
                        "message_id": {"type": "integer"},
                        "author": USER_REF,
                        "delivery": {"type": "object", "nullable": True},
                    },
                },
            },
        },
    },
    "Phrasing": {
        "type": "object",
        "required": ["standard", "taboo"],
        "properties": {
            "standard": {
                "type": "array",
                "items": {"type": "object", "properties": {"group": {"type": "string"}, "phrases": {"type": "object"}}},
            },
            "taboo": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "category": {"type": "string"},
                        "language": {"type": "string"},
                        "phrases": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    },
    "PhrasingCheckResult": {
        "type": "object",
        "required": ["taboos"],
        "properties": {
            "taboos": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"category": {"type": "string"}, "phrase": {"type": "string"}},
                },
            }
        },
    },
    "Message": {
        "type": "object",
        "required": ["id", "direction", "text"],
        "properties": {
            "id": {"type": "integer"},
            "case": {"type": "string"},
            "direction": {"type": "string", "enum": [CUSTOMER, AGENT]},
            "text": {"type": "string"},
            "author": USER_REF,
            "created_at": {"type": "string"},
            "delivery": {
                "type": "object",
                "nullable": True,
                "properties": {
                    "status": {"type": "string", "enum": list(delivery_states.STATES)},
                    "attempts": {"type": "integer"},
                    "idempotency_key": {"type": "string"},
                    "last_error": {"type": "string", "nullable": True},
                },
            },
        },
    },
    "ReviewItem": {
        "type": "object",
        "required": ["id", "text", "status", "reasons", "count"],
        "properties": {
            "id": {"type": "integer"},
            "text": {"type": "string", "description": "personal data masked"},
            "language": {"type": "string", "nullable": True},
            "script": {"type": "string", "nullable": True},
            "status": {"type": "string", "enum": list(review_states.STATUSES)},
            "reasons": {"type": "array", "items": {"type": "string", "enum": list(review_states.REASONS)}},
            "intents": {"type": "array", "items": {"type": "object"}},
            "top_intent": {"type": "string", "nullable": True},
            "top_confidence": {"type": "number", "nullable": True},
            "channel": {"type": "string", "nullable": True},
            "count": {"type": "integer"},
            "first_seen_at": {"type": "string"},
            "last_seen_at": {"type": "string"},
            "label": {"type": "string", "nullable": True},
            "comment": {"type": "string", "nullable": True},
            "reviewed_at": {"type": "string", "nullable": True},
            "suggested_label": {"type": "string", "nullable": True, "description": "an agent's correction"},
        },
    },
    **{name: schema for views in FEATURE_VIEWS for name, schema in views.RESPONSES.items()},
}
