"""When a follow-up visit is due: a delay after the resolution, outside the service's quiet hours,
never after the tier's follow-up deadline."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo


def quiet_hours(spec: str) -> tuple[time, time] | None:
    """'21:00-09:00' -> (21:00, 09:00); '' or 'off' -> None."""
    spec = spec.strip().lower()
    if spec in {"", "off", "none"}:
        return None
    start, sep, end = spec.partition("-")
    if not sep:
        raise ValueError(f"quiet hours must look like 21:00-09:00, not {spec!r}")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def _quiet(at: datetime, quiet: tuple[time, time], zone: ZoneInfo) -> bool:
    t = at.astimezone(zone).time()
    start, end = quiet
    return (start <= t or t < end) if start > end else (start <= t < end)


def _quiet_end(at: datetime, quiet: tuple[time, time], zone: ZoneInfo) -> datetime:
    """The first moment after `at` (inside quiet hours) when they end."""
    local = at.astimezone(zone)
    end = datetime.combine(local.date(), quiet[1], tzinfo=zone)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(timezone.utc)


def _quiet_start_before(at: datetime, quiet: tuple[time, time], zone: ZoneInfo) -> datetime:
    """The last moment before `at` (inside quiet hours) when they began."""
    local = at.astimezone(zone)
    start = datetime.combine(local.date(), quiet[0], tzinfo=zone)
    if start > local:
        start -= timedelta(days=1)
    return start.astimezone(timezone.utc)


def visit_due(
    resolved_at: datetime,
    *,
    delay: timedelta,
    deadline: datetime | None,
    quiet: tuple[time, time] | None,
    zone: ZoneInfo,
) -> datetime:
    """`delay` after the resolution, moved out of quiet hours, and never after the follow-up
    deadline: when the deadline would be missed the visit goes just before the quiet hours that
    precede it, and when even that is impossible, the deadline wins over quiet hours."""
    due = resolved_at + delay
    if deadline is not None and due > deadline:
        due = deadline
    if quiet is None or not _quiet(due, quiet, zone):
        return due
    later = _quiet_end(due, quiet, zone)
    if deadline is None or later <= deadline:
        return later
    earlier = _quiet_start_before(due, quiet, zone) - timedelta(minutes=1)
    return earlier if earlier >= resolved_at else due
