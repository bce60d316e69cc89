"""The trainers' review list (issue 26): customer messages the assistant misunderstood, grouped by
their normalised text, to be labelled, ignored or flagged by trainers."""
