"""After commit: fan domain events out to the staff websockets (audiences in service.py)."""

from __future__ import annotations

from typing import Any

from handoff_service.board.events import EscalationAcknowledged
from handoff_service.cases.events import CaseChanged, DeadlineEscalated, NoteAdded
from handoff_service.core.deps import Deps
from handoff_service.delivery.events import DeliveryStatusChanged
from handoff_service.followups.events import VisitChanged
from handoff_service.messages import service as messages
from handoff_service.messages.events import MessageAdded
from handoff_service.outages.events import OutageChanged
from handoff_service.staff.events import SignedOut

from .service import tell_agents, tell_case_staff, tell_user


def register(deps: Deps) -> None:
    bus, hub = deps.bus, deps.hub

    def case_changed(ev: CaseChanged) -> None:
        message = {"type": "case.created" if ev.created else "case.updated", "case": ev.card}
        tell_case_staff(hub, message, ev.owner_id, ev.handler_id)
        if ev.queue_changed:
            tell_agents(hub, {"type": "queue.changed", "case": ev.card})
        if ev.previous_handler_id is not None:
            tell_user(hub, {"type": "case.updated", "case": ev.card}, ev.previous_handler_id)

    def note_added(ev: NoteAdded) -> None:
        tell_case_staff(hub, {"type": "note.new", "case_id": ev.case_id, "note": ev.note}, ev.owner_id, ev.handler_id)

    def message_added(ev: MessageAdded) -> None:
        message = {"type": "message.new", "case_id": ev.case_id, "message": ev.message}
        tell_case_staff(hub, message, ev.owner_id, ev.handler_id)

    def escalated(ev: DeadlineEscalated) -> None:
        tell_case_staff(hub, ev.message(), ev.owner_id, ev.handler_id)

    async def delivery_status(ev: DeliveryStatusChanged) -> None:
        claim = ev.claim
        if claim.audience is None:  # a row taken over after a restart: look its case up
            found = await messages.delivery_audience(deps, claim.id)
            if found is None:
                return
            claim.audience, claim.message_id = found
        message: dict[str, Any] = {
            "type": "message.delivery",
            "case_id": claim.case_id,
            "message_id": claim.message_id,
            "kind": claim.kind,
            "delivery": {
                "id": claim.id,
                "status": ev.status,
                "attempts": claim.attempts,
                "last_error": ev.last_error,
                "idempotency_key": claim.idempotency_key,
            },
        }
        tell_case_staff(hub, message, *claim.audience)

    def acknowledged(ev: EscalationAcknowledged) -> None:
        tell_case_staff(hub, ev.message(), ev.owner_id, ev.handler_id)

    def visit_changed(ev: VisitChanged) -> None:
        tell_case_staff(hub, ev.message(), ev.owner_id, ev.handler_id)

    def outage_changed(ev: OutageChanged) -> None:
        tell_agents(hub, {"type": "outage.changed", "id": ev.notice_id, "what": ev.what})

    def signed_out(ev: SignedOut) -> None:
        hub.close_signed_out({ev.credential})

    bus.subscribe(CaseChanged, case_changed)
    bus.subscribe(SignedOut, signed_out)
    bus.subscribe(NoteAdded, note_added)
    bus.subscribe(MessageAdded, message_added)
    bus.subscribe(DeadlineEscalated, escalated)
    bus.subscribe(EscalationAcknowledged, acknowledged)
    bus.subscribe(DeliveryStatusChanged, delivery_status)
    bus.subscribe(VisitChanged, visit_changed)
    bus.subscribe(OutageChanged, outage_changed)
