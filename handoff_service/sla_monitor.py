"""Background task: marks near-breached and breached SLA deadlines and emits an
escalation event for supervisors (timeline entry + websocket)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from .cases import C, _event, _names, case_card
from .context import Deps
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
    Deadline("first_response", "first_response_due", "sla_first_response", "created_at", (QUEUED,)),
    Deadline("result", "result_due", "sla_result", "created_at", ACTIVE),
    Deadline("follow_up", "follow_up_due", "sla_follow_up", "resolved_at", (RESOLVED,)),
)


class SLAMonitor:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def run_forever(self) -> None:
        interval = self.deps.settings.sla_interval_seconds
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("SLA check failed")
            await asyncio.sleep(interval)

    async def run_once(self) -> list[dict[str, Any]]:
        """One pass; returns the escalations it emitted."""
        now = self.deps.clock.now()
        frac = self.deps.sla.near_breach_fraction
        # the widest window of any tier bounds how early a warning can start
        widest = max(
            max(t.first_response, t.result, t.follow_up) for t in self.deps.sla.tiers.values()
        )
        emitted: list[dict[str, Any]] = []
        for dl in DEADLINES:
            due, state = C.c[dl.due_col], C.c[dl.state_col]
            async with self.deps.read_engine.begin() as conn:
                rows = (
                    await conn.execute(
                        select(C).where(
                            C.c.status.in_(dl.statuses),
                            state.in_(("pending", "warning")),
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
                    new_state = "breached"
                elif old_state == "pending" and now >= self.deps.sla.warn_at(start, due_at):
                    new_state = "warning"
                else:
                    continue
                esc = await self._mark(row, dl, old_state, new_state, now)
                if esc:
                    emitted.append(esc)
        return emitted

    async def _mark(self, row: Any, dl: Deadline, old_state: str, new_state: str, now: datetime) -> dict[str, Any] | None:
        state_col = C.c[dl.state_col]
        action = "sla_breached" if new_state == "breached" else "sla_warning"
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
            await _event(conn, fresh, at=now, actor_kind="system", actor_id="sla", action=action, details=details)
            await _names(self.deps, conn, [fresh])
        event = {
            "type": "sla.breach" if new_state == "breached" else "sla.warning",
            "deadline": dl.name,
            "due": due_at.isoformat(),
            "case": case_card(self.deps, fresh),
        }
        self.deps.hub.publish(event, users={fresh.owner_id, fresh.handler_id}, roles=frozenset({"supervisor"}))
        log.info("SLA %s: case %s %s deadline %s", new_state, fresh.number, dl.name, due_at.isoformat())
        return event
