"""The figures of the dashboard, computed from the rows `queries.load` read, a few NumPy array
operations each (columns.Table; pure functions: the view and its CSV exports call the same ones, so
they cannot disagree). Every figure returned is a plain Python value (JSON)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

from handoff_service.core.orm import table_of
from handoff_service.sla.states import BREACHED, DEADLINES, MET
from handoff_service.staff.models import StaffUser

from .columns import QUARTER, Table
from .states import BUCKETS, BY_KEY, CARDS

if TYPE_CHECKING:
    from .filters import Filters, Period
    from .queries import Data

S = table_of(StaffUser)


def ranked(ordered: np.ndarray, q: float) -> float | None:
    """Nearest rank of sorted values: the smallest value with at least q of all values at or below it."""
    n = len(ordered)
    return float(ordered[max(0, math.ceil(q * n) - 1)]) if n else None


def mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def ratio(part: float, whole: float) -> float | None:
    return float(part / whole) if whole else None


def time_figures(values: np.ndarray, cases: int) -> dict[str, Any]:
    ordered = np.sort(values)
    return {
        "p50": ranked(ordered, 0.5),
        "p90": ranked(ordered, 0.9),
        "mean": mean(values),
        "cases": int(cases),
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


def _present(col: np.ndarray) -> np.ndarray:
    """The values of a FLOAT column that are not None (NaN)."""
    values: np.ndarray = col[~np.isnan(col)]
    return values


def _timed(t: Table) -> tuple[np.ndarray, int]:
    """The seconds of the rows that have them, and how many cases they belong to."""
    has = ~np.isnan(t["seconds"])
    seconds: np.ndarray = t["seconds"][has]
    return seconds, len(np.unique(t["case_id"][has]))


def _times(d: Data) -> dict[str, dict[str, Any]]:
    claim = _present(d.cases["claim_seconds"])
    first = _present(d.cases["first_response_seconds"])
    waits, wait_cases = _timed(d.waits)
    cycles, cycle_cases = _timed(d.resolved)
    return {
        "claim_time": time_figures(claim, len(claim)),
        "first_response": time_figures(first, len(first)),
        "reply_time": time_figures(waits, wait_cases),
        "resolution_time": time_figures(cycles, cycle_cases),
    }


def _sla_counts(t: Table, deadline: str, rows: np.ndarray | None = None) -> tuple[int, int]:
    """(met, breached) of one SLA deadline, over the rows where `rows` is true (default: all)."""
    col = t[f"sla_{deadline}"] if rows is None else t[f"sla_{deadline}"][rows]
    return int((col == t.code(f"sla_{deadline}", MET)).sum()), int((col == t.code(f"sla_{deadline}", BREACHED)).sum())


def _rated(c: Table) -> np.ndarray:
    return c["csat_overall"][c["csat_overall"] > 0]


def cards(d: Data) -> dict[str, dict[str, Any]]:
    c = d.cases
    new = len(c)
    resolved_once = int((c["resolutions"] > 0).sum())
    reopened = int(((c["resolutions"] > 0) & (c["reopens"] > 0)).sum())
    rated = _rated(c)
    t = times(d)
    out: dict[str, dict[str, Any]] = {
        "cases_new": {"value": new, "cases": new},
        "cases_resolved": {"value": len(np.unique(d.resolved["case_id"])), "events": len(d.resolved)},
        "cases_reopened": {"value": len(np.unique(d.reopened["case_id"])), "events": len(d.reopened)},
        "backlog": {"value": d.backlog},
        "handoff_rate": {"value": ratio(int(c["handed_off"].sum()), new), "cases": new},
        "containment": {
            "value": ratio(d.contacts[0], d.contacts[1]) if d.contacts else None,
            "events": d.contacts[1] if d.contacts else 0,
        },
        "fallback_rate": {"value": ratio(d.traffic[1], d.traffic[0]), "events": d.traffic[0]},
        "reopen_rate": {"value": ratio(reopened, resolved_once), "cases": resolved_once},
        "csat_mean": {"value": mean(rated), "cases": len(rated)},
        "csat_share_4_5": {"value": ratio(int((rated >= 4).sum()), len(rated)), "cases": len(rated)},
        "csat_response_rate": {"value": ratio(len(rated), resolved_once), "cases": resolved_once},
    }
    for key, name in (
        ("claim_time_p50", "claim_time"),
        ("first_response_p50", "first_response"),
        ("reply_time_p50", "reply_time"),
        ("resolution_time_p50", "resolution_time"),
    ):
        out[key] = {"value": t[name]["p50"], "cases": t[name]["cases"], "events": t[name]["events"]}
    for deadline in DEADLINES:
        met, breached = _sla_counts(c, deadline)
        out[f"sla_{deadline}"] = {"value": ratio(met, met + breached), "cases": met + breached}
    fu = follow_ups(d)
    out["follow_up_completion"] = {"value": fu["completion"], "cases": fu["answered"] + fu["no_answer"]}
    return out


def local_of(quarters: np.ndarray, tz: ZoneInfo) -> tuple[np.ndarray, list[datetime]]:
    """Each row's index into the distinct quarter hours of `quarters`, and those as local times
    (zone offsets are whole quarter hours: one conversion per distinct quarter hour)."""
    distinct, index = np.unique(quarters, return_inverse=True)
    return index, [_local(q, tz) for q in distinct.tolist()]


@functools.lru_cache(maxsize=65_536)
def _local(q: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(q * QUARTER, tz)


def _bucket_index(quarters: np.ndarray, f: Filters, keys: dict[str, int]) -> np.ndarray:
    """Each row's series bucket (-1: outside the series)."""
    index, local = local_of(quarters, f.tz)
    of_distinct = np.array([keys.get(_bucket(t, f.granularity), -1) for t in local] or [0], np.int64)
    return of_distinct[index] if len(quarters) else np.empty(0, np.int64)


