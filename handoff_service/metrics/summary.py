"""The cards of a period computed by the database (aggregates and nearest-rank percentiles), for
the previous period, whose rows the dashboard does not otherwise need: the same figures as
figures.cards over queries.load's rows (a test compares both), at a fraction of the cost."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_service.sla.states import BREACHED, DEADLINES, MET

from . import queries
from .figures import ratio
from .filters import Filters, Period
from .queries import MC, MW, MY


def _count_if(cond: Any) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


async def _p50(conn: AsyncConnection, column: Any, where: list[Any], source: Any, n: int) -> float | None:
    """Nearest rank: the value at position ceil(n / 2) of the sorted values."""
    if n == 0:
        return None
    offset = max(0, math.ceil(0.5 * n) - 1)
    q = select(column).select_from(source).where(column.is_not(None), *where).order_by(column).limit(1).offset(offset)
    value = (await conn.execute(q)).scalar_one()
    return float(value)


async def cards(conn: AsyncConnection, f: Filters, p: Period, now: datetime) -> dict[str, dict[str, Any]]:
    conds = queries.where(f)
    cohort = [MC.c.created_at >= p.start, MC.c.created_at < p.end, *conds]
    rated = MC.c.csat_overall.is_not(None)
    cols = [
        func.count(),
        _count_if(MC.c.handoff_at.is_not(None)),
        _count_if(MC.c.resolutions > 0),
        _count_if((MC.c.resolutions > 0) & (MC.c.reopens > 0)),
        _count_if(rated),
        func.coalesce(func.sum(MC.c.csat_overall), 0),
        _count_if(MC.c.csat_overall >= 4),
        func.coalesce(func.sum(MC.c.visits_solved + MC.c.visits_not_solved), 0),
        func.coalesce(func.sum(MC.c.visits_no_answer), 0),
        _count_if(MC.c.claim_seconds.is_not(None)),
        _count_if(MC.c.first_response_seconds.is_not(None)),
    ]
    for d in DEADLINES:
        cols += [_count_if(MC.c[f"sla_{d}"] == MET), _count_if(MC.c[f"sla_{d}"] == BREACHED)]
    row = (await conn.execute(select(*cols).where(*cohort))).one()
    new, handed, resolved_once, reopened, n_rated, csat_sum, high, answered, no_answer, n_claim, n_first = (
        int(v) for v in row[:11]
    )
    sla = [int(v) for v in row[11:]]
    cycles = queries.scoped(MY, conds)
    ended = [MY.c.ended_at >= p.start, MY.c.ended_at < p.end, *conds]
    res_events, res_cases = (
        await conn.execute(
            select(func.count(), func.count(func.distinct(MY.c.case_id))).select_from(cycles).where(*ended)
        )
    ).one()
    reopen = [MY.c.cycle > 0, MY.c.started_at >= p.start, MY.c.started_at < p.end, *conds]
    ro_events, ro_cases = (
        await conn.execute(
            select(func.count(), func.count(func.distinct(MY.c.case_id))).select_from(cycles).where(*reopen)
        )
    ).one()
    waits = queries.scoped(MW, conds)
    waited = [MW.c.started_at >= p.start, MW.c.started_at < p.end, MW.c.seconds.is_not(None), *conds]
    w_events, w_cases = (
        await conn.execute(
            select(func.count(), func.count(func.distinct(MW.c.case_id))).select_from(waits).where(*waited)
        )
    ).one()
    timed = [MY.c.seconds.is_not(None), *ended]
    t_events, t_cases = res_events, res_cases  # an ended cycle has its seconds (facts.py)
    contacts = await queries.contacts(conn, f, p, now)
    traffic = await queries.traffic(conn, f, p)
    out: dict[str, dict[str, Any]] = {
        "cases_new": {"value": new, "cases": new},
        "cases_resolved": {"value": res_cases, "events": res_events},
        "cases_reopened": {"value": ro_cases, "events": ro_events},
        "backlog": {"value": await queries.backlog(conn, f, p)},
        "handoff_rate": {"value": ratio(handed, new), "cases": new},
        "containment": {
            "value": ratio(contacts[0], contacts[1]) if contacts else None,
            "events": contacts[1] if contacts else 0,
        },
        "fallback_rate": {"value": ratio(traffic[1], traffic[0]), "events": traffic[0]},
        "reopen_rate": {"value": ratio(reopened, resolved_once), "cases": resolved_once},
        "csat_mean": {"value": csat_sum / n_rated if n_rated else None, "cases": n_rated},
        "csat_share_4_5": {"value": ratio(high, n_rated), "cases": n_rated},
        "csat_response_rate": {"value": ratio(n_rated, resolved_once), "cases": resolved_once},
        "claim_time_p50": {
            "value": await _p50(conn, MC.c.claim_seconds, cohort, MC, n_claim),
            "cases": n_claim,
            "events": n_claim,
        },
        "first_response_p50": {
            "value": await _p50(conn, MC.c.first_response_seconds, cohort, MC, n_first),
            "cases": n_first,
            "events": n_first,
        },
        "reply_time_p50": {
            "value": await _p50(conn, MW.c.seconds, waited, waits, w_events),
            "cases": w_cases,
            "events": w_events,
        },
        "resolution_time_p50": {
            "value": await _p50(conn, MY.c.seconds, timed, cycles, t_events),
            "cases": t_cases,
            "events": t_events,
        },
    }
    for i, d in enumerate(DEADLINES):
        met, breached = sla[2 * i], sla[2 * i + 1]
        out[f"sla_{d}"] = {"value": ratio(met, met + breached), "cases": met + breached}
    out["follow_up_completion"] = {"value": ratio(answered, answered + no_answer), "cases": answered + no_answer}
    return out
