"""The live board's vocabulary: which deadline states are escalations, the timeline action of an
acknowledgement and the key that makes acknowledging one escalation twice a no-op."""

from __future__ import annotations

from datetime import datetime

from handoff_service.sla.states import BREACHED, DEADLINES, FIRST_RESPONSE, FOLLOW_UP, RESULT, WARNING

ACKNOWLEDGED = "escalation_acknowledged"  # the timeline entry (and the audit action case.escalation_acknowledged)
ESCALATED = (WARNING, BREACHED)  # the states the SLA monitor escalates to supervisors

# deadline -> (due column, state column) of the cases table
COLUMNS = {
    FIRST_RESPONSE: ("first_response_due", "sla_first_response"),
    RESULT: ("result_due", "sla_result"),
    FOLLOW_UP: ("follow_up_due", "sla_follow_up"),
}
assert set(COLUMNS) == set(DEADLINES)

MAX_CARDS_PER_TIER = 50  # waiting cases listed per tier (the count is always complete)
MAX_DEADLINES = 200  # escalated deadlines listed (most urgent first)


def ack_key(deadline: str, due: datetime, state: str) -> str:
    """One escalation: a deadline of a case, at its due time (a new tier or care cycle moves it),
    in the state the monitor escalated it to (a warning and the later breach are two)."""
    return f"ack:{deadline}:{due.isoformat()}:{state}"
