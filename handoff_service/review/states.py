"""The review list's vocabulary: why a message was collected, and what a trainer did with it."""

from __future__ import annotations

# reasons a customer message lands in the review list
FALLBACK = "fallback"  # answered with the fallback
LOW_CONFIDENCE = "low_confidence"  # top intent below the threshold
SMALL_MARGIN = "small_margin"  # top two intents too close
AGENT_CORRECTION = "agent_correction"  # an agent said what the customer meant
LOW_CSAT = "low_csat"  # the message's case got a low satisfaction rating
REASONS = (FALLBACK, LOW_CONFIDENCE, SMALL_MARGIN, AGENT_CORRECTION, LOW_CSAT)
REASON_BITS = {reason: 1 << i for i, reason in enumerate(REASONS)}  # stored beside the list, for filters

# Rasa's names the feed reads (config.yml, domain.yml, bot/nlu/input_guard.py, bot/policies/handoff.py)
FALLBACK_INTENT = "nlu_fallback"  # FallbackClassifier and the input guard
CORE_FALLBACK_ACTION = "action_default_fallback"  # RulePolicy's core fallback
RELAY_ACTION = "action_relay_to_agent"  # the message went to an agent: not the bot's to understand
LISTEN = "action_listen"
EXTERNAL_PREFIX = "EXTERNAL_"  # the service's own triggers
# input the assistant answers as unusable, not as misunderstood (actions/fallback.py)
UNUSABLE_INPUT = frozenset({"empty", "symbols_only", "markup_only", "too_long"})

# the list's order: count x recency, each collected message weighing half as much a week later
HALF_LIFE_SECONDS = 7 * 86400

# an item's status, and the transitions a trainer may make
OPEN = "open"  # waiting for a trainer
LABELLED = "labelled"  # has an intent, not yet written into the training data
FLAGGED = "flagged"  # to be discussed (with a comment)
IGNORED = "ignored"  # a standing rule: the same text never comes back
APPLIED = "applied"  # written into the training data (or the held-back test set)
STATUSES = (OPEN, LABELLED, FLAGGED, IGNORED, APPLIED)

LABEL, IGNORE, FLAG, REOPEN, MARK_APPLIED = "label", "ignore", "flag", "reopen", "mark_applied"
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    # action: (from statuses, to status)
    LABEL: ((OPEN, FLAGGED, LABELLED, IGNORED), LABELLED),
    IGNORE: ((OPEN, FLAGGED, LABELLED), IGNORED),
    FLAG: ((OPEN, LABELLED, IGNORED), FLAGGED),
    REOPEN: ((LABELLED, FLAGGED, IGNORED, APPLIED), OPEN),
    MARK_APPLIED: ((LABELLED,), APPLIED),
}
LISTED = (OPEN, FLAGGED, LABELLED)  # what the review list shows by default
