"""handoff_service's routes on Rasa's server, under a credential of their own.

handoff_service needs these things of Rasa: read a conversation's events (the transcript, and the
check for steps already delivered), append an agent's reply or the `handoff_active` slot to a
conversation, trigger an `EXTERNAL_*` intent on it (the bot takes the conversation back), and, for
the trainers' review list, read the customer messages recorded since a point (with what the model
made of them and the action that answered) and the intents the loaded model knows.
Rasa's HTTP API does that only under its one token, which also loads and replaces models and
reads or rewrites every conversation. These routes do exactly those things, as Rasa's own
`/conversations/<id>/tracker`, `/tracker/events` and `/trigger_intent` handlers do them, for a
bearer token (`Authorization: Bearer …`, compared in constant time) that reaches nothing else; the
token is never in a URL.

    GET  /handoff/conversations/<id>/tracker         → {"sender_id", "events"}  (all events)
    POST /handoff/conversations/<id>/tracker/events  [bot events (text, metadata) | handoff_active slot events]
    POST /handoff/conversations/<id>/trigger_intent  {"name": "EXTERNAL_…", "entities": {name: value}}
    GET  /handoff/conversations/<id>/reachable       → {"reachable": bool, "channel"}  (a message sent now arrives)
    GET  /handoff/review/events?after=<id>&limit=<n>  → {"events": [user or action record], "next_after"}
    GET  /handoff/intents                            → {"intents": [intent or retrieval intent "faq/…"]}

The review feed reads the SQL tracker store's `events` table in id order, in a worker thread (the
event loop that answers customers never waits for it), and sends only what the review list uses: a
user message's text, channel, language, script, input issue and top intents, an action's name.

What is posted runs its side effects on the conversation's latest input channel (the customer sees
an agent's reply). Bad input gets a 4xx JSON answer `{"error": code, "message": …}`.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

PREFIX = "/handoff/conversations"
EXTERNAL_PREFIX = "EXTERNAL_"
# what handoff_service may set: the handoff switch (delivery/service.py), nothing else
HANDOFF_SLOTS = frozenset({"handoff_active"})
BOT_EVENT_KEYS = frozenset({"event", "text", "metadata", "timestamp"})
SLOT_EVENT_KEYS = frozenset({"event", "name", "value", "metadata", "timestamp"})
MAX_BODY_BYTES = 64 * 1024
MAX_TEXT = 4000
MAX_EVENTS = 20
MAX_ENTITY_VALUE = 200
MAX_FEED = 1000  # records per review-feed page
# Rasa's own intents a customer message is never labelled with (out_of_scope is a real label here)
NOT_LABELS = frozenset({"nlu_fallback", "restart", "back", "session_start"})
FEED_RANKING = 4  # intents kept per user message (the review list shows three, beside nlu_fallback)


class Refused(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


# ---------------------------------------------------------------- checks (no Rasa needed)


def authorised(headers: Mapping[str, str], token: str) -> bool:
    scheme, _, given = headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def json_body(headers: Mapping[str, str], body: bytes) -> Any:
    content_type = headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise Refused(415, "unsupported_media_type", "the body must be application/json")
    if len(body) > MAX_BODY_BYTES:
        raise Refused(413, "body_too_large", f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(body)
    except ValueError:
        raise Refused(400, "bad_json", "the body is not valid JSON") from None


def checked_events(body: Any) -> list[dict[str, Any]]:
    """The events handoff_service sends: bot messages (text and metadata only: no buttons, no
    attachments) and the handoff_active slot. Anything else is refused, all or nothing."""
    if not isinstance(body, list) or not body:
        raise Refused(400, "bad_events", "the body must be a non-empty list of events")
    if len(body) > MAX_EVENTS:
        raise Refused(400, "bad_events", f"at most {MAX_EVENTS} events at once")
    for i, event in enumerate(body):
        if not isinstance(event, dict):
            raise Refused(400, "bad_events", f"event {i} is not an object")
        kind = event.get("event")
        metadata = event.get("metadata", {})
        if not isinstance(metadata, dict):
            raise Refused(400, "bad_events", f"event {i}: metadata must be an object")
        if kind == "bot":
            extra = set(event) - BOT_EVENT_KEYS
            text = event.get("text")
            if extra:
                raise Refused(
                    400, "bad_events", f"event {i}: a bot event may carry text and metadata only, not {sorted(extra)}"
                )
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
                raise Refused(400, "bad_events", f"event {i}: text must be 1 to {MAX_TEXT} characters")
        elif kind == "slot":
            extra = set(event) - SLOT_EVENT_KEYS
            if extra:
                raise Refused(400, "bad_events", f"event {i}: unexpected fields {sorted(extra)}")
            if event.get("name") not in HANDOFF_SLOTS:
                raise Refused(400, "bad_events", f"event {i}: only the slots {sorted(HANDOFF_SLOTS)} may be set")
            if not isinstance(event.get("value"), bool):
                raise Refused(400, "bad_events", f"event {i}: the value must be true or false")
        else:
            raise Refused(400, "bad_events", f"event {i}: only bot and slot events may be appended, not {kind!r}")
    return body


def checked_intent(body: Any, domain_intents: list[str]) -> tuple[str, dict[str, Any]]:
    if not isinstance(body, dict):
        raise Refused(400, "bad_intent", 'the body must be {"name": "EXTERNAL_…", "entities": {…}}')
    name, entities = body.get("name"), body.get("entities", {})
    if not isinstance(name, str) or not name:
        raise Refused(400, "bad_intent", "name: the intent to trigger is missing")
    if not name.startswith(EXTERNAL_PREFIX) or name == EXTERNAL_PREFIX:
        raise Refused(403, "intent_not_allowed", f"only {EXTERNAL_PREFIX}* intents may be triggered, not {name!r}")
    if name not in domain_intents:
        raise Refused(404, "unknown_intent", f"the intent {name!r} is not in the domain")
    if not isinstance(entities, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, (str, int, float, bool))) and len(str(v)) <= MAX_ENTITY_VALUE
        for k, v in entities.items()
    ):
        raise Refused(
            400, "bad_intent", f"entities must be an object of short values (at most {MAX_ENTITY_VALUE} characters)"
        )
    return name, entities


# ---------------------------------------------------------------- the routes


def output_channel(app: Any, tracker: Any) -> Any:
    """The conversation's latest input channel (as `?output_channel=latest` in Rasa's API), else a
    collecting one."""
    from rasa.core.channels.channel import CollectingOutputChannel

    latest = tracker.get_latest_input_channel() if tracker is not None else None
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == latest and (out := channel.get_output_channel()) is not None:
            return out
    return CollectingOutputChannel()


async def read_tracker(app: Any, conversation_id: str, _body: Any) -> dict[str, Any]:
    from rasa.shared.core.trackers import EventVerbosity

    agent = app.ctx.agent
    tracker = await agent.processor.fetch_full_tracker_with_initial_session(conversation_id)
    return {"sender_id": conversation_id, "events": tracker.current_state(EventVerbosity.ALL)["events"]}


async def append_events(app: Any, conversation_id: str, body: Any) -> dict[str, Any]:
    from rasa.server import update_conversation_with_events
    from rasa.shared.core.events import Event

    agent = app.ctx.agent
    events = [Event.from_parameters(event) for event in checked_events(body)]
    async with agent.lock_store.lock(conversation_id):
        tracker = await update_conversation_with_events(conversation_id, agent.processor, agent.domain, events)
        await agent.processor.execute_side_effects(events, tracker, output_channel(app, tracker))
        await agent.tracker_store.save(tracker)
    return {"sender_id": conversation_id, "appended": len(events)}


async def trigger_intent(app: Any, conversation_id: str, body: Any) -> dict[str, Any]:
    agent = app.ctx.agent
    name, entities = checked_intent(body, list(agent.domain.intents))
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.processor.fetch_tracker_and_update_session(conversation_id)
        await agent.trigger_intent(
            intent_name=name, entities=entities, output_channel=output_channel(app, tracker), tracker=tracker
        )
    return {"sender_id": conversation_id, "triggered": name}


async def reachable(app: Any, conversation_id: str, _body: Any) -> dict[str, Any]:
    """Whether a message sent to the conversation now reaches the customer: its latest input
    channel says so (`reaches`: the widget's socket is connected, a messaging gateway takes pushes);
    a channel that cannot push (REST answers only the request) never does."""
    tracker = await app.ctx.agent.tracker_store.retrieve(conversation_id)
    latest = tracker.get_latest_input_channel() if tracker is not None else None
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == latest:
            reaches = getattr(channel, "reaches", None)
            return {"reachable": bool(reaches and reaches(conversation_id)), "channel": latest}
    return {"reachable": False, "channel": latest}


ROUTES = (
    ("GET", "tracker", read_tracker, "handoff_bridge_tracker"),
    ("GET", "reachable", reachable, "handoff_bridge_reachable"),
    ("POST", "tracker/events", append_events, "handoff_bridge_events"),
    ("POST", "trigger_intent", trigger_intent, "handoff_bridge_trigger_intent"),
)


# ---------------------------------------------------------------- the review feed


def feed_page(args: Mapping[str, Any]) -> tuple[int, int]:
    """(after, limit) of a review-feed request; 400 for anything but small non-negative integers."""

    def number(name: str, default: int, high: int) -> int:
        raw = args.get(name)
        raw = raw[0] if isinstance(raw, list) else raw
        if raw is None or raw == "":
            return default
        if not isinstance(raw, str) or not raw.isdigit() or len(raw) > 18 or int(raw) > high:
            raise Refused(400, "bad_query", f"{name} must be an integer from 0 to {high}")
        return int(raw)

    return number("after", 0, 2**62), max(1, number("limit", 500, MAX_FEED))


def feed_record(row: Any) -> dict[str, Any] | None:
    """What the review list needs of one row of the tracker store's events table (id, sender_id,
    type_name, timestamp, action_name, data as JSON text)."""
    base = {"id": int(row.id), "sender_id": row.sender_id, "timestamp": row.timestamp}
    if row.type_name == "action":
        return {**base, "type": "action", "name": row.action_name}
    try:
        data = json.loads(row.data or "{}")
    except ValueError:
        return None
    parse = data.get("parse_data") if isinstance(data.get("parse_data"), dict) else {}
    intent = parse.get("intent") if isinstance(parse.get("intent"), dict) else {}
    ranking = [
        {"name": i["name"], "confidence": float(i.get("confidence") or 0.0)}
        for i in parse.get("intent_ranking") or []
        if isinstance(i, dict) and isinstance(i.get("name"), str)
    ]
    full = intent.get("full_retrieval_intent_name")
    if isinstance(full, str) and ranking and ranking[0]["name"] == intent.get("name"):
        ranking[0]["name"] = full  # faq -> faq/shipping, the label a trainer would give
    text = data.get("text")
    return {
        **base,
        "type": "user",
        "text": text if isinstance(text, str) else "",
        "intent": intent.get("name"),
        "ranking": [i for i in ranking if i["name"] != "nlu_fallback"][:FEED_RANKING],
        "language": parse.get("language"),
        "script": parse.get("script"),
        "input_issue": parse.get("input_issue"),
        "channel": data.get("input_channel"),
    }


def sql_store(store: Any) -> Any:
    """The SQLTrackerStore inside Rasa's wrappers (AwaitableTrackerStore, FailSafeTrackerStore)."""
    for _ in range(4):
        if hasattr(store, "sessionmaker") and hasattr(store, "SQLEvent"):
            return store
        store = getattr(store, "_tracker_store", None)
    raise Refused(501, "no_sql_tracker_store", "the review feed needs Rasa's SQL tracker store (endpoints.yml)")


