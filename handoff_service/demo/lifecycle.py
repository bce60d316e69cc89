"""One demo case's life, pure and seeded: each case goes through the real state
machine (`cases.states.next_status` refuses anything else) with the timeline entries, detail
keys and column changes the real use cases make, and is cut at `now` (a case still open then is
left where it was). The SLA monitor's warnings and breaches are placed at the times it would
have marked them; follow-up visits are due when `followups.timing` would make them due. With
`detail="full"` a case says more: longer chats with the agent, the agent's private notes, and the
bot's correction of a first wrong guess of the category (`updated`)."""

from __future__ import annotations

import functools
import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from handoff_service.cases.states import IN_PROGRESS, OPEN, QUEUED, RESOLVED, TRANSFERRED, next_status
from handoff_service.core.tiers import SLAConfig, Tier
from handoff_service.followups import timing

from . import patterns as P

DEMO_PREFIX = "demo-"  # conversation ids of demo cases
DEMO_SEQUENCE = 900_000  # demo case numbers count from here per day: C20261201-900001
ACTIVE = (OPEN, QUEUED, IN_PROGRESS, TRANSFERRED)
# the SLA monitor's deadlines: name, due column, state column, start column, statuses watched
WATCHED = (
    ("first_response", "first_response_due", "sla_first_response", "created_at", (QUEUED,)),
    ("result", "result_due", "sla_result", "created_at", ACTIVE),
    ("follow_up", "follow_up_due", "sla_follow_up", "resolved_at", (RESOLVED,)),
)
FOREVER = datetime.max.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Agent:
    id: int
    username: str
    team: str


@dataclass(frozen=True)
class Options:
    seed: int
    now: datetime
    days: int  # of history before `now`
    cases: int
    zone: ZoneInfo
    sla: SLAConfig
    detail: str = P.STANDARD  # or P.FULL: longer chats, agents' notes, the bot's corrections
    follow_up_delay: timedelta = timedelta(hours=4)
    follow_up_quiet: str = "21:00-09:00"
    follow_up_answer: timedelta = timedelta(hours=4)


class Cutoff(Exception):
    """The next step would happen after `now`: the case stays as it is."""


@dataclass
class DemoCase:
    row: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # author_id = an agent id or None
    visits: list[dict[str, Any]] = field(default_factory=list)  # events refer to them by "_visit": index


def pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    keys, cum = _cumulative(table)
    return rng.choices(keys, cum_weights=cum)[0]


@functools.cache
def _cumulative(table: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float]]:
    """Keys and cumulative weights (what `choices(weights=...)` computes on every call)."""
    return [k for k, _ in table], list(itertools.accumulate(w for _, w in table))


