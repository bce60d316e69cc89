"""The per-case export (metrics/casefile.py) builds its columns from the period's rollup rows (mostly
packed) and a narrow read of the cases: here it is checked against a plain row-by-row reading of
the rollup tables, over cases opened before the period and resolved or reopened in it, with
filters, from packed days and from rows, and with the earlier cases read in several batches."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import select
from test_metrics_rollups import go

from handoff_service.cases.models import Case
from handoff_service.core.csvfile import cell
from handoff_service.core.orm import table_of
from handoff_service.metrics import blocks, casefile
from handoff_service.metrics.models import MetricCase, MetricCycle, MetricWait

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = "from=2026-11-24&to=2026-11-24"  # 2026-11-23 16:00 UTC to 11-24 16:00 UTC
START, END = datetime(2026, 11, 23, 16, tzinfo=UTC), datetime(2026, 11, 24, 16, tzinfo=UTC)


async def cases_across_days(h: Any) -> dict[str, Any]:
    """H: opened 11-22, resolved that day, reopened by sam in the period and resolved again.
    F: opened 11-23 10:00 UTC (before the period), a wait and its resolution in it.
    G: opened and resolved in the period, bob's. K: opened after the period."""
    p = {
        "alice": await h.user("alice", team="t1"),
        "bob": await h.user("bob", team="t2"),
        "sam": await h.user("sam", role="supervisor"),
    }
    h.clock.set(datetime(2026, 11, 22, 9, tzinfo=UTC))
    c = {"H": await h.queued_case(conversation_id="conv-h", category="delivery")}
    await go(h, 5, "POST", f"/api/cases/{c['H']['id']}/accept", p["alice"])
    await go(h, 5, "POST", f"/api/cases/{c['H']['id']}/resolve", p["alice"], {"result": "电话13812345678"})
    h.clock.set(datetime(2026, 11, 23, 10, tzinfo=UTC))
    c["F"] = await h.queued_case(conversation_id="conv-f", description="=1+1 卡6222021234567890128")
    await go(h, 10, "POST", f"/api/cases/{c['F']['id']}/accept", p["alice"])
    await go(h, 10, "POST", f"/api/cases/{c['F']['id']}/messages", p["alice"], {"text": "checking"})
    h.clock.set(datetime(2026, 11, 24, 1, tzinfo=UTC))
    await go(h, 0, "POST", f"/api/bot/cases/{c['F']['number']}/messages", h.bot, {"text": "any news?"})
    await go(h, 30, "POST", f"/api/cases/{c['F']['id']}/messages", p["alice"], {"text": "sent"})
    await go(h, 30, "POST", f"/api/cases/{c['F']['id']}/resolve", p["alice"], {"result": "refunded"})
    h.clock.set(datetime(2026, 11, 24, 3, tzinfo=UTC))
    c["G"] = await h.queued_case(conversation_id="conv-g", tier="high")
    await go(h, 5, "POST", f"/api/cases/{c['G']['id']}/accept", p["bob"])
    await go(h, 5, "POST", f"/api/cases/{c['G']['id']}/resolve", p["bob"], {"result": "ok"})
    await go(h, 5, "POST", f"/api/bot/cases/{c['G']['number']}/csat", h.bot, {"overall": 5, "comment": "@ok"})
    h.clock.set(datetime(2026, 11, 24, 5, tzinfo=UTC))
    await go(h, 0, "POST", f"/api/cases/{c['H']['id']}/reopen", p["sam"], {"reason": "not delivered"})
    await go(h, 20, "POST", f"/api/cases/{c['H']['id']}/resolve", p["alice"], {"result": "delivered"})  # hers again
    h.clock.set(datetime(2026, 11, 24, 17, tzinfo=UTC))
    c["K"] = await h.new_case(conversation_id="conv-k")
    return {"people": p, "cases": c}


async def expected(h: Any, **only: Any) -> list[dict[str, str]]:
    """The export's rows, read row by row from the rollup tables and the cases (as the export did
    before it was built by columns), as the CSV's cells."""
    mc, my, mw, cases = (table_of(m) for m in (MetricCase, MetricCycle, MetricWait, Case))
    async with h.deps.read_engine.begin() as conn:
        facts = {r.case_id: r for r in await conn.execute(select(mc))}
        cycles = (await conn.execute(select(my).order_by(my.c.case_id, my.c.cycle))).all()
        waits = (await conn.execute(select(mw).order_by(mw.c.case_id, mw.c.seq))).all()
        texts = {r.id: r for r in await conn.execute(select(cases))}
    names = {i: n for n, i in h.ids.items()}
    teams = {h.ids["alice"]: "t1", h.ids["bob"]: "t2"}

    def inside(t: datetime | None) -> bool:
        return t is not None and START <= t < END

    out = []
    for f in sorted(facts.values(), key=lambda f: (f.created_at, f.case_id)):
        if any(getattr(f, k) != v for k, v in only.items()):
            continue
        ended = [y.seconds for y in cycles if y.case_id == f.case_id and inside(y.ended_at)]
        reopened = [y for y in cycles if y.case_id == f.case_id and y.cycle > 0 and inside(y.started_at)]
        answered = [w.seconds for w in waits if w.case_id == f.case_id and inside(w.started_at) and w.seconds]
        if not (inside(f.created_at) or ended or reopened):
            continue
        t = texts[f.case_id]
        values = {
            **f._asdict(),
            "case": f.number,
            "created_at": f.created_at.astimezone(SHANGHAI).replace(microsecond=0).isoformat(),
            "owner": names.get(f.owner_id),
            "owner_team": teams.get(f.owner_id),
            "last_handler": names.get(f.last_handler_id),
            "created_in_period": int(inside(f.created_at)),
            "resolutions_in_period": len(ended),
            "reopens_in_period": len(reopened),
            "handed_off": f.handoff_at is not None,
            "waits_in_period": len(answered),
            "reply_seconds_total": sum(answered) if answered else None,
            "resolution_seconds_in_period": sum(y for y in ended if y is not None) if ended else None,
            "csat_owner": names.get(f.csat_owner_id),
            "csat_handler": names.get(f.csat_handler_id),
            "description": t.description,
            "result": t.result,
            "csat_comment": t.csat_comment,
        }
        out.append({c: cell(values[c], free_text=c in casefile.FREE_TEXT) for c in casefile.CASE_COLUMNS})
    return out