def read_feed(store: Any, after: int, limit: int) -> dict[str, Any]:
    """One page of user and action events after `after` (blocking: run it in a thread)."""
    event = store.SQLEvent
    with store.session_scope() as session:
        rows = (
            session.query(event.id, event.sender_id, event.type_name, event.timestamp, event.action_name, event.data)
            .filter(event.id > after, event.type_name.in_(("user", "action")))
            .order_by(event.id)
            .limit(limit)
            .all()
        )
    records = [r for r in (feed_record(row) for row in rows) if r is not None]
    return {"events": records, "next_after": int(rows[-1].id) if rows else after}


async def review_events(app: Any, args: Mapping[str, Any]) -> dict[str, Any]:
    import asyncio

    after, limit = feed_page(args)
    store = sql_store(app.ctx.agent.tracker_store)
    return await asyncio.get_running_loop().run_in_executor(None, read_feed, store, after, limit)


async def intents(app: Any, _args: Mapping[str, Any]) -> dict[str, Any]:
    """What a trainer may label a message with: the domain's intents (not `EXTERNAL_*`, not
    `nlu_fallback`) and each retrieval intent's answers (`faq/shipping`) instead of the bare `faq`."""
    domain = app.ctx.agent.domain
    retrieval = set(domain.retrieval_intents)
    names = {i for i in domain.intents if not i.startswith(EXTERNAL_PREFIX) and i not in NOT_LABELS | retrieval}
    for response in domain.responses:
        base, _, sub = response.removeprefix("utter_").partition("/")
        if sub and base in retrieval:
            names.add(f"{base}/{sub}")
    return {"intents": sorted(names)}


