"""handoff_service: case records, tiered SLA clock and first-responder ownership.

Importing this package has no side effects; build the app with
:func:`handoff_service.app.create_app`.
"""

__version__ = "0.1.0"
