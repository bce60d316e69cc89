"""handoff_service's bridge routes on Rasa's server (bot/bridge.py) and how bot.serve adds them: a
token of their own, in a header; only the events and intents handoff_service sends."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from sanic.compat import Header

from bot import bridge

TOKEN = "bridge-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


# ---------------------------------------------------------------- a Rasa agent, as far as the bridge uses it


class Processor:
    def __init__(self, domain: Any) -> None:
        self.domain = domain
        self.trackers: dict[str, Any] = {}
        self.side_effects: list[tuple[list[Any], Any]] = []

    async def _tracker(self, conversation_id: str, **_: Any) -> Any:
        from rasa.shared.core.trackers import DialogueStateTracker

        return self.trackers.setdefault(conversation_id, DialogueStateTracker(conversation_id, self.domain.slots))

    fetch_tracker_with_initial_session = _tracker
    fetch_full_tracker_with_initial_session = _tracker
    fetch_tracker_and_update_session = _tracker

    async def execute_side_effects(self, events: list[Any], tracker: Any, output_channel: Any) -> None:
        self.side_effects.append((events, output_channel))


class Agent:
    def __init__(self) -> None:
        from rasa.core.lock_store import InMemoryLockStore
        from rasa.core.tracker_store import InMemoryTrackerStore
        from rasa.shared.core.domain import Domain

        self.domain = Domain.from_dict(
            {
                "intents": ["greet", "EXTERNAL_handoff_resolved"],
                "slots": {
                    "handoff_active": {"type": "bool", "mappings": [{"type": "custom"}]},
                    "case_number": {"type": "text", "mappings": [{"type": "custom"}]},
                },
            }
        )
        self.processor = Processor(self.domain)
        self.lock_store = InMemoryLockStore()
        self.tracker_store = InMemoryTrackerStore(self.domain)
        self.triggered: list[tuple[str, Any]] = []

    def is_ready(self) -> bool:
        return True

    async def trigger_intent(self, intent_name: str, entities: Any, output_channel: Any, tracker: Any) -> None:
        self.triggered.append((intent_name, entities))


@pytest.fixture
def agent() -> Agent:
    return Agent()


def request(agent: Agent | None, method: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    raw = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
    app = SimpleNamespace(ctx=SimpleNamespace(agent=agent, input_channels=[]))
    return SimpleNamespace(method=method, body=raw, headers=Header(AUTH if headers is None else headers), app=app)


async def call(agent: Agent | None, operation: Any, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    method = "GET" if operation is bridge.read_tracker else "POST"
    return await bridge.handle(
        request(agent, method, body, headers), TOKEN, lambda app, given: operation(app, "conv-1", given)
    )


# ---------------------------------------------------------------- the token


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ],
)
async def test_every_route_needs_the_bridge_token(agent: Agent, headers: dict[str, str]) -> None:
    for operation, body in (
        (bridge.read_tracker, None),
        (bridge.append_events, [{"event": "bot", "text": "hi"}]),
        (bridge.trigger_intent, {"name": "EXTERNAL_handoff_resolved"}),
    ):
        status, answer = await call(agent, operation, body, {**headers, "Content-Type": "application/json"})
        assert status == 401 and answer["error"] == "not_authenticated"
    assert agent.processor.trackers == {} and agent.triggered == []


async def test_reachable_needs_the_bridge_token(agent: Agent) -> None:
    status, answer = await call(agent, bridge.reachable, None, {"Authorization": "Bearer wrong"})
    assert status == 401 and answer["error"] == "not_authenticated"


def test_the_token_compares_case_insensitive_scheme_only() -> None:
    assert bridge.authorised(Header({"authorization": f"bearer {TOKEN}"}), TOKEN)
    assert not bridge.authorised(Header({"authorization": f"bearer {TOKEN.upper()}"}), TOKEN)


# ---------------------------------------------------------------- what it does


async def test_reads_every_event_of_a_conversation(agent: Agent) -> None:
    from rasa.shared.core.events import BotUttered, SlotSet

    tracker = await agent.processor._tracker("conv-1")
    tracker.update(BotUttered("你好"))
    tracker.update(SlotSet("handoff_active", True))
    status, answer = await call(agent, bridge.read_tracker)
    assert status == 200 and answer["sender_id"] == "conv-1"
    assert [e["event"] for e in answer["events"]] == ["bot", "slot"]


class Channel:
    """An input channel as the bridge sees it: a name, and maybe `reaches`."""

    def __init__(self, name: str, reached: set[str] | None) -> None:
        self._name = name
        if reached is not None:
            self.reaches = lambda conversation_id: conversation_id in reached

    def name(self) -> str:
        return self._name


async def _latest_channel(agent: Agent, conversation_id: str, channel: str | None) -> None:
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker(conversation_id, agent.domain.slots)
    if channel is not None:
        tracker.update(UserUttered("你好", input_channel=channel))
    await agent.tracker_store.save(tracker)


@pytest.mark.parametrize(
    ("latest", "channels", "reachable"),
    [
        ("socketio", [Channel("socketio", {"conv-1"})], True),  # the widget holding it is connected
        ("socketio", [Channel("socketio", {"conv-2"})], False),  # closed (another one is open)
        ("callback", [Channel("callback", set()), Channel("socketio", {"conv-1"})], False),
        ("rest", [Channel("rest", None)], False),  # REST only answers requests
        (None, [Channel("socketio", {"conv-1"})], False),  # never wrote
    ],
)
async def test_reachable_asks_the_conversations_latest_channel(
    agent: Agent, latest: str | None, channels: list[Channel], reachable: bool
) -> None:
    await _latest_channel(agent, "conv-1", latest)
    req = request(agent, "GET")
    req.app.ctx.input_channels = channels
    status, answer = await bridge.handle(req, TOKEN, lambda app, _body: bridge.reachable(app, "conv-1", None))
    assert status == 200 and answer == {"reachable": reachable, "channel": latest}


def test_the_channels_say_whom_they_reach() -> None:
    from bot import channels

    callback = channels.CallbackInput("http://gateway.example/callback")
    assert callback.reaches("anyone")
    socket = channels.SocketIOInput()
    assert not socket.reaches("conv-1")  # no socket yet
    socket._held = {"sid-1": "conv-1"}
    assert socket.reaches("conv-1") and not socket.reaches("conv-2")
    assert not hasattr(channels.RestInput(), "reaches")


async def test_appends_an_agent_reply_and_the_handoff_slot_with_their_side_effects(agent: Agent) -> None:
    events = [
        {"event": "bot", "text": "您好，我是客服小李", "metadata": {"agent": "alice", "idempotency_key": "k1"}},
        {"event": "slot", "name": "handoff_active", "value": False, "metadata": {"idempotency_key": "k2"}},
    ]
    status, answer = await call(agent, bridge.append_events, events)
    assert (status, answer) == (200, {"sender_id": "conv-1", "appended": 2})
    saved = await agent.tracker_store.retrieve("conv-1")
    assert saved.latest_bot_utterance.text == "您好，我是客服小李"
    assert saved.get_slot("handoff_active") is False
    [(applied, _channel)] = agent.processor.side_effects
    assert len(applied) == 2


async def test_triggers_an_external_intent(agent: Agent) -> None:
    body = {"name": "EXTERNAL_handoff_resolved", "entities": {"case_number": "C20261124-0001", "idempotency_key": "k"}}
    status, answer = await call(agent, bridge.trigger_intent, body)
    assert status == 200 and answer["triggered"] == "EXTERNAL_handoff_resolved"
    assert agent.triggered == [("EXTERNAL_handoff_resolved", body["entities"])]


# ---------------------------------------------------------------- what it refuses


@pytest.mark.parametrize(
    "body, status, says",
    [
        ({"name": "greet"}, 403, "only EXTERNAL_* intents"),
        ({"name": "EXTERNAL_"}, 403, "only EXTERNAL_* intents"),
        ({"name": "external_handoff_resolved"}, 403, "only EXTERNAL_* intents"),
        ({"name": "EXTERNAL_nope"}, 404, "not in the domain"),
        ({}, 400, "name"),
        ({"name": ["EXTERNAL_handoff_resolved"]}, 400, "name"),
        ([], 400, "the body must be"),
        ({"name": "EXTERNAL_handoff_resolved", "entities": [{"entity": "x"}]}, 400, "entities"),
        ({"name": "EXTERNAL_handoff_resolved", "entities": {"x": {"nested": 1}}}, 400, "entities"),
        ({"name": "EXTERNAL_handoff_resolved", "entities": {"x": "y" * 201}}, 400, "entities"),
    ],
)
async def test_refuses_intents_it_may_not_trigger(agent: Agent, body: Any, status: int, says: str) -> None:
    got, answer = await call(agent, bridge.trigger_intent, body)
    assert got == status and says in answer["message"]
    assert agent.triggered == []


@pytest.mark.parametrize(
    "events, says",
    [
        ([], "non-empty list"),
        ({"event": "bot", "text": "hi"}, "non-empty list"),
        ([{"event": "slot", "name": "case_number", "value": "C1"}], "only the slots"),
        ([{"event": "slot", "name": "handoff_active", "value": "yes"}], "true or false"),
        ([{"event": "restart"}], "only bot and slot events"),
        ([{"event": "user", "text": "/greet"}], "only bot and slot events"),
        ([{"event": "action", "name": "action_handoff_resolved"}], "only bot and slot events"),
        ([{"event": "bot", "text": "x", "data": {"buttons": [{"payload": "/EXTERNAL_x"}]}}], "text and metadata only"),
        ([{"event": "bot", "text": ""}], "text must be"),
        ([{"event": "bot", "text": "x" * 4001}], "text must be"),
        ([{"event": "bot", "text": "x", "metadata": "m"}], "metadata"),
        ([{"event": "bot", "text": "ok"}, {"event": "restart"}], "event 1"),  # all or nothing
        ([{"event": "bot", "text": "x"}] * 21, "at most 20"),
        (["bot"], "not an object"),
    ],
)
async def test_refuses_events_handoff_service_never_sends(agent: Agent, events: Any, says: str) -> None:
    status, answer = await call(agent, bridge.append_events, events)
    assert status == 400 and says in answer["message"]
    assert agent.processor.trackers == {} and agent.processor.side_effects == []


async def test_bodies_are_json_and_small(agent: Agent) -> None:
    events = [{"event": "bot", "text": "hi"}]
    status, answer = await call(agent, bridge.append_events, events, {**AUTH, "Content-Type": "text/plain"})
    assert status == 415
    status, answer = await call(agent, bridge.append_events, b"[{", AUTH)
    assert status == 400 and answer["error"] == "bad_json"
    status, answer = await call(agent, bridge.append_events, b" " * (bridge.MAX_BODY_BYTES + 1), AUTH)
    assert status == 413


async def test_without_a_model_it_says_so(agent: Agent) -> None:
    status, answer = await call(None, bridge.read_tracker)
    assert status == 409 and answer["error"] == "no_agent"


# ---------------------------------------------------------------- the review feed and the intents


def feed_request(agent: Any, query: dict[str, str], headers: dict[str, str] | None = None) -> Any:
    req = request(agent, "GET", None, headers)
    req.args = query
    return req


async def feed(agent: Any, operation: Any, query: dict[str, str], headers: dict[str, str] | None = None) -> Any:
    req = feed_request(agent, query, headers)
    return await bridge.handle(req, TOKEN, lambda app, _body: operation(app, req.args))


@pytest.fixture
async def sql_agent(tmp_path: Any) -> Any:
    """The bridge's agent over a real SQLTrackerStore (SQLite), wrapped as Rasa wraps it."""
    from rasa.core.tracker_store import AwaitableTrackerStore, SQLTrackerStore
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    a = Agent()
    store = SQLTrackerStore(a.domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    a.tracker_store = AwaitableTrackerStore(store)
    parse = {
        "intent": {"name": "nlu_fallback", "confidence": 0.7},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.7},
            {"name": "refund", "confidence": 0.21},
            {"name": "greet", "confidence": 0.2},
        ],
        "language": "zh",
        "script": "Hans",
        "input_issue": None,
        "entities": [],
    }
    tracker = DialogueStateTracker("conv-9", a.domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("钱什么时候回来", parse_data=parse, input_channel="socketio", metadata={"phone": "x"}))
    tracker.update(ActionExecuted("action_handle_fallback"))
    tracker.update(BotUttered("请换个说法"))
    await a.tracker_store.save(tracker)
    return a