SERVICE_ROUTES = (
    ("/handoff/review/events", review_events, "handoff_bridge_review_events"),
    ("/handoff/intents", intents, "handoff_bridge_intents"),
)


async def handle(request: Any, token: str, run: Any) -> tuple[int, dict[str, Any]]:
    """(status, JSON body) of one bridge request; `run(app, body)` is the operation."""
    if not authorised(request.headers, token):
        return 401, {
            "error": "not_authenticated",
            "message": "a valid bridge token is required (Authorization: Bearer)",
        }
    try:
        body = json_body(request.headers, request.body or b"") if request.method == "POST" else None
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or not agent.is_ready():
            raise Refused(409, "no_agent", "no model is loaded yet")
        return 200, await run(request.app, body)
    except Refused as refused:
        return refused.status, {"error": refused.error, "message": refused.message}


def add_routes(app: Any, token: str) -> None:
    """Registers the bridge routes on Rasa's Sanic app."""
    from sanic import response

    def conversation_route(operation: Any) -> Any:
        async def handler(request: Any, conversation_id: str) -> Any:
            status, body = await handle(request, token, lambda app, body: operation(app, conversation_id, body))
            return response.json(body, status=status)

        return handler

    def service_route(operation: Any) -> Any:
        async def handler(request: Any) -> Any:
            status, body = await handle(request, token, lambda app, _body: operation(app, request.args))
            return response.json(body, status=status)

        return handler

    for method, suffix, operation, name in ROUTES:
        app.add_route(
            conversation_route(operation), f"{PREFIX}/<conversation_id:path>/{suffix}", methods=[method], name=name
        )
    for path, operation, name in SERVICE_ROUTES:
        app.add_route(service_route(operation), path, methods=["GET"], name=name)
