"""The rollup rows of one case, derived from its raw rows only (no clock, no other state): the same
function serves the incremental refresh after a commit and the full rebuild, so both give the same
rows. The rules are those of METRICS.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from handoff_service.cases.states import IN_PROGRESS, QUEUED, TRANSFERRED
from handoff_service.followups import states as visits
from handoff_service.sla.states import BREACHED, DEADLINES, MET

HELD = (IN_PROGRESS, TRANSFERRED)  # an agent (or a team) holds the case: a customer message waits
REOPEN_REASON_FOLLOW_UP = "follow-up: not solved"  # cases.service writes it on such a reopen


@dataclass
class Facts:
    case: dict[str, Any]
    cycles: list[dict[str, Any]] = field(default_factory=list)
    waits: list[dict[str, Any]] = field(default_factory=list)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _sla(case: Any, events: Sequence[Any], deadline: str) -> str | None:
    """Breached if the deadline was breached in any care cycle (the timeline keeps every breach);
    met if its step was done in time; None while it is still running."""
    for e in events:
        if e.action == "sla_breached" and (e.details or {}).get("deadline") == deadline:
            return BREACHED
    state = getattr(case, f"sla_{deadline}")
    return state if state in (MET, BREACHED) else None


def _status_at(events: Sequence[Any], at: datetime) -> str | None:
    status = None
    for e in events:
        if e.at > at:
            break
        if e.status_to is not None:
            status = e.status_to
    return status


def _hands_off(e: Any) -> bool:
    """The bot's handoff, or the reopen of a case nobody owns (the bot had resolved it): back to the queue."""
    return bool(e.action == "request_handoff" or (e.action == "reopen" and e.status_to == QUEUED))


def _waits(events: Sequence[Any], messages: Sequence[Any]) -> list[dict[str, Any]]:
    """Each customer message relayed while an agent holds the case opens a wait (unless one is open);
    the next agent reply ends it; a resolution before any reply ends it unanswered."""
    resolves = [e.at for e in events if e.action == "resolve"]
    out: list[dict[str, Any]] = []
    start: datetime | None = None
    for m in messages:
        if m.direction == "customer":
            if start is None and _status_at(events, m.created_at) in HELD:
                start = m.created_at
            continue
        if start is None:
            continue
        if any(start <= r <= m.created_at for r in resolves):  # resolved meanwhile: never answered
            out.append({"started_at": start, "replied_at": None, "seconds": None, "handler_id": None})
        else:
            out.append(
                {
                    "started_at": start,
                    "replied_at": m.created_at,
                    "seconds": _seconds(start, m.created_at),
                    "handler_id": m.author_id,
                }
            )
        start = None
    if start is not None:
        out.append({"started_at": start, "replied_at": None, "seconds": None, "handler_id": None})
    return [{"seq": i, **w} for i, w in enumerate(out)]


def case_facts(
    case: Any,
    events: Sequence[Any],
    messages: Sequence[Any],
    visit_rows: Sequence[Any],
) -> Facts:
    """`events` and `messages` in id order."""
    handoff_at = next((e.at for e in events if _hands_off(e)), None)
    accepted_at = next((e.at for e in events if e.action == "accept"), None)
    first_reply = None
    if handoff_at is not None:
        first_reply = next(
            (m.created_at for m in messages if m.direction == "agent" and m.created_at >= handoff_at), None
        )
    cycles: list[dict[str, Any]] = [
        {"cycle": 0, "started_at": case.created_at, "ended_at": None, "handler_id": None, "by_follow_up": False}
    ]
    resolutions = reopens = 0
    last_handler = case.handler_id
    bot_resolved_at: datetime | None = None
    for e in events:
        if e.action == "resolve":
            resolutions += 1
            cur = cycles[-1]
            if cur["ended_at"] is None:
                cur["ended_at"] = e.at
                cur["handler_id"] = e.handler_id if e.actor_kind == "agent" else None
            last_handler = e.handler_id
            if e.actor_kind == "bot" and bot_resolved_at is None:
                bot_resolved_at = e.at
        elif e.action == "reopen":
            reopens += 1
            reason = (e.details or {}).get("reason")
            cycles.append(
                {
                    "cycle": len(cycles),
                    "started_at": e.at,
                    "ended_at": None,
                    "handler_id": None,
                    "by_follow_up": reason == REOPEN_REASON_FOLLOW_UP,
                }
            )
    for c in cycles:
        c["seconds"] = _seconds(c["started_at"], c["ended_at"])
    bot_resolved = handoff_at is None and bot_resolved_at is not None
    states = [v.state for v in visit_rows]
    row = {
        "case_id": case.id,
        "number": case.number,
        "conversation_id": case.conversation_id,
        "created_at": case.created_at,
        "channel": case.channel,
        "language": case.language,
        "category": case.category,
        "tier": case.tier,
        "status": case.status,
        "owner_id": case.owner_id,
        "last_handler_id": last_handler,
        "handoff_at": handoff_at,
        "claim_seconds": _seconds(handoff_at, accepted_at),
        "first_response_seconds": _seconds(handoff_at, first_reply),
        "bot_resolved": bot_resolved,
        "resolutions": resolutions,
        "reopens": reopens,
        **{f"sla_{d}": _sla(case, events, d) for d in DEADLINES},
        "csat_overall": case.csat_overall,
        "csat_attitude": case.csat_attitude,
        "csat_speed": case.csat_speed,
        "csat_solved": case.csat_solved,
        "csat_owner_id": case.csat_owner_id,
        "csat_handler_id": case.csat_handler_id,
        "visits_planned": sum(s != visits.CANCELLED for s in states),
        "visits_solved": states.count(visits.SOLVED),
        "visits_not_solved": states.count(visits.NOT_SOLVED),
        "visits_no_answer": states.count(visits.NO_ANSWER),
    }
    return Facts(case=row, cycles=cycles, waits=_waits(events, messages))
