"""The SLA monitor (background task): marks near-breached and breached deadlines of
cases, with a timeline entry, and announces each escalation (DeadlineEscalated)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from handoff_service.core import loops
from handoff_service.core.bus import record
from handoff_service.core.deps import Deps
from handoff_service.sla.states import BREACHED, FIRST_RESPONSE, FOLLOW_UP, OPEN_STATES, PENDING, RESULT, WARNING

from ._store import C, append_event, case_card, load_names
from .events import DeadlineEscalated
from .states import ACTIVE, QUEUED, RESOLVED

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deadline:
    name: str  # first_response | result | follow_up
    due_col: str
    state_col: str
    start_col: str
    statuses: tuple[str, ...]


DEADLINES = (
    Deadline(FIRST_RESPONSE, "first_response_due", "sla_first_response", "created_at", (QUEUED,)),
    Deadline(RESULT, "result_due", "sla_result", "created_at", ACTIVE),
    Deadline(FOLLOW_UP, "follow_up_due", "sla_follow_up", "resolved_at", (RESOLVED,)),
)


class SLAMonitor:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def run_forever(self) -> None:
        await loops.repeat(self.run_once, lambda: self.deps.settings.sla_interval_seconds, "SLA check")

    async def run_once(self) -> list[dict[str, Any]]:
        """One pass; returns the escalations it emitted."""
        now = self.deps.clock.now()
        frac = self.deps.sla.near_breach_fraction
        # the widest window of any tier bounds how early a warning can start
        widest = max(max(t.first_response, t.result, t.follow_up) for t in self.deps.sla.tiers.values())
        emitted: list[dict[str, Any]] = []
        for dl in DEADLINES:
            due, state = C.c[dl.due_col], C.c[dl.state_col]
            async with self.deps.read_engine.begin() as conn:
                rows = (
                    await conn.execute(
                        select(C).where(
                            C.c.status.in_(dl.statuses),
                            state.in_(OPEN_STATES),
                            due.is_not(None),
                            due <= now + widest * frac,
                        )
                    )
                ).all()
            for row in rows:
                due_at: datetime = getattr(row, dl.due_col)
                start: datetime = getattr(row, dl.start_col)
                old_state = getattr(row, dl.state_col)
                if now >= due_at:
                    new_state = BREACHED
                elif old_state == PENDING and now >= self.deps.sla.warn_at(start, due_at):
                    new_state = WARNING
                else:
                    continue
                esc = await self._mark(row, dl, old_state, new_state, now)
                if esc:
                    emitted.append(esc)
        return emitted

    async def _mark(
        self, row: Any, dl: Deadline, old_state: str, new_state: str, now: datetime
    ) -> dict[str, Any] | None:
        state_col = C.c[dl.state_col]
        breached = new_state == BREACHED
        action = "sla_breached" if breached else "sla_warning"
        due_at: datetime = getattr(row, dl.due_col)
        details = {"deadline": dl.name, "due": due_at.isoformat(), "tier": row.tier}
        async with self.deps.tx() as conn:
            res = await conn.execute(
                update(C)
                .where(C.c.id == row.id, state_col == old_state, C.c.status.in_(dl.statuses))
                .values({state_col: new_state})
                .returning(*C.c)
            )
            fresh = res.first()
            if fresh is None:  # changed meanwhile, or another process marked it
                return None
            await append_event(conn, fresh, at=now, actor_kind="system", actor_id="sla", action=action, details=details)
            await load_names(self.deps, conn, [fresh])
            escalation = DeadlineEscalated(
                breached=breached,
                deadline=dl.name,
                due=due_at.isoformat(),
                card=case_card(self.deps, fresh),
                owner_id=fresh.owner_id,
                handler_id=fresh.handler_id,
            )
            record(conn, escalation)
        log.info("SLA %s: case %s %s deadline %s", new_state, fresh.number, dl.name, due_at.isoformat())
        return escalation.message()
