"""A follow-up visit's vocabulary: its states and the steps between them (served to the console)."""

from __future__ import annotations

SCHEDULED = "scheduled"  # waiting for its time
SENT = "sent"  # asked in the customer's chat; waiting for the answer
TO_CALL = "to_call"  # the customer could not be reached in a chat: on the owner's list to phone
SOLVED = "solved"  # the customer said it is solved: the case is closed
NOT_SOLVED = "not_solved"  # reopened to its owner as a new care cycle
NO_ANSWER = "no_answer"  # asked as often as allowed, no answer
CANCELLED = "cancelled"  # the case moved on (reopened, closed, or the customer wrote in first)
STATES = (SCHEDULED, SENT, TO_CALL, SOLVED, NOT_SOLVED, NO_ANSWER, CANCELLED)
OPEN_STATES = (SCHEDULED, SENT, TO_CALL)  # a visit still to be made or answered
ANSWERED = (SOLVED, NOT_SOLVED)

SEND, CALL, ANSWER_SOLVED, ANSWER_NOT_SOLVED, GIVE_UP, CANCEL = (
    "send",
    "call",
    "answer_solved",
    "answer_not_solved",
    "no_answer",
    "cancel",
)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    # step: (from states, to state)
    SEND: ((SCHEDULED, SENT), SENT),  # a second attempt is sent again
    CALL: ((SCHEDULED, SENT), TO_CALL),
    ANSWER_SOLVED: ((SCHEDULED, SENT, TO_CALL), SOLVED),
    ANSWER_NOT_SOLVED: ((SCHEDULED, SENT, TO_CALL), NOT_SOLVED),
    GIVE_UP: ((SENT, TO_CALL), NO_ANSWER),
    CANCEL: (OPEN_STATES, CANCELLED),
}

# how the answer came
CHAT = "chat"  # the customer answered the bot
PHONE = "phone"  # an agent recorded a phone call
CHANNELS = (CHAT, PHONE)

# why a visit was cancelled
CASE_MOVED_ON = "case_moved_on"  # reopened or closed before the visit
CUSTOMER_WROTE_IN = "customer_wrote_in"  # a new case in the same conversation after the resolution

# the case timeline's entries for each step (actions of case_events)
TIMELINE = {
    "scheduled": "follow_up_scheduled",
    SEND: "follow_up_sent",
    CALL: "follow_up_to_call",
    GIVE_UP: "follow_up_no_answer",
    CANCEL: "follow_up_cancelled",
}
# the intent the bot asks with (domain.yml; handoff_service triggers it through the bridge)
ASK_INTENT = "EXTERNAL_follow_up_visit"


def allowed(step: str, state: str) -> bool:
    return state in TRANSITIONS[step][0]