async def exported(h: Any, headers: dict[str, str], query: str) -> list[dict[str, str]]:
    resp = await h.client.get(f"/api/metrics/export?table=cases&{query}", headers=headers)
    body = await resp.text()
    assert resp.status == 200, body
    return list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize(
    ("query", "only"),
    [("", {}), ("&agent=alice", {"owner_id": "alice"}), ("&category=delivery", {"category": "delivery"})],
)
async def test_the_cases_export_equals_a_row_by_row_reading_of_the_rollups(
    h: Any, monkeypatch: Any, packed: bool, query: str, only: dict[str, Any]
) -> None:
    monkeypatch.setattr(casefile, "PAGE", 1)  # a page per case
    s = await cases_across_days(h)
    if packed:
        assert await blocks.pack_marked(h.deps.tx, limit=1000) > 0
    only = {k: h.ids[v] if k == "owner_id" else v for k, v in only.items()}
    want = await expected(h, **only)
    got = await exported(h, s["people"]["sam"], DAY + query)
    assert got == want
    c = s["cases"]
    numbers = [r["case"] for r in got]
    if not only:  # the earlier cases first (H, then F), then the period's; K is after it
        assert numbers == [c["H"]["number"], c["F"]["number"], c["G"]["number"]]
        f = got[1]
        assert (f["created_in_period"], f["resolutions_in_period"], f["waits_in_period"]) == ("0", "1", "1")
        assert f["reply_seconds_total"] == "1800.0" and f["created_at"] == "2026-11-23T18:00:00+08:00"
        assert f["description"].startswith("'=1+1") and "6222 **** **** 0128" in f["description"]
        assert (got[0]["reopens_in_period"], got[0]["resolutions_in_period"]) == ("1", "1")
        assert got[2]["csat_comment"] == "'@ok" and got[2]["owner"] == "bob" and got[2]["owner_team"] == "t2"


async def test_an_empty_period_exports_only_the_header(h: Any) -> None:
    s = await cases_across_days(h)
    resp = await h.client.get(
        "/api/metrics/export?table=cases&from=2026-10-01&to=2026-10-02", headers=s["people"]["sam"]
    )
    body = await resp.text()
    assert resp.status == 200 and body == "\ufeff" + ",".join(casefile.CASE_COLUMNS) + "\r\n"


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"])
def test_local_times_are_the_zones_own_to_the_second(zone: str) -> None:
    tz = ZoneInfo(zone)
    edges = [datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC)]  # New York's changes
    edges += [datetime(2026, 4, 4, 15, tzinfo=UTC), datetime(2026, 10, 3, 15, 30, tzinfo=UTC)]  # Lord Howe's
    moments = [e + timedelta(seconds=d) for e in edges for d in (-3601, -1, 0, 1, 59, 1799, 3600)]
    moments.append(datetime(2026, 11, 24, 8, 0, 10, 999_999, tzinfo=UTC))  # microseconds are cut, not rounded
    seconds = np.array([int(m.timestamp()) for m in moments], np.int64)
    want = [m.astimezone(tz).replace(microsecond=0).isoformat() for m in moments]
    assert casefile.local_times(seconds, tz) == want
    assert casefile.local_times(np.empty(0, np.int64), tz) == []


async def test_a_case_opened_while_the_export_reads_is_left_out_like_from_the_view(h: Any, monkeypatch: Any) -> None:
    """The figures come from the period's rows read first; a case committed between that read and
    the read of the cases has no figures in it and is not exported half-filled."""
    s = await cases_across_days(h)
    read = casefile.queries.period_data
    late: list[dict[str, Any]] = []

    async def then_a_new_case(deps: Any, f: Any) -> Any:
        out = await read(deps, f)
        h.clock.set(datetime(2026, 11, 24, 10, tzinfo=UTC))
        late.append(await h.new_case(conversation_id="conv-late"))
        return out

    monkeypatch.setattr(casefile.queries, "period_data", then_a_new_case)
    numbers = [r["case"] for r in await exported(h, s["people"]["sam"], DAY)]
    c = s["cases"]
    assert numbers == [c["H"]["number"], c["F"]["number"], c["G"]["number"]] and late