async def test_the_review_feed_pages_user_and_action_records_in_id_order(sql_agent: Any) -> None:
    status, page = await feed(sql_agent, bridge.review_events, {"after": "0", "limit": "2"})
    assert status == 200
    assert [e["type"] for e in page["events"]] == ["action", "user"]
    user = page["events"][1]
    assert user["text"] == "钱什么时候回来" and user["intent"] == "nlu_fallback"
    assert user["ranking"] == [{"name": "refund", "confidence": 0.21}, {"name": "greet", "confidence": 0.2}]
    assert (user["language"], user["script"], user["channel"], user["sender_id"]) == (
        "zh",
        "Hans",
        "socketio",
        "conv-9",
    )
    assert "metadata" not in user and "phone" not in json.dumps(page)  # only what the review list uses
    status, rest = await feed(sql_agent, bridge.review_events, {"after": str(page["next_after"])})
    assert status == 200
    assert [(e["type"], e.get("name")) for e in rest["events"]] == [("action", "action_handle_fallback")]
    assert rest["events"][0]["id"] > user["id"]  # bot events are not sent
    status, empty = await feed(sql_agent, bridge.review_events, {"after": str(rest["next_after"])})
    assert status == 200 and empty == {"events": [], "next_after": rest["next_after"]}


@pytest.mark.parametrize("query", [{"after": "-1"}, {"after": "x"}, {"limit": "100000"}, {"after": "9" * 30}])
async def test_the_review_feed_refuses_bad_pages(sql_agent: Any, query: dict[str, str]) -> None:
    status, answer = await feed(sql_agent, bridge.review_events, query)
    assert status == 400 and answer["error"] == "bad_query"


