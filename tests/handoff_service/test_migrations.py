"""The Alembic migrations produce exactly the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from handoff_service.models import Base


async def test_migrated_schema_matches_models(h):
    def diff(sync_conn):
        ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)

    async with h.deps.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


def test_downgrade_and_upgrade_round_trip(tmp_path):
    from handoff_service.core.migrate import downgrade, upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'rt.db'}"
    upgrade(url)
    downgrade(url, "base")
    upgrade(url)
    import sqlite3

    names = {r[0] for r in sqlite3.connect(tmp_path / "rt.db").execute("select name from sqlite_master")}
    assert {"cases", "case_events", "audit_log", "trg_case_events_no_update"} <= names
