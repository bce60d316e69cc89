"""Deadline arithmetic: every due date and final state of the SLA clock is computed here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handoff_service.core.tiers import Tier

from .states import BREACHED, MET, PENDING, WARNING


def opening_dues(tier: Tier, opened_at: datetime) -> dict[str, datetime]:
    """The deadlines that start when a case is opened."""
    return {"first_response_due": opened_at + tier.first_response, "result_due": opened_at + tier.result}


def follow_up_due(tier: Tier, resolved_at: datetime) -> datetime:
    return resolved_at + tier.follow_up


def done_state(state: str, at: datetime, due: datetime | None) -> str:
    """Final state of a deadline when its step is done at `at`."""
    if state == BREACHED or (due is not None and at > due):
        return BREACHED
    return MET


def new_cycle(tier: Tier, reopened_at: datetime) -> dict[str, Any]:
    """A reopened case starts a new care cycle: a fresh result deadline for its tier, and the
    follow-up deadline waits for the next resolution. (A breach of an earlier cycle stays on
    its timeline.)"""
    return {
        "result_due": reopened_at + tier.result,
        "sla_result": PENDING,
        "follow_up_due": None,
        "sla_follow_up": PENDING,
    }


def retiered(tier: Tier, row: Any) -> dict[str, Any]:
    """Column values for moving a case to another tier: its deadlines recomputed
    from when they started, warnings re-evaluated against the new deadlines."""
    values: dict[str, Any] = {"tier": tier.name, "tier_rank": tier.rank, **opening_dues(tier, row.created_at)}
    for col in ("sla_first_response", "sla_result", "sla_follow_up"):
        if getattr(row, col) == WARNING:
            values[col] = PENDING
    if row.resolved_at is not None and row.follow_up_due is not None:
        values["follow_up_due"] = follow_up_due(tier, row.resolved_at)
    return values