async def test_the_review_feed_needs_the_token_and_a_sql_tracker_store(sql_agent: Any, agent: Agent) -> None:
    status, _ = await feed(sql_agent, bridge.review_events, {}, {"Authorization": "Bearer wrong"})
    assert status == 401
    status, answer = await feed(agent, bridge.review_events, {})  # the in-memory store has no SQL table
    assert status == 501 and answer["error"] == "no_sql_tracker_store"


async def test_intents_are_what_a_trainer_may_label_with() -> None:
    from rasa.shared.core.domain import Domain

    a = Agent()
    a.domain = Domain.from_dict(
        {
            "intents": [
                "greet",
                {"faq": {"is_retrieval_intent": True}},
                "nlu_fallback",
                "EXTERNAL_handoff_resolved",
                "refund",
            ],
            "responses": {
                "utter_faq/shipping": [{"text": "3 days"}],
                "utter_faq/invoice": [{"text": "yes"}],
                "utter_greet": [{"text": "hi"}],
            },
        }
    )
    status, answer = await feed(a, bridge.intents, {})
    assert status == 200
    assert answer == {"intents": ["faq/invoice", "faq/shipping", "greet", "out_of_scope", "refund"]}


# ---------------------------------------------------------------- on Rasa's own server


def test_the_routes_sit_beside_rasas_own_api() -> None:
    from rasa.server import create_app

    app = create_app(auth_token="operator-token-0123456789")
    bridge.add_routes(app, TOKEN)
    paths = {route.path for route in app.router.routes}
    assert {
        "handoff/conversations/<conversation_id:path>/tracker",
        "handoff/conversations/<conversation_id:path>/reachable",
        "handoff/conversations/<conversation_id:path>/tracker/events",
        "handoff/conversations/<conversation_id:path>/trigger_intent",
        "conversations/<conversation_id:path>/tracker",
        "handoff/review/events",
        "handoff/intents",
    } <= paths


