"""Delivery vocabulary: the states of an outbox row and the kinds of call it carries."""

from __future__ import annotations

PENDING = "pending"  # waiting for (another) attempt
DELIVERED = "delivered"
FAILED = "failed"  # gave up: permanent error or too many attempts; an agent may retry
STATES = (PENDING, DELIVERED, FAILED)

REPLY = "reply"  # an agent's reply, shown to the customer as a bot message
END_HANDOFF = "end_handoff"  # the case was resolved: the bot takes over again
FOLLOW_UP = "follow_up"  # the bot asks a follow-up visit's question (EXTERNAL_follow_up_visit)
RESUME_HANDOFF = "resume_handoff"  # the case was reopened to its owner: messages go to the agent again
OUTAGE_NOTICE = "outage_notice"  # an outage notice's update, told to a customer with a linked open case
