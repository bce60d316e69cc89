"""Clients the actions talk to. Built lazily from the environment on first use; tests inject their own."""

from __future__ import annotations

from actions.clients.handoff import HandoffClient, handoff_client_from_env
from actions.clients.journal_retry import JournalRetrier
from actions.clients.orders import OrderBackend, order_backend_from_env

_order_backend: OrderBackend | None = None
_handoff_client: HandoffClient | None = None
_journal_retrier: JournalRetrier | None = None


def default_order_backend() -> OrderBackend:
    global _order_backend
    if _order_backend is None:
        _order_backend = order_backend_from_env()
    return _order_backend


def default_handoff_client() -> HandoffClient:
    global _handoff_client
    if _handoff_client is None:
        _handoff_client = handoff_client_from_env()
    return _handoff_client


def default_journal_retrier() -> JournalRetrier:
    global _journal_retrier
    if _journal_retrier is None:
        _journal_retrier = JournalRetrier()
    return _journal_retrier
