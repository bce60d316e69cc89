"""Dialogue policies of our own: they act without the action server."""
