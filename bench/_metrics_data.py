"""A seeded generator of realistic case histories for the KPI dashboard benchmark: cases, their
timelines (case_events), messages and follow-up visits, written in batches through SQLAlchemy Core
(not through the use cases: 100,000 cases would take too long). The shapes are those the use cases
write (cases/service.py, cases/intake.py, messages/service.py, followups/service.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from handoff_service.cases.models import Case, CaseEvent
from handoff_service.core.orm import table_of
from handoff_service.followups.models import FollowUpVisit
from handoff_service.messages.models import Message

C, E, M, V = table_of(Case), table_of(CaseEvent), table_of(Message), table_of(FollowUpVisit)
TIERS = [("critical", 1, 1, 8, 12, 5), ("high", 2, 4, 24, 24, 20), ("normal", 3, 24, 48, 24, 75)]
CATEGORIES = {"refund": 25, "order_status": 20, "delivery": 15, "payment": 10, "product": 10, "complaint": 12, "faq": 8}
CHANNELS = {"webchat": 70, "wechat": 20, "rest": 10}
CHUNK = 5000


def pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass
class Batch:
    cases: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    visits: list[dict[str, Any]] = field(default_factory=list)


class Generator:
    def __init__(self, seed: int, staff: list[int], now: datetime, days: int) -> None:
        self.rng = random.Random(seed)
        self.staff = staff
        self.now = now
        self.days = days
        self.counts: dict[str, int] = {}

    def _ev(
        self, b: Batch, cid: int, at: datetime, kind: str, action: str, st: tuple[str | None, str], **kw: Any
    ) -> None:
        b.events.append(
            {
                "case_id": cid,
                "at": at,
                "actor_kind": kind,
                "actor_id": kw.pop("actor", "bot" if kind == "bot" else "agent"),
                "action": action,
                "status_from": st[0],
                "status_to": st[1],
                "owner_id": kw.pop("owner", None),
                "handler_id": kw.pop("handler", None),
                "details": kw.pop("details", {}),
                "idempotency_key": None,
            }
        )

    def _msg(self, b: Batch, cid: int, conv: str, at: datetime, direction: str, author: int | None) -> None:
        b.messages.append(
            {
                "case_id": cid,
                "conversation_id": conv,
                "direction": direction,
                "author_id": author,
                "text": "……",
                "meta": {},
                "delivery_id": None,
                "created_at": at,
            }
        )

    def case(self, b: Batch, cid: int) -> None:
        rng = self.rng
        minutes = lambda mean: timedelta(seconds=rng.expovariate(1 / (mean * 60)))  # noqa: E731
        created = self.now - timedelta(seconds=rng.uniform(0, self.days * 86400))
        tier, rank, fr_h, res_h, fu_h, _ = rng.choices(TIERS, weights=[t[5] for t in TIERS])[0]
        conv = f"conv-{rng.randrange(cid * 3 + 1)}"  # some conversations come back
        row: dict[str, Any] = {
            "id": cid,
            "number": f"C{created:%Y%m%d}-{cid:06d}",
            "channel": pick(rng, CHANNELS),
            "conversation_id": conv,
            "language": "zh" if rng.random() < 0.8 else "en",
            "category": pick(rng, CATEGORIES),
            "tier": tier,
            "tier_rank": rank,
            "description": "退款没有到账",
            "summary": None,
            "result": None,
            "status": "open",
            "owner_id": None,
            "handler_id": None,
            "handler_team": None,
            "links": [],
            "outage_notice": None,
            "reopen_count": 0,
            "version": 1,
            "created_at": created,
            "updated_at": created,
            "handoff_requested_at": None,
            "first_response_at": None,
            "resolved_at": None,
            "closed_at": None,
            "first_response_due": created + timedelta(hours=fr_h),
            "result_due": created + timedelta(hours=res_h),
            "follow_up_due": None,
            "sla_first_response": "pending",
            "sla_result": "pending",
            "sla_follow_up": "pending",
            "follow_up_at": None,
            "follow_up_solved": None,
            "idempotency_key": None,
        }
        b.cases.append(row)
        t = created
        self._ev(b, cid, t, "bot", "created", (None, "open"))
        for _ in range(rng.randint(2, 6)):  # the bot's own steps while it collects the problem
            t += minutes(1)
            self._ev(b, cid, t, "bot", "bot_step", ("open", "open"), details={"step": "collect"})
        if rng.random() < 0.3:  # the bot settles it
            t += minutes(2)
            row.update(status="resolved", resolved_at=t, result="answered", sla_first_response="met", sla_result="met")
            self._ev(b, cid, t, "bot", "resolve", ("open", "resolved"), details={"result": "answered"})
            self._csat(b, row, t, None)
            return
        t += minutes(1)
        row.update(status="queued", handoff_requested_at=t)
        self._ev(b, cid, t, "bot", "request_handoff", ("open", "queued"), details={"summary": {}})
        if t > self.now - timedelta(minutes=30) and rng.random() < 0.5:
            return  # still waiting in the queue
        owner = rng.choice(self.staff)
        t += minutes(15)
        if t > row["first_response_due"]:
            self._ev(
                b,
                cid,
                row["first_response_due"],
                "system",
                "sla_breached",
                ("queued", "queued"),
                details={"deadline": "first_response"},
            )
        row.update(
            status="in_progress",
            owner_id=owner,
            handler_id=owner,
            first_response_at=t,
            sla_first_response="met" if t <= row["first_response_due"] else "breached",
        )
        self._ev(b, cid, t, "agent", "accept", ("queued", "in_progress"), owner=owner, handler=owner)
        handler = owner
        t += minutes(5)
        self._msg(b, cid, conv, t, "agent", handler)
        for _ in range(rng.randint(0, 4)):  # customer waits
            t += minutes(3)
            self._msg(b, cid, conv, t, "customer", None)
            t += minutes(6)
            self._msg(b, cid, conv, t, "agent", handler)
        if rng.random() < 0.2:
            new = rng.choice(self.staff)
            t += minutes(5)
            self._ev(b, cid, t, "agent", "transfer", ("in_progress", "in_progress"), owner=owner, handler=new)
            handler = new
            t += minutes(5)
            self._msg(b, cid, conv, t, "agent", handler)
        for _ in range(rng.randint(1, 5)):
            t += minutes(2)
            self._ev(b, cid, t, "agent", "note", ("in_progress", "in_progress"), owner=owner, handler=handler)
        cycles = 2 if rng.random() < 0.1 else 1
        for cycle in range(cycles):
            t += minutes(30)
            row.update(
                status="resolved",
                resolved_at=t,
                result="refund re-issued",
                handler_id=handler,
                sla_result="met" if t <= row["result_due"] else "breached",
            )
            self._ev(b, cid, t, "agent", "resolve", ("in_progress", "resolved"), owner=owner, handler=handler)
            state = rng.choice(["solved", "not_solved", "no_answer", "cancelled", "scheduled"])
            if cycle < cycles - 1:
                state = "not_solved"
            b.visits.append(
                {
                    "case_id": cid,
                    "cycle": cycle,
                    "state": state,
                    "due_at": t + timedelta(hours=4),
                    "attempts": 1,
                    "created_at": t,
                    "updated_at": t,
                }
            )
            t += timedelta(hours=4)
            self._ev(b, cid, t, "system", "follow_up_sent", ("resolved", "resolved"), owner=owner, handler=handler)
            if cycle < cycles - 1:
                self._ev(b, cid, t, "bot", "follow_up", ("resolved", "resolved"), owner=owner, handler=handler)
                row.update(status="in_progress", reopen_count=cycle + 1, result_due=t + timedelta(hours=res_h))
                self._ev(
                    b,
                    cid,
                    t,
                    "bot",
                    "reopen",
                    ("resolved", "in_progress"),
                    owner=owner,
                    handler=owner,
                    details={"reason": "follow-up: not solved"},
                )
                handler = owner
            elif state == "solved":
                row.update(status="closed", closed_at=t, follow_up_at=t, follow_up_solved=True, sla_follow_up="met")
                self._ev(b, cid, t, "bot", "follow_up", ("resolved", "resolved"), owner=owner, handler=handler)
                self._ev(b, cid, t, "bot", "close", ("resolved", "closed"), owner=owner, handler=handler)
        self._csat(b, row, t, owner)

    def _csat(self, b: Batch, row: dict[str, Any], t: datetime, owner: int | None) -> None:
        if self.rng.random() < 0.5:
            return
        score = self.rng.choices([1, 2, 3, 4, 5], weights=[5, 5, 10, 30, 50])[0]
        row.update(
            csat_overall=score,
            csat_attitude=score,
            csat_speed=max(1, score - 1),
            csat_solved=score,
            csat_at=t,
            csat_owner_id=owner,
            csat_handler_id=row["handler_id"],
        )
        self._ev(
            b,
            row["id"],
            t,
            "bot",
            "csat_recorded",
            (row["status"], row["status"]),
            owner=owner,
            handler=row["handler_id"],
            details={"overall": score},
        )


async def fill(engine: AsyncEngine, gen: Generator, cases: int) -> dict[str, int]:
    """Writes `cases` cases with their timelines; returns the row counts."""
    counts = {"cases": 0, "events": 0, "messages": 0, "visits": 0}
    cid = 0
    while cid < cases:
        b = Batch()
        for _ in range(min(CHUNK // 10, cases - cid)):
            cid += 1
            gen.case(b, cid)
        for row in b.cases:  # every column, so executemany sees one shape
            for k in (
                "csat_overall",
                "csat_attitude",
                "csat_speed",
                "csat_solved",
                "csat_at",
                "csat_owner_id",
                "csat_handler_id",
                "csat_comment",
            ):
                row.setdefault(k, None)
        async with engine.begin() as conn:
            await conn.execute(insert(C), b.cases)
            for table, rows in ((E, b.events), (M, b.messages), (V, b.visits)):
                for i in range(0, len(rows), CHUNK):
                    await conn.execute(insert(table), rows[i : i + CHUNK])
        counts["cases"] += len(b.cases)
        counts["events"] += len(b.events)
        counts["messages"] += len(b.messages)
        counts["visits"] += len(b.visits)
    return counts
