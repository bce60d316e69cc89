"""The forecast itself, pure: expected arrivals per hour of the week from the history, handle
time per tier, and the agents each hour needs (Erlang C, `erlang.py`). No I/O: `service.py`
reads the history and the plan and passes them in.

- Arrivals: the mean of the same hour of the week over the last `weeks` weeks (each hour of the
  week occurs exactly `weeks` times in the window, which ends at the start of the current hour).
- Handle time: per tier, the mean time from an agent's accept to the resolution of the first
  care cycle, over the window's cases; cases taking longer than `HANDLE_CAP_SECONDS` are left
  out (parked over night, not worked continuously). A tier with fewer than `MIN_MEASURED` cases
  takes the mean over all tiers; no measurement at all: `DEFAULT_HANDLE_SECONDS`.
- Agents: per tier as its own queue, and for all tiers as one pooled queue (every agent takes
  every tier, as the console's queue works) with the strictest answer time of the tiers that
  have arrivals. The answer time of a tier is the service-level time (`answer_seconds`), or its
  first-response deadline when that is shorter; the pooled figure is the one to staff.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from . import erlang

HOURS_PER_WEEK = 168
HANDLE_CAP_SECONDS = 4 * 3600
MIN_MEASURED = 5
DEFAULT_HANDLE_SECONDS = 600.0


@dataclass(frozen=True)
class Params:
    weeks: int = 4
    target: float = 0.8  # share answered within answer_seconds
    answer_seconds: float = 60.0
    shrinkage: float = 0.3
    max_occupancy: float = 0.85


@dataclass(frozen=True)
class TierInfo:
    name: str
    rank: int
    first_response_seconds: float


def slot(at: datetime, zone: ZoneInfo) -> int:
    """Hour of the week in the service zone: Monday 00:00-00:59 is 0, Sunday 23:00 is 167."""
    local = at.astimezone(zone)
    return local.weekday() * 24 + local.hour


def current_hour(now: datetime, zone: ZoneInfo) -> datetime:
    return now.astimezone(zone).replace(minute=0, second=0, microsecond=0)


def next_week_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Monday 00:00 of the week after the current one (service zone)."""
    local = now.astimezone(zone)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return (monday + timedelta(days=7)).replace(tzinfo=zone)


def history_window(now: datetime, zone: ZoneInfo, weeks: int) -> tuple[datetime, datetime]:
    end = current_hour(now, zone)
    return end - timedelta(weeks=weeks), end


def expected_arrivals(
    arrivals: Iterable[tuple[datetime, str, int]], zone: ZoneInfo, weeks: int, tiers: Sequence[str]
) -> dict[str, list[float]]:
    """tier -> 168 expected arrivals (the mean over `weeks` of each hour of the week), from
    (time, tier, count) rows: single handoffs or counts per hour."""
    counts = {t: [0] * HOURS_PER_WEEK for t in tiers}
    for at, tier, n in arrivals:
        if tier in counts:
            counts[tier][slot(at, zone)] += n
    return {t: [c / weeks for c in row] for t, row in counts.items()}


def whole_hour_offsets(zone: ZoneInfo, start: datetime, end: datetime) -> bool:
    """Whether counting per UTC hour gives the zone's hours (no half-hour offset in the window)."""
    offsets = (t.astimezone(zone).utcoffset() or timedelta(0) for t in (start, end))
    return all(o % timedelta(hours=1) == timedelta(0) for o in offsets)


def handle_times(stats: Mapping[str, tuple[float, int, int]], tiers: Sequence[str]) -> dict[str, dict[str, Any]]:
    """tier -> {seconds, cases, measured}, and "all" with `excluded`, from per tier (sum of the
    kept handle times, kept, left out) (see the module's description)."""
    total = sum(v[0] for v in stats.values())
    kept = sum(v[1] for v in stats.values())
    overall = total / kept if kept else DEFAULT_HANDLE_SECONDS
    excluded = sum(v[2] for v in stats.values())
    out: dict[str, dict[str, Any]] = {
        "all": {"seconds": overall, "cases": kept, "measured": kept > 0, "excluded": excluded}
    }
    for t in tiers:
        s, n, _ = stats.get(t, (0.0, 0, 0))
        if n >= MIN_MEASURED:
            out[t] = {"seconds": s / n, "cases": n, "measured": True}
        else:
            out[t] = {"seconds": overall, "cases": n, "measured": False}
    return out


def _answer_seconds(tier: TierInfo, params: Params) -> tuple[float, str]:
    if tier.first_response_seconds < params.answer_seconds:
        return tier.first_response_seconds, "first_response_deadline"
    return params.answer_seconds, "answer_time"


def hour_need(
    arrivals: Mapping[str, float], handle: Mapping[str, float], tiers: Sequence[TierInfo], params: Params
) -> dict[str, Any]:
    """Agents one hour needs: per tier as its own queue and for the pooled queue."""
    per_tier: dict[str, int] = {}
    strictest: tuple[float, str] | None = None
    for t in tiers:
        lam = arrivals.get(t.name, 0.0)
        answer, why = _answer_seconds(t, params)
        req = erlang.agents_needed(
            lam, handle[t.name], target=params.target, answer_seconds=answer, max_occupancy=params.max_occupancy
        )
        per_tier[t.name] = req.agents
        if lam > 0 and (strictest is None or answer < strictest[0]):
            strictest = (answer, why)
    total = sum(arrivals.get(t.name, 0.0) for t in tiers)
    aht = sum(arrivals.get(t.name, 0.0) * handle[t.name] for t in tiers) / total if total > 0 else 0.0
    answer, why = strictest or (params.answer_seconds, "answer_time")
    pooled = erlang.agents_needed(
        total,
        aht,
        target=params.target,
        answer_seconds=answer,
        max_occupancy=params.max_occupancy,
        shrinkage=params.shrinkage,
    )
    binding = {"none": "none", "occupancy": "occupancy"}.get(pooled.binding, why)
    return {
        "arrivals": {**{t.name: round(arrivals.get(t.name, 0.0), 4) for t in tiers}, "total": round(total, 4)},
        "handle_seconds": round(aht, 1),
        "agents_needed": {**per_tier, "total": pooled.agents},
        "staff_needed": pooled.staff,
        "service_level": round(pooled.service_level, 4),
        "asa_seconds": round(pooled.asa_seconds, 1),
        "occupancy": round(pooled.occupancy, 4),
        "answer_seconds": answer,
        "binding": binding,
    }


def week_forecast(
    expected: Mapping[str, Sequence[float]],
    handle: Mapping[str, float],
    tiers: Sequence[TierInfo],
    params: Params,
    start: datetime,
    plan: Sequence[int],
) -> list[dict[str, Any]]:
    """The 168 hours from `start` (a Monday 00:00 in the service zone) with the plan's agents."""
    hours = []
    for i in range(HOURS_PER_WEEK):
        at = start + timedelta(hours=i)
        s = at.weekday() * 24 + at.hour
        need = hour_need({t.name: expected[t.name][s] for t in tiers}, handle, tiers, params)
        hours.append(
            {
                "start": at.isoformat(),
                "weekday": at.weekday(),
                "hour": at.hour,
                **need,
                "scheduled": plan[s],
                "gap": plan[s] - need["staff_needed"],
            }
        )
    return hours
