"""Severity tiers and their SLA windows: one YAML file (`sla.yml`), checked against the standard."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

# The standard's limits (SPEC §5): no tier may be looser.
STANDARD_HOURS = {"first_response_hours": 24.0, "result_hours": 48.0, "follow_up_hours": 24.0}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class SLAConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Tier:
    name: str
    rank: int
    first_response: timedelta
    result: timedelta
    follow_up: timedelta

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rank": self.rank,
            "first_response_hours": self.first_response.total_seconds() / 3600,
            "result_hours": self.result.total_seconds() / 3600,
            "follow_up_hours": self.follow_up.total_seconds() / 3600,
        }


@dataclass(frozen=True)
class SLAConfig:
    tiers: dict[str, Tier]
    default_tier: str
    near_breach_fraction: float

    def tier(self, name: str | None) -> Tier:
        return self.tiers[name or self.default_tier]

    @property
    def names(self) -> list[str]:
        return [t.name for t in sorted(self.tiers.values(), key=lambda t: t.rank)]

    def warn_at(self, start: datetime, due: datetime) -> datetime:
        """When a deadline counts as nearly breached."""
        return due - (due - start) * self.near_breach_fraction


def parse_sla(data: Any) -> SLAConfig:
    if not isinstance(data, dict):
        raise SLAConfigError("SLA config must be a mapping")
    tiers_raw = data.get("tiers")
    if not isinstance(tiers_raw, dict) or not tiers_raw:
        raise SLAConfigError("SLA config needs a non-empty 'tiers' mapping")
    tiers: dict[str, Tier] = {}
    ranks: set[int] = set()
    for name, spec in tiers_raw.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise SLAConfigError(f"bad tier name {name!r}")
        if not isinstance(spec, dict):
            raise SLAConfigError(f"tier {name}: must be a mapping")
        unknown = set(spec) - {"rank", *STANDARD_HOURS}
        if unknown:
            raise SLAConfigError(f"tier {name}: unknown keys {sorted(unknown)}")
        rank = spec.get("rank")
        if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1 or rank in ranks:
            raise SLAConfigError(f"tier {name}: rank must be a unique integer >= 1")
        ranks.add(rank)
        hours: dict[str, float] = {}
        for key, limit in STANDARD_HOURS.items():
            v = spec.get(key)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v <= 0:
                raise SLAConfigError(f"tier {name}: {key} must be a positive number")
            if v > limit:
                raise SLAConfigError(f"tier {name}: {key}={v} is looser than the standard's {limit:g} h")
            hours[key] = float(v)
        tiers[name] = Tier(
            name,
            rank,
            timedelta(hours=hours["first_response_hours"]),
            timedelta(hours=hours["result_hours"]),
            timedelta(hours=hours["follow_up_hours"]),
        )
    ordered = sorted(tiers.values(), key=lambda t: t.rank)
    for urgent, lesser in pairwise(ordered):
        for attr in ("first_response", "result", "follow_up"):
            if getattr(urgent, attr) > getattr(lesser, attr):
                raise SLAConfigError(
                    f"tier {urgent.name} (rank {urgent.rank}) has a looser {attr} deadline "
                    f"than the less urgent tier {lesser.name} (rank {lesser.rank})"
                )
    default = data.get("default_tier")
    if default not in tiers:
        raise SLAConfigError(f"default_tier {default!r} is not a configured tier")
    frac = data.get("near_breach_fraction", 0.2)
    if not isinstance(frac, (int, float)) or isinstance(frac, bool) or not 0 < frac < 1:
        raise SLAConfigError("near_breach_fraction must be between 0 and 1")
    return SLAConfig(tiers, default, float(frac))


def load_sla(path: Path) -> SLAConfig:
    with open(path, encoding="utf-8") as fh:
        return parse_sla(yaml.safe_load(fh))
