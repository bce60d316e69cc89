"""Fixtures for action tests: a seeded demo store, trackers and a collecting dispatcher."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.clients.orders import DemoOrderStore

TODAY = dt.date(2026, 11, 24)
# owners in the demo store (actions/clients/demo_store_seed.yml) and the last four digits of their phones
ALICE = {"customer_id": "cust-1001"}  # 12345, 20001, 20002, 20004: phone ends 8001
BOB = {"customer_id": "cust-1002"}  # 20003, 20005, 20006: phone ends 9002
CAROL = {"customer_id": "cust-1003"}  # 20007 (phone ends 7003), 20008 (phone ends 0003)


def proved(*numbers: str) -> dict[str, Any]:
    """Slots of a conversation in which an anonymous customer proved these orders."""
    return {"verified_orders": list(numbers)}


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
        "verified_orders": [],
        "proof_failures": 0,
        "proof_asked_for": None,
    }
    all_slots.update(slots or {})
    return Tracker("test-user", all_slots, latest, events or [], False, None, {}, "action_listen")


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [message.get("response") for message in dispatcher.messages]
