"""The dashboard of a period: its figures from its rows (figures.py over queries.load) and, for
the cards' changes, the previous period's cards from its rows."""

from __future__ import annotations

import asyncio
from typing import Any

from handoff_service.core.deps import Deps

from . import figures
from .filters import Filters
from .queries import Data, load, staff
from .states import CARDS


def _change(value: float | None, previous: float | None) -> float | None:
    if value is None or previous is None or previous == 0:
        return None
    return (value - previous) / previous


async def dashboard(deps: Deps, f: Filters) -> dict[str, Any]:
    at = deps.clock.now()

    async def current() -> tuple[Data, dict[int, Any]]:
        async with deps.read_engine.begin() as conn:
            now = await load(conn, f, f.period, at)
            return now, await staff(conn, [now])

    async def previous() -> dict[str, dict[str, Any]]:
        async with deps.read_engine.begin() as conn:
            return figures.cards(await load(conn, f, f.previous, at))

    # two connections: the database reads one period while this process unpacks the other
    (now, people), prev = await asyncio.gather(current(), previous())
    cur = figures.cards(now)
    cards = []
    for key in CARDS:
        card: dict[str, Any] = {"key": key, "unit": figures.unit(key), "value": cur[key]["value"]}
        card["previous"] = prev[key]["value"]
        card["change"] = _change(card["value"], card["previous"])
        card.update({k: v for k, v in cur[key].items() if k in ("cases", "events")})
        cards.append(card)
    return {
        "filters": f.public(),
        "period": {"from": f.period.first_day.isoformat(), "to": f.period.last_day.isoformat(), "tz": f.tz.key},
        "previous": {"from": f.previous.first_day.isoformat(), "to": f.previous.last_day.isoformat()},
        "cards": cards,
        "times": figures.times(now),
        "series": {"granularity": f.granularity, "points": figures.series(now, f)},
        "first_response_buckets": figures.first_response_buckets(now),
        "heatmap": figures.heatmap(now, f.tz),
        "sla": figures.sla(now, deps.sla.names),
        "csat": figures.csat(now),
        "agents": figures.agents(now, people),
        "teams": figures.teams(now, people),
        "categories": figures.categories(now),
        "follow_ups": figures.follow_ups(now),
    }
