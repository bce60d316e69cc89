"""Staffing use cases: next week's forecast next to the plan, and the plan's update (audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert

from handoff_service.audit import service as audit
from handoff_service.core.deps import Deps
from handoff_service.core.errors import ValidationFailed
from handoff_service.core.principal import Principal

from . import forecast, queries
from .forecast import HOURS_PER_WEEK, Params, TierInfo

__all__ = ["build_forecast", "get_plan", "save_plan"]


def _plan_json(deps: Deps, rows: list[Any]) -> dict[str, Any]:
    agents = [0] * HOURS_PER_WEEK
    updated: Any = None
    for r in rows:
        agents[r.weekday * 24 + r.hour] = r.agents
        if updated is None or r.updated_at > updated.updated_at:
            updated = r
    return {
        "zone": deps.settings.case_number_tz,
        "hours": [{"weekday": s // 24, "hour": s % 24, "agents": agents[s]} for s in range(HOURS_PER_WEEK)],
        "updated_at": updated.updated_at.isoformat() if updated else None,
        "updated_by": deps.users.get(updated.updated_by) if updated else None,
    }


async def get_plan(deps: Deps) -> dict[str, Any]:
    async with deps.read_engine.begin() as conn:
        rows = await queries.plan_rows(conn)
        await deps.users.load(conn, {r.updated_by for r in rows})
    return _plan_json(deps, rows)


async def save_plan(deps: Deps, p: Principal, hours: list[dict[str, int]]) -> dict[str, Any]:
    """Replaces the weekly plan (hours not given have no agents); one transaction, audited with
    the hours that changed (from, to)."""
    wanted: dict[int, int] = {}
    for i, h in enumerate(hours):
        s = h["weekday"] * 24 + h["hour"]
        if s in wanted:
            raise ValidationFailed(
                f"body.hours[{i}]: weekday {h['weekday']} hour {h['hour']} is given twice", code="invalid_field"
            )
        wanted[s] = h["agents"]
    now = deps.clock.now()
    async with deps.tx() as conn:
        before = {r.weekday * 24 + r.hour: r.agents for r in await queries.plan_rows(conn)}
        await conn.execute(delete(queries.P))
        rows = [
            {"weekday": s // 24, "hour": s % 24, "agents": n, "updated_at": now, "updated_by": p.user_id}
            for s, n in sorted(wanted.items())
            if n > 0
        ]
        if rows:
            await conn.execute(insert(queries.P), rows)
        changes = [
            {"weekday": s // 24, "hour": s % 24, "from": before.get(s, 0), "to": wanted.get(s, 0)}
            for s in range(HOURS_PER_WEEK)
            if before.get(s, 0) != wanted.get(s, 0)
        ]
        await audit.record(
            conn,
            at=now,
            actor=p,
            action="staffing.plan",
            target_type="staffing_plan",
            details={"changed": changes},
        )
        after = await queries.plan_rows(conn)
        await deps.users.load(conn, {p.user_id})
    return _plan_json(deps, after)


def _tiers(deps: Deps) -> list[TierInfo]:
    return [
        TierInfo(t.name, t.rank, t.first_response.total_seconds())
        for t in sorted(deps.sla.tiers.values(), key=lambda t: t.rank)
    ]


async def build_forecast(deps: Deps, params: Params, now: datetime | None = None) -> dict[str, Any]:
    """Next week's 168 hours (service zone): expected handoffs per tier, handle time, agents
    needed per tier and pooled, staff to schedule, the plan; and the current hour with the
    agents online now."""
    now = now or deps.clock.now()
    zone = ZoneInfo(deps.settings.case_number_tz)
    tiers = _tiers(deps)
    names = [t.name for t in tiers]
    start, end = forecast.history_window(now, zone, params.weeks)
    async with deps.read_engine.begin() as conn:
        if forecast.whole_hour_offsets(zone, start, end):
            arrivals = await queries.handoffs_per_hour(conn, start, end)
        else:
            arrivals = [(at, tier, 1) for at, tier in await queries.handoffs(conn, start, end)]
        stats = await queries.handle_stats(conn, start, end, forecast.HANDLE_CAP_SECONDS)
        plan_rows = await queries.plan_rows(conn)
    expected = forecast.expected_arrivals(arrivals, zone, params.weeks, names)
    handle = forecast.handle_times(stats, names)
    handle_s = {t: handle[t]["seconds"] for t in names}
    plan = [0] * HOURS_PER_WEEK
    for r in plan_rows:
        plan[r.weekday * 24 + r.hour] = r.agents
    week = forecast.next_week_start(now, zone)
    hour = forecast.current_hour(now, zone)
    s = forecast.slot(hour, zone)
    current = forecast.hour_need({t: expected[t][s] for t in names}, handle_s, tiers, params)
    return {
        "zone": deps.settings.case_number_tz,
        "generated_at": now.isoformat(),
        "week_start": week.isoformat(),
        "parameters": {
            "weeks": params.weeks,
            "target": params.target,
            "answer_seconds": params.answer_seconds,
            "shrinkage": params.shrinkage,
            "max_occupancy": params.max_occupancy,
        },
        "history": {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "handoffs": {t: sum(n for _, tier, n in arrivals if tier == t) for t in names},
        },
        "tiers": [{"name": t.name, "rank": t.rank, "first_response_seconds": t.first_response_seconds} for t in tiers],
        "handle_time": {
            t: {k: (round(v, 1) if k == "seconds" else v) for k, v in handle[t].items()} for t in ["all", *names]
        },
        "hours": forecast.week_forecast(expected, handle_s, tiers, params, week, plan),
        "now": {
            "start": hour.isoformat(),
            "weekday": hour.weekday(),
            "hour": hour.hour,
            **current,
            "scheduled": plan[s],
            "online": deps.hub.online_agents(),
        },
    }
