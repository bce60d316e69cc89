"""The figures of the dashboard, computed from the rows `queries.load` read (pure functions: the
view and its CSV exports call the same ones, so they cannot disagree)."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from handoff_service.core.orm import table_of
from handoff_service.sla.states import BREACHED, DEADLINES, MET
from handoff_service.staff.models import StaffUser

from .states import BUCKETS, BY_KEY, CARDS

if TYPE_CHECKING:
    from .filters import Filters, Period
    from .queries import Data

S = table_of(StaffUser)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest rank: the smallest value with at least q of all values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def time_figures(values: Sequence[float], cases: int) -> dict[str, Any]:
    return {
        "p50": percentile(values, 0.5),
        "p90": percentile(values, 0.9),
        "mean": mean(values),
        "cases": cases,
        "events": len(values),
    }


def unit(card: str) -> str:
    return str(BY_KEY[CARDS[card]]["unit"])


def weeks(f: Filters, p: Period) -> list[str]:
    """The Mondays of the weeks overlapping the period (review_traffic's key)."""
    day: date = p.first_day - timedelta(days=p.first_day.weekday())
    out = []
    while day <= p.last_day:
        out.append(day.isoformat())
        day += timedelta(days=7)
    return out


def times(d: Data) -> dict[str, dict[str, Any]]:
    if "times" not in d.memo:
        d.memo["times"] = _times(d)
    return dict(d.memo["times"])


def _times(d: Data) -> dict[str, dict[str, Any]]:
    claim = [c.claim_seconds for c in d.cases if c.claim_seconds is not None]
    first = [c.first_response_seconds for c in d.cases if c.first_response_seconds is not None]
    waits = [w for w in d.waits if w.seconds is not None]
    cycles = [y for y in d.resolved if y.seconds is not None]
    return {
        "claim_time": time_figures(claim, len(claim)),
        "first_response": time_figures(first, len(first)),
        "reply_time": time_figures([w.seconds for w in waits], len({w.case_id for w in waits})),
        "resolution_time": time_figures([y.seconds for y in cycles], len({y.case_id for y in cycles})),
    }


def _sla_counts(cases: Iterable[Any], deadline: str) -> tuple[int, int]:
    states = [getattr(c, f"sla_{deadline}") for c in cases]
    return states.count(MET), states.count(BREACHED)


def cards(d: Data) -> dict[str, dict[str, Any]]:
    new = len(d.cases)
    resolved_once = [c for c in d.cases if c.resolutions > 0]
    rated = [c.csat_overall for c in d.cases if c.csat_overall is not None]
    t = times(d)
    out: dict[str, dict[str, Any]] = {
        "cases_new": {"value": new, "cases": new},
        "cases_resolved": {"value": len({y.case_id for y in d.resolved}), "events": len(d.resolved)},
        "cases_reopened": {"value": len({y.case_id for y in d.reopened}), "events": len(d.reopened)},
        "backlog": {"value": d.backlog},
        "handoff_rate": {"value": ratio(sum(bool(c.handed_off) for c in d.cases), new), "cases": new},
        "containment": {
            "value": ratio(d.contacts[0], d.contacts[1]) if d.contacts else None,
            "events": d.contacts[1] if d.contacts else 0,
        },
        "fallback_rate": {"value": ratio(d.traffic[1], d.traffic[0]), "events": d.traffic[0]},
        "reopen_rate": {
            "value": ratio(sum(c.reopens > 0 for c in resolved_once), len(resolved_once)),
            "cases": len(resolved_once),
        },
        "csat_mean": {"value": mean(rated), "cases": len(rated)},
        "csat_share_4_5": {"value": ratio(sum(r >= 4 for r in rated), len(rated)), "cases": len(rated)},
        "csat_response_rate": {"value": ratio(len(rated), len(resolved_once)), "cases": len(resolved_once)},
    }
    for key, name in (("claim_time_p50", "claim_time"), ("first_response_p50", "first_response")):
        out[key] = {"value": t[name]["p50"], "cases": t[name]["cases"], "events": t[name]["events"]}
    for key, name in (("reply_time_p50", "reply_time"), ("resolution_time_p50", "resolution_time")):
        out[key] = {"value": t[name]["p50"], "cases": t[name]["cases"], "events": t[name]["events"]}
    for deadline in DEADLINES:
        met, breached = _sla_counts(d.cases, deadline)
        out[f"sla_{deadline}"] = {"value": ratio(met, met + breached), "cases": met + breached}
    fu = follow_ups(d)
    out["follow_up_completion"] = {"value": fu["completion"], "cases": fu["answered"] + fu["no_answer"]}
    return out


class _Local:
    """The local time of a quarter hour of UTC (queries.quarter), computed once per quarter hour
    (zone offsets are whole quarter hours), for hourly and daily buckets."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.memo: dict[int, datetime] = {}

    def __call__(self, q: int) -> datetime:
        local = self.memo.get(q)
        if local is None:
            local = self.memo[q] = datetime.fromtimestamp(q * 900, self.tz)
        return local


def _bucket(local: datetime, granularity: str) -> str:
    return local.date().isoformat() if granularity == "day" else local.strftime("%Y-%m-%dT%H:00")


def series(d: Data, f: Filters) -> list[dict[str, Any]]:
    keys: list[str] = []
    day = f.period.first_day
    while day <= f.period.last_day:
        if f.granularity == "day":
            keys.append(day.isoformat())
        else:
            keys.extend(f"{day.isoformat()}T{h:02d}:00" for h in range(24))
        day += timedelta(days=1)
    pts: dict[str, dict[str, Any]] = {
        k: {"t": k, "cases_new": 0, "cases_resolved": set(), "cases_reopened": set(), "handoffs": 0, "fr": []}
        for k in keys
    }
    local = _Local(f.tz)
    for c in d.cases:
        p = pts.get(_bucket(local(c.created_q), f.granularity))
        if p is None:
            continue
        p["cases_new"] += 1
        p["handoffs"] += bool(c.handed_off)
        if c.first_response_seconds is not None:
            p["fr"].append(c.first_response_seconds)
    for rows, name, col in ((d.resolved, "cases_resolved", "ended_q"), (d.reopened, "cases_reopened", "started_q")):
        for y in rows:
            p = pts.get(_bucket(local(getattr(y, col)), f.granularity))
            if p is not None:
                p[name].add(y.case_id)
    return [
        {
            "t": p["t"],
            "cases_new": p["cases_new"],
            "cases_resolved": len(p["cases_resolved"]),
            "cases_reopened": len(p["cases_reopened"]),
            "handoffs": p["handoffs"],
            "first_response_p50": percentile(p["fr"], 0.5),
        }
        for p in pts.values()
    ]


def first_response_buckets(d: Data) -> list[dict[str, Any]]:
    counts = dict.fromkeys((b for b, _ in BUCKETS), 0)
    for c in d.cases:
        s = c.first_response_seconds
        if s is None:
            continue
        counts[next(b for b, upper in BUCKETS if upper is None or s < upper)] += 1
    return [{"bucket": b, "cases": n} for b, n in counts.items()]


def heatmap(d: Data, tz: ZoneInfo) -> list[dict[str, Any]]:
    cells = {(w, h): 0 for w in range(7) for h in range(24)}
    to_local = _Local(tz)
    for c in d.cases:
        local = to_local(c.created_q)
        cells[(local.weekday(), local.hour)] += 1
    return [{"weekday": w, "hour": h, "cases": n} for (w, h), n in cells.items()]


def sla(d: Data, tiers: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for tier in tiers:
        cases = [c for c in d.cases if c.tier == tier]
        for deadline in DEADLINES:
            met, breached = _sla_counts(cases, deadline)
            out.append(
                {
                    "tier": tier,
                    "deadline": deadline,
                    "met": met,
                    "breached": breached,
                    "attainment": ratio(met, met + breached),
                }
            )
    return out


def csat(d: Data) -> dict[str, Any]:
    rated = [c for c in d.cases if c.csat_overall is not None]
    overall = [c.csat_overall for c in rated]
    resolved_once = sum(c.resolutions > 0 for c in d.cases)

    def dim(name: str) -> float | None:
        return mean([v for c in rated if (v := getattr(c, f"csat_{name}")) is not None])

    return {
        "mean": mean(overall),
        "share_4_5": ratio(sum(r >= 4 for r in overall), len(overall)),
        "responses": len(overall),
        "response_rate": ratio(len(overall), resolved_once),
        "distribution": {str(k): overall.count(k) for k in range(1, 6)},
        "dimensions": {name: dim(name) for name in ("attitude", "speed", "solved")},
    }


FIGURE_COLUMNS = (
    "cases_owned",
    "cases_handled",
    "resolved",
    "first_response_p50",
    "sla_first_response_attainment",
    "csat_owner_mean",
    "csat_handler_mean",
)


def _grouped(d: Data, key: Callable[[int | None], Hashable]) -> dict[Hashable, dict[str, Any]]:
    """Per group (of the staff member each figure is credited to): owned figures by owner, handled
    figures by the last handler, resolutions by the handler who resolved the cycle (None: the bot)."""
    acc: dict[Hashable, dict[str, list[Any]]] = {}

    def at(staff_id: int | None) -> dict[str, list[Any]]:
        k = key(staff_id)
        found = acc.get(k)
        if found is None:
            found = acc[k] = {n: [] for n in ("owned", "handled", "resolved", "co", "ch")}
        return found

    for c in d.cases:
        at(c.owner_id)["owned"].append(c)
        at(c.last_handler_id)["handled"].append(c)
        if c.csat_overall is not None:
            at(c.csat_owner_id)["co"].append(c.csat_overall)
            at(c.csat_handler_id)["ch"].append(c.csat_overall)
    for y in d.resolved:
        at(y.handler_id)["resolved"].append(y)
    out: dict[Hashable, dict[str, Any]] = {}
    for k, a in acc.items():
        owned = a["owned"]
        met, breached = _sla_counts(owned, "first_response")
        fr = [c.first_response_seconds for c in owned if c.first_response_seconds is not None]
        out[k] = {
            "cases_owned": len(owned),
            "cases_handled": len(a["handled"]),
            "resolved": len(a["resolved"]),
            "first_response_p50": percentile(fr, 0.5),
            "sla_first_response_attainment": ratio(met, met + breached),
            "csat_owner_mean": mean(a["co"]),
            "csat_handler_mean": mean(a["ch"]),
        }
    return out


def _order(rows: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r[name] is None, -r["cases_owned"], r[name] or ""))


def agents(d: Data, people: dict[int, Any]) -> list[dict[str, Any]]:
    rows = []
    for staff_id, figs in _grouped(d, lambda i: i).items():
        person = people.get(staff_id) if isinstance(staff_id, int) else None
        rows.append(
            {
                "agent": person.username if person else None,
                "display_name": person.display_name if person else None,
                "team": person.team if person else None,
                **figs,
            }
        )
    return _order(rows, "agent")


def teams(d: Data, people: dict[int, Any]) -> list[dict[str, Any]]:
    def team(staff_id: int | None) -> str | None:
        person = people.get(staff_id) if staff_id is not None else None
        return person.team if person else None

    rows = [{"team": k, **figs} for k, figs in _grouped(d, team).items()]
    return _order(rows, "team")


def categories(d: Data) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    for c in d.cases:
        counts[c.category] = counts.get(c.category, 0) + 1
    total = len(d.cases)
    return [
        {"category": k, "cases": n, "share": ratio(n, total)}
        for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def follow_ups(d: Data) -> dict[str, Any]:
    planned = sum(c.visits_planned for c in d.cases)
    solved = sum(c.visits_solved for c in d.cases)
    not_solved = sum(c.visits_not_solved for c in d.cases)
    no_answer = sum(c.visits_no_answer for c in d.cases)
    answered = solved + not_solved
    return {
        "planned": planned,
        "answered": answered,
        "solved": solved,
        "not_solved": not_solved,
        "no_answer": no_answer,
        "completion": ratio(answered, answered + no_answer),
    }
