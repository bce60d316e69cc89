"""Fixtures for action tests: a seeded demo store, trackers and a collecting dispatcher."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.clients.orders import DemoOrderStore

TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def store(tmp_path):
    return DemoOrderStore(tmp_path / "demo_store.db", today=TODAY)


@pytest.fixture
def dispatcher():
    return CollectingDispatcher()


def make_tracker(
    slots: dict[str, Any] | None = None,
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    text: str = "",
    events: list[dict[str, Any]] | None = None,
    **parse_extras: Any,
) -> Tracker:
    latest = {"intent": {"name": intent, "confidence": 0.9}, "entities": entities or [], "text": text, **parse_extras}
    all_slots = {
        "language": "zh",
        "script": "simplified",
        "order_number": None,
        "product": None,
        "cancel_check": None,
        "requested_slot": None,
    }
    all_slots.update(slots or {})
    return Tracker("test-user", all_slots, latest, events or [], False, None, {}, "action_listen")


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [message.get("response") for message in dispatcher.messages]
