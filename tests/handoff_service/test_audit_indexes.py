"""The audit log view's actor, target and time filters have indexes the query uses (the query
exactly as the console's list sends it, captured from `audit.list_entries`): SQLite's plan searches
ix_audit_log_actor_name / _target / _at instead of scanning the table; PostgreSQL's planner can use
them (with sequential scans priced out, as they are on a large table); and both return the right
entries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import event, insert

from handoff_service.audit import service as audit
from handoff_service.audit.models import AuditEntry
from handoff_service.core.orm import table_of

T = table_of(AuditEntry)
START = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _entries(n: int) -> list[dict[str, Any]]:
    return [
        {
            "at": START + timedelta(minutes=15 * i),
            "actor_kind": "staff",
            "actor_id": None,
            "actor_name": f"agent{i % 7}",
            "action": "case.accept" if i % 3 else "case.note",
            "outcome": "ok",
            "target_type": "case",
            "target_id": f"C202611{1 + i // 96:02d}-{i % 40:04d}",
            "ip": None,
            "details": {},
        }
        for i in range(n)
    ]


async def _plan(engine: Any, statement: str, parameters: Any) -> str:
    async with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            return " | ".join(str(r[-1]) for r in rows)
        await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = await conn.exec_driver_sql("EXPLAIN " + statement, parameters)
        return " | ".join(str(r[0]) for r in rows)


async def test_actor_target_and_time_filters_use_their_indexes(h):
    engine = h.deps.engine
    rows = _entries(2880)  # 30 days, every 15 minutes, 40 targets a day
    async with engine.begin() as conn:
        await conn.execute(insert(T), rows)
    day = START + timedelta(days=12)
    queries = [
        (audit.Filters(actor="agent3"), "ix_audit_log_actor_name"),
        (audit.Filters(target="C20261113-0007"), "ix_audit_log_target"),
        (audit.Filters(since=day, until=day + timedelta(hours=6)), "ix_audit_log_at"),
        (audit.Filters(target="C20261113-0007", since=day, until=day + timedelta(days=1)), "ix_audit_log_target"),
    ]
    captured: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "FROM audit_log" in statement:
            captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", grab)
    try:
        for filters, _ in queries:
            got = await audit.list_entries(h.deps, limit=50, before_id=None, filters=filters)
            want = [
                (r["target_id"], r["at"].isoformat())
                for r in reversed(rows)
                if (filters.actor is None or r["actor_name"] == filters.actor)
                and (filters.target is None or r["target_id"] == filters.target)
                and (filters.since is None or r["at"] >= filters.since)
                and (filters.until is None or r["at"] < filters.until)
            ][:50]
            assert want and [(e["target_id"], e["at"]) for e in got] == want, filters
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", grab)
    assert len(captured) == len(queries)
    for (statement, parameters), (filters, index) in zip(captured, queries, strict=True):
        assert "ORDER BY audit_log.id DESC" in statement  # the console's shape: newest first, one page
        plan = await _plan(engine, statement, parameters)
        assert index in plan, (filters, plan)
        if engine.dialect.name == "sqlite":
            assert "SCAN audit_log" not in plan, (filters, plan)
