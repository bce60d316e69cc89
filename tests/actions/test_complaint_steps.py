"""The complaint script's names are part of what the bot stores and matches: they must not drift.

The timeline actions are stored by handoff_service and read by its console; the `complaint_step` values are
a categorical slot in domain.yml that the rules and stories in data/ match. Every other test uses the
constants, so this one pins their values.
"""

from __future__ import annotations

from actions import complaint_steps as steps
from actions.complaint_steps import STEPS, Stage


def test_the_five_steps_in_order_with_their_timeline_actions():
    assert STEPS == (
        "complaint.listen_accept",
        "complaint.calm",
        "complaint.clarify",
        "complaint.negotiate",
        "complaint.confirm",
    )
    assert [steps.step_number(step) for step in STEPS] == [1, 2, 3, 4, 5]
    between = (steps.CORRECTED, steps.REMEDY_DECLINED, steps.PAUSED, steps.RESUMED)
    assert between == ("complaint.corrected", "complaint.remedy_declined", "complaint.paused", "complaint.resumed")


def test_the_stages_are_the_slots_values_in_the_domain(domain_dict):
    slot = domain_dict["slots"][steps.SLOT]
    assert slot["type"] == "categorical"
    stages = [value for key, value in vars(Stage).items() if key.isupper()]
    assert stages == slot["values"]
    assert steps.PAUSED_AT_SLOT in domain_dict["slots"]
    assert all(type(value) is str for value in stages)  # plain strings in slots, JSON and the tracker store