def _bucket(local: datetime, granularity: str) -> str:
    return local.date().isoformat() if granularity == "day" else local.strftime("%Y-%m-%dT%H:00")


def _grouped_rank(groups: np.ndarray, values: np.ndarray, n: int, q: float) -> list[float | None]:
    """`ranked(…, q)` of the values of each group 0..n-1 (NaN values left out)."""
    keep = ~np.isnan(values)
    groups, values = groups[keep], values[keep]
    order = np.lexsort((values, groups))
    counts = np.bincount(groups, minlength=n)
    starts = np.cumsum(counts) - counts
    ordered = values[order]
    return [
        float(ordered[starts[g] + max(0, math.ceil(q * k) - 1)]) if k else None for g, k in enumerate(counts.tolist())
    ]


def _distinct_cases(groups: np.ndarray, case_ids: np.ndarray, n: int) -> np.ndarray:
    """How many distinct cases each group 0..n-1 has."""
    width = int(case_ids.max()) + 1 if len(case_ids) else 1
    pairs = np.unique(groups * width + case_ids)  # (group, case) as one number
    return np.bincount(pairs // width, minlength=n)


def series(d: Data, f: Filters) -> list[dict[str, Any]]:
    keys: list[str] = []
    day = f.period.first_day
    while day <= f.period.last_day:
        if f.granularity == "day":
            keys.append(day.isoformat())
        else:
            keys.extend(f"{day.isoformat()}T{h:02d}:00" for h in range(24))
        day += timedelta(days=1)
    n = len(keys)
    slot = {k: i for i, k in enumerate(keys)}
    c = d.cases
    b = _bucket_index(c["q"], f, slot)
    inside = b >= 0
    new = np.bincount(b[inside], minlength=n)
    handoffs = np.bincount(b[inside], weights=c["handed_off"][inside], minlength=n)
    fr = _grouped_rank(b[inside], c["first_response_seconds"][inside], n, 0.5)
    distinct = []
    for t in (d.resolved, d.reopened):
        tb = _bucket_index(t["q"], f, slot)
        distinct.append(_distinct_cases(tb[tb >= 0], t["case_id"][tb >= 0], n))
    return [
        {
            "t": k,
            "cases_new": int(new[i]),
            "cases_resolved": int(distinct[0][i]),
            "cases_reopened": int(distinct[1][i]),
            "handoffs": int(handoffs[i]),
            "first_response_p50": fr[i],
        }
        for i, k in enumerate(keys)
    ]


def first_response_buckets(d: Data) -> list[dict[str, Any]]:
    fr = _present(d.cases["first_response_seconds"])
    bounds = [upper for _, upper in BUCKETS if upper is not None]
    counts = np.bincount(np.searchsorted(bounds, fr, side="right"), minlength=len(BUCKETS))
    return [{"bucket": b, "cases": int(n)} for (b, _), n in zip(BUCKETS, counts.tolist(), strict=True)]


def heatmap(d: Data, tz: ZoneInfo) -> list[dict[str, Any]]:
    index, local = local_of(d.cases["q"], tz)
    cell = np.array([t.weekday() * 24 + t.hour for t in local] or [0], np.int64)
    counts = np.bincount(cell[index], minlength=7 * 24) if len(index) else np.zeros(7 * 24, np.int64)
    return [{"weekday": w, "hour": h, "cases": int(counts[w * 24 + h])} for w in range(7) for h in range(24)]


def sla(d: Data, tiers: Sequence[str]) -> list[dict[str, Any]]:
    c = d.cases
    out = []
    for tier in tiers:
        rows = c["tier"] == c.code("tier", tier)
        for deadline in DEADLINES:
            met, breached = _sla_counts(c, deadline, rows)
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
    c = d.cases
    rated = c["csat_overall"] > 0
    overall = c["csat_overall"][rated]
    resolved_once = int((c["resolutions"] > 0).sum())

    def dim(name: str) -> float | None:
        values = c[f"csat_{name}"][rated]
        return mean(values[values > 0])

    counts = np.bincount(overall, minlength=6)
    return {
        "mean": mean(overall),
        "share_4_5": ratio(int((overall >= 4).sum()), len(overall)),
        "responses": len(overall),
        "response_rate": ratio(len(overall), resolved_once),
        "distribution": {str(k): int(counts[k]) for k in range(1, 6)},
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
    """The figures per group of staff (`key`: a staff id's group; None: nobody, the bot): owned
    figures by owner, handled figures by the last handler, resolutions by the handler who resolved
    the cycle, CSAT by the owner and by the handler credited with it."""
    c = d.cases
    credited = {
        "owned": c["owner_id"],
        "handled": c["last_handler_id"],
        "resolved": d.resolved["handler_id"],
        "co": c["csat_owner_id"],
        "ch": c["csat_handler_id"],
    }
    ids = np.unique(np.concatenate(list(credited.values()))).tolist()
    slot: dict[Hashable, int] = {}
    of_id = np.array([slot.setdefault(key(i or None), len(slot)) for i in ids] or [0], np.int64)
    labels: list[Hashable] = list(slot)
    n = len(labels)

    def group(col: np.ndarray) -> np.ndarray:
        return of_id[np.searchsorted(ids, col)] if len(col) else np.empty(0, np.int64)

    g = {name: group(col) for name, col in credited.items()}
    met = g["owned"][c["sla_first_response"] == c.code("sla_first_response", MET)]
    breached = g["owned"][c["sla_first_response"] == c.code("sla_first_response", BREACHED)]
    rated = c["csat_overall"] > 0
    owned, handled, resolved = (np.bincount(g[k], minlength=n) for k in ("owned", "handled", "resolved"))
    met_n, breached_n = np.bincount(met, minlength=n), np.bincount(breached, minlength=n)
    fr = _grouped_rank(g["owned"], c["first_response_seconds"], n, 0.5)
    csat_means = {}
    for k in ("co", "ch"):
        counted = np.bincount(g[k][rated], minlength=n)
        total = np.bincount(g[k][rated], weights=c["csat_overall"][rated], minlength=n)
        csat_means[k] = [float(total[i] / counted[i]) if counted[i] else None for i in range(n)]
    return {
        label: {
            "cases_owned": int(owned[i]),
            "cases_handled": int(handled[i]),
            "resolved": int(resolved[i]),
            "first_response_p50": fr[i],
            "sla_first_response_attainment": ratio(int(met_n[i]), int(met_n[i] + breached_n[i])),
            "csat_owner_mean": csat_means["co"][i],
            "csat_handler_mean": csat_means["ch"][i],
        }
        for i, label in enumerate(labels)
    }


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
    c = d.cases
    counts = np.bincount(c["category"], minlength=len(c.vocab["category"])).tolist()
    named = [(k, n) for k, n in zip(c.vocab["category"], counts, strict=True) if n]
    return [
        {"category": k, "cases": n, "share": ratio(n, len(c))} for k, n in sorted(named, key=lambda kv: (-kv[1], kv[0]))
    ]


def follow_ups(d: Data) -> dict[str, Any]:
    c = d.cases
    planned, solved = int(c["visits_planned"].sum()), int(c["visits_solved"].sum())
    not_solved, no_answer = int(c["visits_not_solved"].sum()), int(c["visits_no_answer"].sum())
    answered = solved + not_solved
    return {
        "planned": planned,
        "answered": answered,
        "solved": solved,
        "not_solved": not_solved,
        "no_answer": no_answer,
        "completion": ratio(answered, answered + no_answer),
    }
