"""The five-step complaint script's names, in one place (SPEC §2), like handoff_service/states.py for case statuses.

Two kinds of names, plain strings wherever they go (slots, journal, JSON):
- the timeline actions a case records: one per step of the script (`STEPS`, in order), and a few for what
  happens in between (a correction, a declined remedy, a pause);
- the values of the `complaint_step` slot (`Stage`): where the customer is in the script. The rules and
  stories in data/ match these, and domain.yml lists them as the slot's categorical values.
Renaming one of these changes what handoff_service stores and what the rules match: keep them as they are.
"""

from __future__ import annotations

SLOT = "complaint_step"  # the featurised slot holding a `Stage`
PAUSED_AT_SLOT = "complaint_paused_at"  # the `Stage` a paused script goes back to

# The five steps, in order: listen and accept -> calm -> clarify -> negotiate -> confirm.
# Each writes a timeline entry with this action and its number (`step_number`).
LISTEN_ACCEPT = "complaint.listen_accept"
CALM = "complaint.calm"
CLARIFY = "complaint.clarify"
NEGOTIATE = "complaint.negotiate"
CONFIRM = "complaint.confirm"

STEPS = (LISTEN_ACCEPT, CALM, CLARIFY, NEGOTIATE, CONFIRM)

# timeline entries written between the steps
CORRECTED = "complaint.corrected"  # a part of the restated problem was corrected
REMEDY_DECLINED = "complaint.remedy_declined"  # the customer did not confirm the chosen remedy
PAUSED = "complaint.paused"  # `stop` during the script
RESUMED = "complaint.resumed"  # back where the script was paused


def step_number(step: str) -> int:
    """1 to 5: the step's place in the script."""
    return STEPS.index(step) + 1


class Stage:
    """Values of the `complaint_step` slot, in the order domain.yml lists them (plain strings: no Enum, so
    they compare, hash and serialise as the strings the rules and the tracker store hold)."""

    ACCEPTED = "accepted"  # step 1 done
    CLARIFYING = "clarifying"  # step 3: the complaint form asks what is missing
    CONFIRMING_PROBLEM = "confirming_problem"  # the problem was restated; "did I get that right?"
    FIXING = "fixing"  # asked which part of the restatement is wrong
    CORRECTED = "corrected"  # a correction was taken; the restatement is asked again
    NEGOTIATING = "negotiating"  # step 4: remedies offered
    CONFIRMING_REMEDY = "confirming_remedy"  # step 5: the chosen remedy and its deadline restated
    NEEDS_COLLEAGUE = "needs_colleague"  # no remedy the policy allows: a person decides
    PAUSED = "paused"  # `stop` during the script; the case stays open
    RESUME_OFFERED = "resume_offered"  # the customer came back with the case number
    DONE = "done"  # settled: a later complaint opens a new case