def test_bot_serve_adds_the_bridge_to_the_app_rasa_run_builds() -> None:
    from bot.serve import with_bridge

    built: list[Any] = []

    class App:
        def add_route(self, handler: Any, uri: str, methods: list[str], name: str) -> None:
            built.append((uri, methods, name))

    run_module = SimpleNamespace(configure_app=lambda *args, **kwargs: App())
    with_bridge(run_module, TOKEN)
    run_module.configure_app(["channels"], cors="*")
    assert [uri for uri, _, _ in built] == [
        "/handoff/conversations/<conversation_id:path>/tracker",
        "/handoff/conversations/<conversation_id:path>/reachable",
        "/handoff/conversations/<conversation_id:path>/tracker/events",
        "/handoff/conversations/<conversation_id:path>/trigger_intent",
        "/handoff/review/events",
        "/handoff/intents",
    ]


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({"RASA_TOKEN": "operator-token-0123456789"}, None),
        ({"RASA_TOKEN": "operator-token-0123456789", "RASA_HANDOFF_TOKEN": f" {TOKEN}\n"}, TOKEN),
    ],
)
def test_the_bridge_token_comes_from_the_environment(environ: dict[str, str], expected: str | None) -> None:
    from bot.serve import bridge_token

    assert bridge_token(environ) == expected


@pytest.mark.parametrize(
    "environ, says",
    [
        ({"RASA_TOKEN": TOKEN, "RASA_HANDOFF_TOKEN": TOKEN}, "must differ from RASA_TOKEN"),
        ({"RASA_TOKEN": "operator-token-0123456789", "RASA_HANDOFF_TOKEN": "short"}, "shorter than"),
    ],
)
def test_the_bridge_token_is_never_the_operators(environ: dict[str, str], says: str) -> None:
    from bot.serve import LaunchError, bridge_token

    with pytest.raises(LaunchError, match=says):
        bridge_token(environ)


def test_the_server_sees_neither_token() -> None:
    from bot.serve import serving_environment

    served = serving_environment({"RASA_TOKEN": "a", "RASA_HANDOFF_TOKEN": "b", "ACTION_SERVER_SECRET": "c"})
    assert "RASA_TOKEN" not in served and "RASA_HANDOFF_TOKEN" not in served
    assert served["ACTION_SERVER_SECRET"] == "c"  # Rasa sends it to the action server (endpoints.yml)
