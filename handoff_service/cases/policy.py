"""Who may do what on a case: one table, used by the use cases to refuse and by the
console to show only what the caller may do (`my_actions` on every case it reads)."""

from __future__ import annotations

from typing import Any

from handoff_service.core.principal import AGENTS, STAFF, SUPERVISOR, Principal

from .states import CLOSED, IN_PROGRESS, QUEUED, TRANSITIONS

# how a staff member stands to a case
OWNER = "owner"  # the first agent who accepted it (first-responder ownership)
HANDLER = "handler"  # its current handler (for a resolved case: its last handler)
TEAM = "team"  # member of the team it was transferred to
AGENT = "agent"  # any agent or supervisor
SUPERVISES = "supervisor"

# action -> who may do it (any one of these relations suffices)
RULES: dict[str, frozenset[str]] = {
    "accept": frozenset({AGENT}),
    "claim": frozenset({TEAM, SUPERVISES}),
    "reply": frozenset({HANDLER}),
    "note": frozenset({OWNER, HANDLER, SUPERVISES}),
    "transfer": frozenset({OWNER, HANDLER, SUPERVISES}),
    "resolve": frozenset({HANDLER, SUPERVISES}),
    "reopen": frozenset({OWNER, HANDLER, SUPERVISES}),
    "close": frozenset({OWNER, SUPERVISES}),
    "change_tier": frozenset({OWNER, HANDLER, SUPERVISES}),
    "follow_up": frozenset({OWNER, HANDLER, SUPERVISES}),
}
# the transitions of the state machine behind each action (the others are not status changes)
_STEPS = {
    "accept": ("accept",),
    "claim": ("claim",),
    "transfer": ("transfer_agent", "transfer_team"),
    "resolve": ("resolve",),
    "reopen": ("reopen", "reopen_unowned"),
    "close": ("close",),
    "follow_up": ("close", "reopen", "reopen_unowned"),
}


def relations(p: Principal, row: Any) -> set[str]:
    rel: set[str] = set()
    if p.kind != STAFF or p.role not in AGENTS:
        return rel
    rel.add(AGENT)
    if p.role == SUPERVISOR:
        rel.add(SUPERVISES)
    if p.user_id is not None and p.user_id == row.owner_id:
        rel.add(OWNER)
    if p.user_id is not None and p.user_id == row.handler_id:
        rel.add(HANDLER)
    if p.team is not None and p.team == row.handler_team:
        rel.add(TEAM)
    return rel


def may_read(p: Principal, row: Any, teams: set[str | None]) -> bool:
    """Whether `p` may read the case: a supervisor always; an agent while it waits in
    the open queue, when it was transferred to their team, when they own or handle it,
    or when its owner or handler is in their team (`teams`: those two's teams)."""
    rel = relations(p, row)
    if rel & {SUPERVISES, OWNER, HANDLER, TEAM}:
        return True
    if AGENT in rel and row.status == QUEUED:
        return True
    return AGENT in rel and p.team is not None and p.team in teams


def may(p: Principal, row: Any, action: str) -> bool:
    """Whether `p` stands to the case as `action` requires (its status aside)."""
    return bool(RULES[action] & relations(p, row))


def possible(row: Any, action: str) -> bool:
    """Whether the case's status allows `action` at all."""
    if action == "reply":
        return bool(row.status == IN_PROGRESS)
    if action == "change_tier":
        return bool(row.status != CLOSED)
    steps = _STEPS.get(action)
    return steps is None or any((row.status, s) in TRANSITIONS for s in steps)


def my_actions(p: Principal, row: Any) -> list[str]:
    """What `p` may do on the case now, sorted."""
    rel = relations(p, row)
    return sorted(a for a, who in RULES.items() if who & rel and possible(row, a))
