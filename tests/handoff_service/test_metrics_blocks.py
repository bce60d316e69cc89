"""The rollups packed by day (metrics/blocks.py, columns.py): the packed form gives back exactly the
rows; the blocks packed after the commits equal those of a rebuild from the raw tables, byte for
byte; a change after packing is read at once; the packer leaves today to the rows; the migration
marks the days of rollups that existed before it."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from test_metrics_rollups import T0, edge_cases, go

from handoff_service.metrics import blocks, columns
from handoff_service.metrics import service as metrics
from handoff_service.metrics.scheduled import BlockPacker

ROWS = [  # resolved cycles: case_id, q, channel, language, tier, category, owner_id, seconds, handler_id
    (7, 100, "webchat", "zh", "high", "refund", 3, 60.5, 3),
    (8, 101, "wechat", None, "normal", "refund", None, None, None),
    (9, 101, "webchat", "en", "high", "faq", 4, 0.1 + 0.2, 4),
]


def test_a_packed_table_unpacks_to_the_same_rows_and_packs_the_same_again() -> None:
    t = columns.from_rows("resolved", ROWS)
    blob = columns.pack(t)
    back = columns.unpack(blob)
    assert back.rows() == t.rows()
    got = back.rows()
    assert got[1]["language"] is None and got[1]["owner_id"] is None and got[1]["seconds"] is None
    assert got[2]["seconds"] == 0.1 + 0.2  # the float itself, not a rounding of it
    assert columns.pack(columns.from_rows("resolved", list(ROWS))) == blob
    assert columns.unpack(columns.pack(columns.empty("waits"))).rows() == []


def test_tables_of_different_vocabularies_concatenate_by_value() -> None:
    a = columns.unpack(columns.pack(columns.from_rows("resolved", ROWS[:2])))
    b = columns.unpack(columns.pack(columns.from_rows("resolved", ROWS[2:] + ROWS[:1])))
    both = columns.concat("resolved", [a, b])
    assert [r["channel"] for r in both.rows()] == ["webchat", "wechat", "webchat", "webchat"]
    assert [r["language"] for r in both.rows()] == ["zh", None, "en", "zh"]
    high = both.where(both["tier"] == both.code("tier", "high"))
    assert high.values("case_id") == [7, 9, 7]
    assert both.code("tier", "critical") == -1  # no row has it: matches nothing
    assert not (both["tier"] == both.code("tier", "critical")).any()


def test_a_block_of_another_format_is_refused_with_the_way_out() -> None:
    blob = columns.pack(columns.from_rows("resolved", ROWS)).replace(b'"format":1', b'"format":9')
    with pytest.raises(ValueError, match="metrics-rebuild"):
        columns.unpack(blob)


async def stored(h: Any) -> dict[str, Any]:
    async with h.deps.engine.connect() as conn:
        packed = [tuple(r) for r in await conn.execute(select(blocks.MB).order_by(blocks.MB.c.kind, blocks.MB.c.day))]
        marked = [tuple(r[:2]) for r in await conn.execute(select(blocks.MS).order_by(blocks.MS.c.kind))]
    return {"blocks": packed, "marked": marked}


async def test_blocks_packed_after_the_commits_equal_a_rebuild_byte_for_byte(h: Any) -> None:
    await edge_cases(h)
    before = await stored(h)
    assert before["blocks"] == [] and {k for k, _ in before["marked"]} == {"cases", "resolved", "reopened", "waits"}
    assert await blocks.pack_marked(h.deps.tx, limit=100) == len(before["marked"])
    incremental = await stored(h)
    assert incremental["marked"] == [] and len(incremental["blocks"]) == len(before["marked"])
    assert await metrics.rebuild(h.deps.engine, batch=1) == 2
    rebuilt = await stored(h)
    assert rebuilt == incremental
    cases = columns.unpack(next(b[3] for b in rebuilt["blocks"] if b[0] == "cases"))
    assert len(cases) == 2 and cases.values("resolutions") == [1, 2]


async def test_a_change_after_packing_is_read_at_once_and_marks_its_day(h: Any) -> None:
    cases = await edge_cases(h)
    sam = await h.user("sam2", role="supervisor")
    await blocks.pack_marked(h.deps.tx, limit=100)
    day = T0.date().isoformat()
    status, data = await h.get(f"/api/metrics/dashboard?from={day}&to={day}&tz=UTC", sam)
    assert status == 200
    csat = {c["key"]: c for c in data["cards"]}["csat_mean"]
    assert csat["value"] is None and csat["cases"] == 0
    await go(h, 1, "POST", f"/api/bot/cases/{cases['two']['number']}/csat", h.bot, {"overall": 5})
    assert ("cases", blocks.day_of(T0)) in (await stored(h))["marked"]
    status, data = await h.get(f"/api/metrics/dashboard?from={day}&to={day}&tz=UTC", sam)
    csat = {c["key"]: c for c in data["cards"]}["csat_mean"]
    assert csat["value"] == 5 and csat["cases"] == 1


async def test_the_packer_packs_the_days_before_today_and_leaves_today_to_the_rows(h: Any) -> None:
    await edge_cases(h)
    h.clock.set(T0 + timedelta(days=1, hours=1))
    late = await h.new_case(conversation_id="conv-late")  # today's case: its day stays marked
    assert late["number"]
    assert await BlockPacker(h.deps).run_once() == 4  # yesterday's four kinds
    now = await stored(h)
    assert now["marked"] == [("cases", blocks.day_of(h.clock.now()))]
    assert {b[1] for b in now["blocks"]} == {blocks.day_of(T0)}


async def test_a_span_that_cuts_a_day_keeps_only_its_quarter_hours(h: Any) -> None:
    await edge_cases(h)
    await blocks.pack_marked(h.deps.tx, limit=100)
    q0 = int(T0.timestamp()) // blocks.QUARTER  # 08:00 UTC: case one opened then, case two at 08:40
    async with h.deps.engine.connect() as conn:
        both = await blocks.read(conn, "cases", q0, q0 + 3)
        first = await blocks.read(conn, "cases", q0, q0 + 2)
        none = await blocks.read(conn, "cases", q0 - 96, q0)
    assert len(both) == 2 and len(first) == 1 and len(none) == 0
    assert first.values("q") == [q0]


def test_the_migration_marks_the_days_of_rollups_made_before_it(tmp_path: Any) -> None:
    from handoff_service.core.migrate import upgrade

    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0010")
    db = sqlite3.connect(path)
    at = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    values = {"case_id": 1, "number": "C1", "conversation_id": "c", "created_at": at.isoformat(), "channel": "w"}
    values |= {"language": "zh", "category": "x", "tier": "normal", "status": "open", "bot_resolved": 0}
    values |= {"resolutions": 0, "reopens": 0, "visits_planned": 0, "visits_solved": 0, "visits_not_solved": 0}
    values |= {"visits_no_answer": 0}
    db.execute(
        f"INSERT INTO metric_cases ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )
    started = (at + timedelta(hours=1)).isoformat()  # the next day (UTC)
    db.execute("INSERT INTO metric_cycles (case_id, cycle, started_at, by_follow_up) VALUES (1, 1, ?, 0)", (started,))
    db.commit()
    upgrade(url)
    day = math.floor(at.timestamp() / 86400)
    marked = sorted(db.execute("SELECT kind, day, seq FROM metric_stale").fetchall())
    assert marked == [("cases", day, 1), ("reopened", day + 1, 1)]


async def test_the_rebuild_leaves_no_mark_and_counts_every_block_row(h: Any) -> None:
    await edge_cases(h)
    await metrics.rebuild(h.deps.engine)
    async with h.deps.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(blocks.MS))).scalar_one() == 0
        rows = dict((await conn.execute(select(blocks.MB.c.kind, blocks.MB.c.rows))).all())
    assert rows == {"cases": 2, "resolved": 3, "reopened": 1, "waits": 2}
