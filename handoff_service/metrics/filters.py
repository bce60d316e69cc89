"""The dashboard's filters: parsed and checked once (400 invalid_field), shared by the view and its
exports so that a CSV has exactly the filters of the screen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from handoff_service.core.deps import Deps
from handoff_service.core.errors import ValidationFailed
from handoff_service.core.http import Param
from handoff_service.core.orm import table_of
from handoff_service.staff.models import StaffUser

from .states import DEFAULT_DAYS, GRANULARITIES, MAX_DAYS

S = table_of(StaffUser)
MAX_HOURLY_DAYS = 31
WORD = r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,63}$"
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive
    first_day: date
    last_day: date


@dataclass(frozen=True)
class Filters:
    period: Period
    previous: Period
    tz: ZoneInfo
    granularity: str
    channel: str | None = None
    language: str | None = None
    agent: str | None = None
    team: str | None = None
    tier: str | None = None
    category: str | None = None
    owner_ids: tuple[int, ...] | None = None  # agent/team resolved to the owners they select

    def public(self) -> dict[str, Any]:
        return {
            "from": self.period.first_day.isoformat(),
            "to": self.period.last_day.isoformat(),
            "tz": self.tz.key,
            "granularity": self.granularity,
            "channel": self.channel,
            "language": self.language,
            "agent": self.agent,
            "team": self.team,
            "tier": self.tier,
            "category": self.category,
        }


def period(first: date, last: date, tz: ZoneInfo) -> Period:
    def midnight(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(ZoneInfo("UTC"))

    return Period(midnight(first), midnight(last + timedelta(days=1)), first, last)


def _invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"query.{name}: {message}", code="invalid_field")


def _day(query: dict[str, Any], name: str) -> date | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _invalid(name, "must be a date (YYYY-MM-DD)") from None


async def parse(deps: Deps, query: dict[str, Any]) -> Filters:
    tz_name = query.get("tz") or deps.settings.case_number_tz
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _invalid("tz", "must be an IANA time zone name, e.g. Asia/Shanghai") from None
    today = deps.clock.now().astimezone(tz).date()
    last = _day(query, "to") or today
    first = _day(query, "from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise _invalid("from", "must not be after to")
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise _invalid("to", f"the range may span at most {MAX_DAYS} days")
    granularity = query.get("granularity") or "day"
    if granularity not in GRANULARITIES:
        raise _invalid("granularity", "must be day or hour")
    if granularity == "hour" and days > MAX_HOURLY_DAYS:
        raise _invalid("granularity", f"hour needs a range of at most {MAX_HOURLY_DAYS} days")
    tier = query.get("tier")
    if tier is not None and tier not in deps.sla.names:
        raise _invalid("tier", f"must be one of {', '.join(deps.sla.names)}")
    owner_ids: tuple[int, ...] | None = None
    agent, team = query.get("agent"), query.get("team")
    if agent is not None or team is not None:
        q = select(S.c.id)
        if agent is not None:
            q = q.where(S.c.username == agent)
        if team is not None:
            q = q.where(S.c.team == team)
        async with deps.read_engine.begin() as conn:
            owner_ids = tuple((await conn.execute(q.order_by(S.c.id))).scalars())
        if agent is not None and not owner_ids and team is None:
            raise _invalid("agent", f"no staff member is called {agent!r}")
    previous = period(first - timedelta(days=days), first - timedelta(days=1), tz)
    return Filters(
        period=period(first, last, tz),
        previous=previous,
        tz=tz,
        granularity=granularity,
        channel=query.get("channel"),
        language=query.get("language"),
        agent=agent,
        team=team,
        tier=tier,
        category=query.get("category"),
        owner_ids=owner_ids,
    )


def query_params() -> list[Param]:
    """The filters as route parameters (validated by the route table, documented in OpenAPI)."""
    word = {"type": "string", "pattern": WORD}
    return [
        Param("from", {"type": "string", "pattern": DATE}, description="first day (inclusive), zone tz"),
        Param("to", {"type": "string", "pattern": DATE}, description="last day (inclusive); default today"),
        Param("tz", {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9_+/-]{0,63}$"}, description="IANA zone"),
        Param("granularity", {"type": "string", "enum": list(GRANULARITIES)}),
        Param("channel", word),
        Param("language", word),
        Param("agent", {"type": "string", "pattern": r"^[a-z0-9][a-z0-9._-]{0,63}$"}, description="owner"),
        Param("team", word, description="the owner's team"),
        Param("tier", word),
        Param("category", word),
    ]
