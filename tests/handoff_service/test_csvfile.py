"""CSV downloads open in spreadsheet programs as text: BOM, no formulas, personal data masked; a
streamed download is the same file, and a failure part way breaks it rather than shortening it."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from handoff_service.core.csvfile import BOM, cell, columns_text, response, stream, to_text
from handoff_service.core.http import error_middleware


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("＝1+1", "'＝1+1"),
        ("退款 = 已处理", "退款 = 已处理"),
        (-3, "-3"),
        (2.5, "2.5"),
        (None, ""),
        (True, "true"),
        (datetime(2026, 12, 7, 1, 2, 3, tzinfo=UTC), "2026-12-07T01:02:03+00:00"),
    ],
)
def test_cell_escapes_formulas_and_keeps_numbers(value, expected):
    assert cell(value) == expected


def test_file_has_bom_masks_free_text_and_round_trips():
    text = to_text(
        ["case", "comment"],
        [["C20261207-0001", "电话13812345678，谢谢"], ["C20261207-0002", '=cmd|"/c calc"!A1']],
        free_text=["comment"],
    )
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text[len(BOM) :])))
    assert rows == [
        ["case", "comment"],
        ["C20261207-0001", "电话138****5678，谢谢"],
        ["C20261207-0002", '\'=cmd|"/c calc"!A1'],
    ]


def test_response_is_a_utf8_download():
    r = response("cases-2026-12-07.csv", to_text(["客户", "n"], [["张三", 1]]))
    assert r.content_type == "text/csv" and r.charset == "utf-8"
    assert r.headers["Content-Disposition"] == 'attachment; filename="cases-2026-12-07.csv"'
    assert r.body.startswith(BOM.encode("utf-8")) and "张三".encode() in r.body


def test_columns_of_one_type_are_written_as_cell_writes_each_value():
    """to_text writes a column of numbers, booleans or plain text in one pass (or hands it to the
    writer as it is): the same cells as `cell` (formulas escaped, None empty), and free text is
    still masked; columns_text of the same columns is the same file."""
    header = ["n", "x", "ok", "word", "note", "mixed", "plain", "none", "num"]
    rows = [
        [1, 0.1 + 0.2, True, "=1+1", "电话13812345678", 5, "退款", None, 1],
        [None, None, False, "-2", "=A1", "a", None, None, 2.5e-7],
        [-3, 2.5, None, "退款", None, None, "refund", None, float("nan")],
    ]
    text = to_text(header, rows, free_text=["note"])
    got = list(csv.reader(io.StringIO(text[len(BOM) :])))
    want = [[cell(v, free_text=name == "note") for name, v in zip(header, row, strict=True)] for row in rows]
    assert got == [header, *want]
    assert got[1][4] == "电话138****5678" and got[2][4] == "'=A1" and got[1][3] == "'=1+1"
    assert to_text(header, []) == BOM + ",".join(header) + "\r\n"
    assert columns_text(header, list(zip(*rows, strict=True)), free_text=["note"]) == text


async def _pages(fail_at: int | None, closed: list[bool]) -> AsyncGenerator[list[list[Any]], None]:
    try:
        for i in range(3):
            if i == fail_at:
                raise RuntimeError("the database went away")
            yield [[f"C{i}"], [f"电话1381234567{i}"]]
    finally:
        closed.append(True)


def _streaming_app(fail_at: int | None, closed: list[bool]) -> web.Application:
    async def download(request: web.Request) -> web.StreamResponse:
        return await stream(request, "cases.csv", ["case", "note"], _pages(fail_at, closed), free_text=["note"])

    app = web.Application(middlewares=[error_middleware])
    app.router.add_get("/d", download)
    return app


async def test_a_streamed_download_is_the_file_to_text_writes(aiohttp_client: Any) -> None:
    closed: list[bool] = []
    client = await aiohttp_client(_streaming_app(None, closed))
    resp = await client.get("/d")
    assert resp.status == 200 and resp.content_type == "text/csv" and resp.charset == "utf-8"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="cases.csv"'
    want = to_text(["case", "note"], [[f"C{i}", f"电话1381234567{i}"] for i in range(3)], free_text=["note"])
    assert await resp.text() == want and "138****5670" in want and closed == [True]


async def test_a_failure_before_the_first_byte_is_an_error_response(aiohttp_client: Any) -> None:
    closed: list[bool] = []
    client = await aiohttp_client(_streaming_app(0, closed))
    resp = await client.get("/d")
    assert resp.status == 500 and (await resp.json())["error"]["code"] == "internal_error" and closed == [True]


async def test_a_failure_after_the_first_page_breaks_the_download_instead_of_shortening_it(
    aiohttp_client: Any,
) -> None:
    closed: list[bool] = []
    client = await aiohttp_client(_streaming_app(1, closed))
    resp = await client.get("/d")
    assert resp.status == 200  # the headers had left
    with pytest.raises(aiohttp.ClientPayloadError):
        await resp.read()
    assert closed == [True]
