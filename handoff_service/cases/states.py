"""Case status state machine: one table of allowed transitions."""

from __future__ import annotations

from handoff_service.core.errors import Conflict

OPEN = "open"  # created by the bot, bot is handling it
QUEUED = "queued"  # handoff requested, waiting for the first agent to accept
IN_PROGRESS = "in_progress"  # an agent handles it
TRANSFERRED = "transferred"  # handed to a team, waiting for a member to claim it
RESOLVED = "resolved"  # result given; follow-up visit pending
CLOSED = "closed"  # archived

# the number shown to customers: C + service day + sequence, e.g. C20261124-0007
CASE_NUMBER_PATTERN = r"^C[0-9]{8}-[0-9]{4,6}$"

# who appears on the timeline
ACTOR_KINDS = ("bot", "agent", "system")

STATUSES = (OPEN, QUEUED, IN_PROGRESS, TRANSFERRED, RESOLVED, CLOSED)
ACTIVE = (OPEN, QUEUED, IN_PROGRESS, TRANSFERRED)
IN_QUEUE = (QUEUED, TRANSFERRED)

# (current status, action) -> next status. Anything else is refused with 409.
TRANSITIONS: dict[tuple[str, str], str] = {
    (OPEN, "request_handoff"): QUEUED,
    (OPEN, "resolve"): RESOLVED,  # the bot settled it without a human
    (QUEUED, "accept"): IN_PROGRESS,
    (IN_PROGRESS, "transfer_agent"): IN_PROGRESS,
    (IN_PROGRESS, "transfer_team"): TRANSFERRED,
    (TRANSFERRED, "transfer_agent"): IN_PROGRESS,
    (TRANSFERRED, "transfer_team"): TRANSFERRED,
    (TRANSFERRED, "claim"): IN_PROGRESS,
    (IN_PROGRESS, "resolve"): RESOLVED,
    (RESOLVED, "reopen"): IN_PROGRESS,  # back to its owner
    (RESOLVED, "reopen_unowned"): QUEUED,  # bot-resolved case: back to the queue
    (RESOLVED, "reopen_to_team"): TRANSFERRED,  # its owner is away: the owner's team takes it, the owner stays
    (RESOLVED, "close"): CLOSED,
}

ACTIONS = tuple(sorted({a for _, a in TRANSITIONS}))


def allowed_actions(status: str) -> list[str]:
    return sorted(a for (s, a) in TRANSITIONS if s == status)


def next_status(status: str, action: str) -> str:
    """The status after `action`, or a 409 explaining why it is not allowed."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        allowed = allowed_actions(status)
        raise Conflict(
            f"cannot {action.replace('_', ' ')} a case that is {status.replace('_', ' ')}"
            + (f"; allowed: {', '.join(allowed)}" if allowed else "; the case is final"),
            code="invalid_transition",
            status=status,
            action=action,
        ) from None
