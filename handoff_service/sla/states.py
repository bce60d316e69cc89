"""The SLA clock's vocabulary: the three deadlines of a case and the states of each."""

from __future__ import annotations

PENDING = "pending"  # running
WARNING = "warning"  # nearly breached (the tier's near_breach_fraction of the window is left)
BREACHED = "breached"  # passed before its step was done
MET = "met"  # its step was done in time

STATES = (PENDING, WARNING, BREACHED, MET)
OPEN_STATES = (PENDING, WARNING)  # still watched by the monitor

FIRST_RESPONSE = "first_response"  # handoff -> an agent accepts
RESULT = "result"  # case opened -> resolved
FOLLOW_UP = "follow_up"  # resolved -> follow-up visit answered

DEADLINES = (FIRST_RESPONSE, RESULT, FOLLOW_UP)
