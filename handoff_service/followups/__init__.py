"""Follow-up visits (回访, SPEC §6): within the follow-up deadline after a case is resolved, the
customer is asked whether it was really solved; "not solved" reopens it to its owner."""
