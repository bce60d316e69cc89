"""The demo history, pure and seeded: creation times by the hour-and-weekday pattern, the mix of
channels, languages, categories and tiers, and each case's life (`lifecycle.py`)."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from handoff_service.cases.states import OPEN
from handoff_service.core.tiers import SLAConfig

from . import patterns as P
from .lifecycle import DEMO_PREFIX, DEMO_SEQUENCE, Agent, Cutoff, DemoCase, Options, Sim, pick

__all__ = ["DEMO_PREFIX", "DEMO_SEQUENCE", "Agent", "DemoCase", "Options", "arrival_times", "generate"]


def arrival_times(opts: Options, rng: random.Random) -> list[datetime]:
    """`opts.cases` creation times in the `days` before `now`, by the hour and weekday pattern."""
    begin = opts.now - timedelta(days=opts.days)
    start = begin.astimezone(opts.zone).replace(minute=0, second=0, microsecond=0)
    hours, cum, total = [], [], 0.0
    at = start
    while at < opts.now:
        local = at.astimezone(opts.zone)
        total += P.HOUR_WEIGHTS[local.hour] * P.WEEKDAY_WEIGHTS[local.weekday()]
        hours.append(at)
        cum.append(total)
        at += timedelta(hours=1)
    times: list[datetime] = []
    while len(times) < opts.cases:
        h = hours[min(bisect.bisect_left(cum, rng.random() * total), len(hours) - 1)]
        t = h + timedelta(seconds=rng.random() * 3600)
        if begin <= t < opts.now:
            times.append(t.astimezone(timezone.utc))
    return sorted(times)


def generate(opts: Options, agents: list[Agent]) -> Iterator[DemoCase]:
    """The demo cases, in creation order, one at a time (100,000 cases need not fit in memory at
    once); the same options and agents give the same cases."""
    rng = random.Random(opts.seed)
    per_day: dict[str, itertools.count[int]] = {}
    for i, created in enumerate(arrival_times(opts, rng)):
        day = created.astimezone(opts.zone).strftime("%Y%m%d")
        seq = next(per_day.setdefault(day, itertools.count(DEMO_SEQUENCE + 1)))
        if seq > 999_999:
            raise ValueError(f"more than {999_999 - DEMO_SEQUENCE} demo cases on {day}")
        lang = pick(rng, P.LANGUAGES)
        category = pick(rng, P.CATEGORIES)
        tier = opts.sla.tier(pick(rng, P.TIERS) if _has_tiers(opts.sla) else None)
        row: dict[str, Any] = {
            "number": f"C{day}-{seq}",
            "channel": pick(rng, P.CHANNELS),
            "conversation_id": f"{DEMO_PREFIX}{opts.seed}-{i:06d}",
            "language": lang,
            "category": category,
            "tier": tier.name,
            "tier_rank": tier.rank,
            "description": P.PROBLEMS[lang][category],
            "summary": None, "result": None, "status": OPEN, "owner_id": None, "handler_id": None,
            "handler_team": None, "links": [{"rel": "demo", "href": f"demo-data:seed={opts.seed}"}],
            "outage_notice": None, "reopen_count": 0, "version": 1, "created_at": created, "updated_at": created,
            "handoff_requested_at": None, "first_response_at": None, "resolved_at": None, "closed_at": None,
            "first_response_due": created + tier.first_response, "result_due": created + tier.result,
            "follow_up_due": None, "sla_first_response": "pending", "sla_result": "pending",
            "sla_follow_up": "pending", "follow_up_at": None, "follow_up_solved": None, "csat_overall": None,
            "csat_attitude": None, "csat_speed": None, "csat_solved": None, "csat_comment": None, "csat_at": None,
            "csat_owner_id": None, "csat_handler_id": None, "idempotency_key": None,
        }  # fmt: skip
        sim = Sim(opts, rng, agents, row)
        try:
            sim.live()
        except Cutoff:
            # a visit the history leaves waiting would be asked by the running service's scheduler:
            # a demo conversation cannot be reached, so it waits on the phone list instead
            for visit in sim.case.visits:
                if visit["state"] in ("scheduled", "sent"):
                    visit.update(state="to_call", next_attempt_at=None)
        yield sim.case


def _has_tiers(sla: SLAConfig) -> bool:
    return all(name in sla.tiers for name, _ in P.TIERS)