class Sim:
    """One case's life, step by step."""

    def __init__(self, opts: Options, rng: random.Random, agents: list[Agent], row: dict[str, Any]) -> None:
        self.o, self.rng, self.agents, self.row = opts, rng, agents, row
        self.case = DemoCase(row)
        self.tier: Tier = opts.sla.tier(row["tier"])
        self.lang = row["language"]
        self.by_id = {a.id: a for a in agents}
        self.quiet_until: datetime | None = None  # no SLA mark before then (None: look again)

    # ------------------------------------------------------------ timeline

    def _monitor(self, until: datetime) -> None:
        """The SLA monitor's marks between the last step and `until` (it watches the first response
        while queued, the result while active, the follow-up while resolved)."""
        if self.quiet_until is not None and until < self.quiet_until:
            return  # nothing to mark before the next warning or deadline (the row has not changed)
        r, frac = self.row, self.o.sla.near_breach_fraction
        marks, nxt = [], []
        for name, due_col, state_col, start_col, statuses in WATCHED:
            due, state = r[due_col], r[state_col]
            if r["status"] not in statuses or due is None or state not in ("pending", "warning"):
                continue
            warn = due - (due - r[start_col]) * frac
            if state == "pending":
                (marks.append((max(warn, self.last), "sla_warning", name, due, state_col)) if warn <= until
                 else nxt.append(warn))  # fmt: skip
            if due <= until:
                marks.append((max(due, self.last), "sla_breached", name, due, state_col))
            else:
                nxt.append(due)
        self.quiet_until = None if marks else min(nxt, default=FOREVER)
        for at, action, name, due, state_col in sorted(marks, key=lambda m: m[0]):
            self.row[state_col] = "breached" if action == "sla_breached" else "warning"
            self.row["version"] += 1
            details = {"deadline": name, "due": due.isoformat(), "tier": self.row["tier"]}
            self._event(at, "system", "sla", action, None, details)

    def _event(
        self, at: datetime, kind: str, actor: str | None, action: str, status_from: str | None, details: dict[str, Any]
    ) -> dict[str, Any]:
        ev = {
            "at": at,
            "actor_kind": kind,
            "actor_id": actor,
            "action": action,
            "status_from": status_from,
            "status_to": self.row["status"],
            "owner_id": self.row["owner_id"],
            "handler_id": self.row["handler_id"],
            "details": details,
        }
        self.case.events.append(ev)
        self.last = at
        self.row["updated_at"] = at
        return ev

    def at(self, when: datetime) -> datetime:
        if when > self.o.now:
            self._monitor(self.o.now)
            raise Cutoff
        self._monitor(when)
        return when

    def step(
        self,
        when: datetime,
        kind: str,
        actor: str | None,
        action: str,
        details: dict[str, Any],
        *,
        transition: str | None = None,
        **values: Any,
    ) -> dict[str, Any]:
        """A timeline entry at `when`; with `transition`, a status change through the state machine."""
        when = self.at(when)
        before = self.row["status"]
        if transition is not None:
            values["status"] = next_status(before, transition)
        if values:
            self.row.update(values)
            self.row["version"] += 1
            self.quiet_until = None
        return self._event(when, kind, actor, action, before if transition else None, details)

    def message(self, when: datetime, author: Agent | None, text: str) -> None:
        when = self.at(when)
        self.case.messages.append(
            {
                "conversation_id": self.row["conversation_id"],
                "direction": "customer" if author is None else "agent",
                "author_id": None if author is None else author.id,
                "text": text,
                "meta": {},
                "delivery_id": None,
                "created_at": when,
            }
        )
        self.last = when

    # ------------------------------------------------------------ the pieces of a life

    def after(self, seconds: float) -> datetime:
        return self.last + timedelta(seconds=seconds)

    def wait_for_agent(self) -> float:
        """Seconds until an agent accepts: short on shift, till the next shift at night."""
        local = self.last.astimezone(self.o.zone)
        if P.SHIFT[0] <= local.hour < P.SHIFT[1]:
            if self.rng.random() < 0.05:  # a busy spell
                return self.rng.expovariate(1 / 2400)
            return self.rng.expovariate(1 / 90)
        nxt = local.replace(hour=P.SHIFT[0], minute=0, second=0, microsecond=0)
        if local.hour >= P.SHIFT[1]:
            nxt += timedelta(days=1)
        return (nxt - local).total_seconds() + self.rng.expovariate(1 / 600)

    def work(self, agent: Agent) -> Agent:
        """Replies and customer messages until resolution; maybe a transfer on the way. Returns
        who handles the case at the end."""
        full = self.o.detail == P.FULL
        handle = min(self.rng.lognormvariate(math.log(480), 0.6), 3 * 3600)
        rounds = self.rng.randint(*P.ROUNDS[self.o.detail])
        gap = handle / (2 * rounds + 1)
        transfer_at = self.rng.randrange(rounds) if self.rng.random() < 0.17 else -1
        for i in range(rounds):
            self.message(self.after(gap * self.rng.uniform(0.5, 1.5)), agent, self.rng.choice(P.AGENT_LINES[self.lang]))
            self.message(
                self.after(gap * self.rng.uniform(0.5, 1.5)), None, self.rng.choice(P.CUSTOMER_LINES[self.lang])
            )
            if full and self.rng.random() < P.NOTE_SHARE:
                self.note(agent)
            if i == transfer_at:
                agent = self.transfer(agent)
        return agent

    def note(self, agent: Agent) -> None:
        """A private note of the handler (`cases.service.add_note`: a timeline entry, the case row
        unchanged)."""
        when, updated = self.at(self.after(self.rng.uniform(20, 90))), self.row["updated_at"]
        self._event(when, "agent", agent.username, "note", None, {"text": self.rng.choice(P.NOTES[self.lang])})
        self.row["updated_at"] = updated

    def transfer(self, agent: Agent) -> Agent:
        others = [a for a in self.agents if a.id != agent.id]
        if self.rng.random() < 0.7 or len({a.team for a in self.agents}) < 2:
            to = self.rng.choice(others)
            details = {"to_agent": to.username, "from_handler": agent.username, "note": None}
            self.step(self.after(30), "agent", agent.username, "transfer", details, transition="transfer_agent",
                      handler_id=to.id, handler_team=None)  # fmt: skip
            return to
        team = self.rng.choice(sorted({a.team for a in self.agents} - {agent.team}))
        self.step(self.after(30), "agent", agent.username, "transfer", {"to_team": team, "note": None},
                  transition="transfer_team", handler_id=None, handler_team=team)  # fmt: skip
        to = self.rng.choice([a for a in self.agents if a.team == team])
        self.step(self.after(self.rng.expovariate(1 / 600)), "agent", to.username, "claim",
                  {"team": team, "handler": to.username}, transition="claim", handler_id=to.id)  # fmt: skip
        return to

    def resolve(self, agent: Agent) -> None:
        r = self.row
        when = self.at(self.after(self.rng.uniform(20, 120)))
        self.step(when, "agent", agent.username, "resolve", {"result": (res := self.rng.choice(P.RESULTS[self.lang]))},
                  transition="resolve", result=res, resolved_at=when, follow_up_due=when + self.tier.follow_up,
                  sla_result=_done(r["sla_result"], when, r["result_due"]), sla_follow_up="pending")  # fmt: skip

    def csat(self) -> None:
        if self.row["csat_overall"] is not None or self.rng.random() > 0.55:
            return
        overall = self.rng.choices((1, 2, 3, 4, 5), weights=(0.05, 0.07, 0.13, 0.35, 0.4))[0]
        data: dict[str, Any] = {"overall": overall, "attitude": min(5, overall + self.rng.randint(0, 1)),
                                "speed": max(1, overall - self.rng.randint(0, 1)), "solved": overall}  # fmt: skip
        if self.rng.random() < 0.2:
            data["comment"] = self.rng.choice(P.CSAT_COMMENTS[self.lang])
        when = self.at(self.after(self.rng.uniform(30, 240)))
        self.step(when, "bot", "bot", "csat_recorded", data, csat_overall=overall, csat_attitude=data["attitude"],
                  csat_speed=data["speed"], csat_solved=overall, csat_comment=data.get("comment"), csat_at=when,
                  csat_owner_id=self.row["owner_id"], csat_handler_id=self.row["handler_id"])  # fmt: skip

    def follow_up(self) -> bool:
        """The visit of this care cycle (planned, asked or put on the call list, answered or not).
        Returns whether the answer reopened the case."""
        r, rng = self.row, self.rng
        due = timing.visit_due(
            r["resolved_at"],
            delay=self.o.follow_up_delay,
            deadline=r["follow_up_due"],
            quiet=timing.quiet_hours(self.o.follow_up_quiet),
            zone=self.o.zone,
        )
        planned = self.at(self.after(rng.uniform(1, 30)))
        visit = {"cycle": r["reopen_count"], "state": "scheduled", "due_at": due, "next_attempt_at": due,
                 "attempts": 0, "sent_at": None, "answered_at": None, "answer_channel": None, "answered_by": None,
                 "rating": None, "comment": None, "cancel_reason": None, "created_at": planned, "updated_at": planned}  # fmt: skip
        index = len(self.case.visits)
        self.case.visits.append(visit)

        def visit_step(when: datetime, action: str, extra: dict[str, Any], **values: Any) -> None:
            self.step(when, "system", "follow_up", action, {"visit": None, **extra})["_visit"] = index
            visit.update(values, updated_at=when)

        visit_step(planned, "follow_up_scheduled", {"due": due.isoformat()})
        owner = self.by_id.get(r["owner_id"]) if r["owner_id"] is not None else None
        if r["channel"] == "callback" or rng.random() < 0.65:
            for attempt in (1, 2):
                sent = self.at(due if attempt == 1 else self.after(self.o.follow_up_answer.total_seconds()))
                visit_step(sent, "follow_up_sent", {"attempt": attempt}, state="sent", attempts=attempt,
                           sent_at=sent, next_attempt_at=sent + self.o.follow_up_answer)  # fmt: skip
                if rng.random() < 0.6:
                    return self._answer(visit, self.after(rng.uniform(300, 3 * 3600)), None)
            visit_step(self.after(self.o.follow_up_answer.total_seconds()), "follow_up_no_answer", {"attempts": 2},
                       state="no_answer", next_attempt_at=None)  # fmt: skip
            if owner is not None and rng.random() < 0.4:
                when = self.at(self.after(rng.uniform(86400, 2 * 86400)))
                self.step(when, "agent", owner.username, "close", {"note": None}, transition="close", closed_at=when)
            return False
        visit_step(self.at(due), "follow_up_to_call", {}, state="to_call", next_attempt_at=None)
        if owner is None:
            return False  # on the supervisors' call list
        return self._answer(visit, self.after(rng.uniform(3600, 20 * 3600)), owner)

    def _answer(self, visit: dict[str, Any], when: datetime, caller: Agent | None) -> bool:
        """The visit's answer: in the chat (caller None) or a phone call an agent records."""
        r, rng = self.row, self.rng
        when = self.at(when)
        solved = rng.random() < 0.85
        channel = "chat" if caller is None else "phone"
        kind, actor = ("bot", "bot") if caller is None else ("agent", caller.username)
        rating = rng.choice((3, 4, 5)) if solved and rng.random() < 0.5 else None
        if rating is not None and r["csat_overall"] is None:
            self.step(when, "bot", "bot", "csat_recorded", {"overall": rating}, csat_overall=rating, csat_at=when,
                      csat_owner_id=r["owner_id"], csat_handler_id=r["handler_id"])  # fmt: skip
        details = {"solved": solved, "comment": None, "channel": channel}
        state = _done(r["sla_follow_up"], when, r["follow_up_due"])
        self.step(when, kind, actor, "follow_up", details)
        visit.update(state="solved" if solved else "not_solved", answered_at=when, answer_channel=channel,
                     answered_by=None if caller is None else caller.id, rating=rating, next_attempt_at=None,
                     updated_at=when)  # fmt: skip
        if solved:
            self.step(when, kind, actor, "close", details, transition="close", closed_at=when, follow_up_at=when,
                      follow_up_solved=True, sla_follow_up=state)  # fmt: skip
            return False
        r.update(follow_up_at=when, follow_up_solved=False, sla_follow_up=state)
        self.quiet_until = None
        again = {"reopen_count": r["reopen_count"] + 1, "result_due": when + self.tier.result, "sla_result": "pending",
                 "follow_up_due": None, "sla_follow_up": "pending"}  # fmt: skip
        reason = {"reason": "follow-up: not solved", **details}
        if r["owner_id"] is not None:
            self.step(when, kind, actor, "reopen", reason, transition="reopen", handler_id=r["owner_id"],
                      handler_team=None, **again)  # fmt: skip
        else:
            self.step(when, kind, actor, "reopen", reason, transition="reopen_unowned", sla_first_response="pending",
                      handoff_requested_at=when, **again)  # fmt: skip
        return True

    def with_agents(self) -> None:
        """Accepted from the queue (or back with its owner), worked, resolved, surveyed, visited; again
        while a visit reopens it."""
        while True:
            r = self.row
            if r["status"] == QUEUED:
                agent = self.rng.choice(self.agents)
                when = self.at(self.after(self.wait_for_agent()))
                late = r["sla_first_response"] == "breached" or r["first_response_due"] < when
                self.step(when, "agent", agent.username, "accept", {"owner": agent.username}, transition="accept",
                          owner_id=agent.id, handler_id=agent.id, handler_team=None, first_response_at=when,
                          sla_first_response="breached" if late else "met")  # fmt: skip
            else:
                agent = self.by_id[r["owner_id"]]
            self.resolve(self.work(agent))
            self.csat()
            if not self.follow_up():
                return

    def live(self) -> None:
        r, rng = self.row, self.rng
        self.last = r["created_at"]
        category = r["category"]
        if self.o.detail == P.FULL and rng.random() < P.RECLASSIFIED_SHARE:
            r["category"] = pick(rng, P.CATEGORIES)  # the bot's first guess, corrected below
        self._event(self.last, "bot", "bot", "created", None,
                    {"channel": r["channel"], "category": r["category"], "tier": r["tier"]})  # fmt: skip
        if r["category"] != category:  # `cases.intake.bot_update_case`: each changed field as {from, to}
            when = self.at(self.after(rng.uniform(20, 90)))
            self.step(when, "bot", "bot", "updated", {"category": {"from": r["category"], "to": category}},
                      category=category)  # fmt: skip
        if r["category"] == "complain":
            for n, name in enumerate(("listen_accept", "calm", "clarify"), start=1):
                when = self.at(self.after(rng.uniform(15, 60)))
                self.step(when, "bot", "bot", f"complaint.{name}", {"at": when.isoformat(), "step": n})
        if rng.random() >= P.HANDOFF_SHARE.get(r["category"], P.DEFAULT_HANDOFF_SHARE):
            when = self.at(self.after(rng.uniform(60, 600)))
            self.step(when, "bot", "bot", "resolve", {"result": P.BOT_RESULTS[self.lang]}, transition="resolve",
                      result=P.BOT_RESULTS[self.lang], resolved_at=when, follow_up_due=when + self.tier.follow_up,
                      sla_first_response=_done(r["sla_first_response"], when, r["first_response_due"]),
                      sla_result=_done(r["sla_result"], when, r["result_due"]), sla_follow_up="pending")  # fmt: skip
            self.csat()
            if not self.follow_up():
                return
        else:
            when = self.at(self.after(rng.uniform(30, 300)))
            summary = {
                "problem": r["description"],
                "collected": {"order": f"A{rng.randint(20260000, 20269999)}"},
                "steps_tried": ["checked order status"],
                "emotion": rng.choice(P.EMOTIONS),
                "severity": r["tier"],
                "reason": "customer_request",
            }
            self.step(when, "bot", "bot", "request_handoff", {"summary": summary}, transition="request_handoff",
                      summary=summary, handoff_requested_at=when)  # fmt: skip
        self.with_agents()


def _done(state: str, at: datetime, due: datetime | None) -> str:
    return "breached" if state == "breached" or (due is not None and at > due) else "met"
