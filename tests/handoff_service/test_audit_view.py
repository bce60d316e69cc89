"""The supervisors' audit log view: filters (actor, action, outcome, target, time), paging by
before_id, and the CSV export (UTF-8 with BOM, formula cells escaped, details masked; audited)."""

from __future__ import annotations

import csv
import io

from handoff_service.audit import service as audit
from handoff_service.core.principal import Principal


async def _actions(h, sam, query: str) -> list[tuple[str, str | None, str]]:
    status, body = await h.get(f"/api/audit?{query}", sam)
    assert status == 200, body
    return [(e["action"], e["actor"], e["outcome"]) for e in body["entries"] if e["actor_kind"] != "cli"]


async def _worked_case(h):
    alice = await h.user("alice", team="l1")
    bob = await h.user("bob", team="l2")
    sam = await h.user("sam", role="supervisor")
    case = await h.queued_case()
    start = h.clock.now()
    await h.post(f"/api/cases/{case['id']}/accept", alice)
    await h.post(f"/api/cases/{case['id']}/accept", bob)  # refused: taken
    h.clock.advance(hours=1)
    await h.post(f"/api/cases/{case['id']}/transfer", alice, {"to_agent": "bob", "note": "=1+1 call 13812345678"})
    h.clock.advance(hours=1)
    await h.post(f"/api/cases/{case['id']}/resolve", bob, {"result": "done"})
    other = await h.queued_case(conversation_id="c-other")
    await h.post(f"/api/cases/{other['id']}/accept", bob)
    return sam, case, other, start


async def test_filters_by_actor_action_outcome_target_and_time(h):
    sam, case, other, start = await _worked_case(h)
    assert await _actions(h, sam, "actor=bob") == [
        ("case.accept", "bob", "ok"),
        ("case.resolve", "bob", "ok"),
        ("accept_case", "bob", "denied"),
    ]
    assert await _actions(h, sam, "action=case.transfer") == [("case.transfer", "alice", "ok")]
    prefix = await _actions(h, sam, "action=case.")
    assert {a for a, _, _ in prefix} == {"case.accept", "case.transfer", "case.resolve"} and len(prefix) == 4
    assert await _actions(h, sam, "outcome=denied") == [("accept_case", "bob", "denied")]
    assert await _actions(h, sam, f"target={case['number']}") == [
        ("case.resolve", "bob", "ok"),
        ("case.transfer", "alice", "ok"),
        ("case.accept", "alice", "ok"),
    ]
    assert await _actions(h, sam, f"target={other['number']}&actor=bob") == [("case.accept", "bob", "ok")]
    # since inclusive, until exclusive (Unix seconds): the hour of the transfer only
    t1 = int(start.timestamp()) + 3600
    assert await _actions(h, sam, f"since={t1}&until={t1 + 3600}") == [("case.transfer", "alice", "ok")]
    # empty fields are no filter (the console sends its empty inputs)
    assert len(await _actions(h, sam, "actor=&action=&target=")) == 5


async def test_pages_with_before_id(h):
    sam, *_ = await _worked_case(h)
    _, everything = await h.get("/api/audit?limit=500", sam)
    ids = [e["id"] for e in everything["entries"]]
    _, first = await h.get("/api/audit?limit=3", sam)
    _, second = await h.get(f"/api/audit?limit=3&before_id={first['entries'][-1]['id']}", sam)
    assert [e["id"] for e in first["entries"] + second["entries"]] == ids[:6]


async def test_bad_filters_are_400(h):
    sam = await h.user("sam", role="supervisor")
    for query in ("outcome=maybe", "since=yesterday", "until=-1", "before_id=0", "actor=" + "x" * 65):
        for path in ("/api/audit", "/api/audit/export"):
            if path.endswith("export") and query.startswith("before_id"):
                continue  # the export has no pages
            status, body = await h.get(f"{path}?{query}", sam)
            assert status == 400 and body["error"]["code"] == "invalid_field", (path, query, body)


async def test_csv_export_has_the_filters_a_bom_escaped_formulas_and_masked_details(h):
    sam, case, _, _ = await _worked_case(h)
    # a row whose target a spreadsheet would run as a formula (what the log records is not all ours to choose)
    async with h.deps.tx() as conn:
        who = Principal(kind="staff", user_id=h.ids["sam"], username="sam", role="supervisor")
        await audit.record(
            conn, at=h.clock.now(), actor=who, action="case.note", target_type="case", target_id="=HYPERLINK(1)"
        )
    resp = await h.client.get(f"/api/audit/export?target={case['number']}", headers=sam)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="audit-log-')
    raw = await resp.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8").removeprefix("\ufeff"))))
    assert rows[0] == [
        "id",
        "at",
        "actor_kind",
        "actor",
        "action",
        "outcome",
        "target_type",
        "target_id",
        "ip",
        "details",
    ]
    assert [(r[3], r[4], r[7]) for r in rows[1:]] == [
        ("bob", "case.resolve", case["number"]),
        ("alice", "case.transfer", case["number"]),
        ("alice", "case.accept", case["number"]),
    ]
    transfer = rows[2][9]
    assert "138****5678" in transfer and "13812345678" not in transfer and "=1+1" in transfer

    resp = await h.client.get("/api/audit/export?action=case.note", headers=sam)
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert rows[1][7] == "'=HYPERLINK(1)"

    # the exports themselves are in the log, with their filters
    _, log = await h.get("/api/audit?action=audit.export", sam)
    assert [(e["actor"], e["details"]["filters"]) for e in log["entries"]] == [
        ("sam", {"action": "case.note"}),
        ("sam", {"target": case["number"]}),
    ]
    assert log["entries"][1]["details"]["rows"] == 3


async def test_the_export_is_in_the_openapi_document_as_csv(h):
    _, doc = await h.get("/api/openapi.json")
    op = doc["paths"]["/api/audit/export"]["get"]
    assert list(op["responses"]["200"]["content"]) == ["text/csv"]
    assert {p["name"] for p in op["parameters"]} == {"actor", "action", "outcome", "target", "since", "until"}
