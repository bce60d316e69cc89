"""CSV files for spreadsheet programs: UTF-8 with a byte-order mark (so Excel and WPS open
Chinese correctly), every cell that a spreadsheet would read as a formula escaped, and
free text masked (mobile numbers, resident IDs, bank cards, e-mail addresses)."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web

from .pii import mask

log = logging.getLogger(__name__)
BOM = "\ufeff"
# a cell starting with one of these is a formula (or a DDE call) in Excel, WPS and LibreOffice;
# tab and carriage return too, which some programs strip before looking
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


# the common exact types, written without the checks below (an export has about a million cells)
_PLAIN: dict[type, Callable[[Any], str]] = {
    type(None): lambda v: "",
    bool: lambda v: "true" if v else "false",
    int: str,
    float: repr,
    datetime: datetime.isoformat,
}


def _escaped(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


_PLAIN_TEXT = {**_PLAIN, str: _escaped}


def cell(value: Any, *, free_text: bool = False) -> str:
    """One value as a safe cell. Numbers stay numbers (a negative number is not a formula);
    `free_text` (what customers or staff typed) is masked first."""
    plain = (_PLAIN if free_text else _PLAIN_TEXT).get(type(value))
    if plain is not None:
        return plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return _escaped(mask(text) if free_text else text)


def to_text(header: Sequence[str], rows: Iterable[Sequence[Any]], *, free_text: Iterable[str] = ()) -> str:
    """The whole file as text, BOM first; the columns named in `free_text` are masked."""
    return columns_text(header, list(zip(*rows, strict=True)) or [() for _ in header], free_text=free_text)


def columns_text(header: Sequence[str], columns: Sequence[Sequence[Any]], *, free_text: Iterable[str] = ()) -> str:
    """`to_text` of the table given column by column."""
    return head(header) + body(header, columns, free_text=free_text)


def head(header: Sequence[str]) -> str:
    """The start of the file: the BOM and the header row."""
    out = io.StringIO()
    out.write(BOM)
    csv.writer(out, lineterminator="\r\n").writerow([cell(h) for h in header])
    return out.getvalue()


def body(header: Sequence[str], columns: Sequence[Sequence[Any]], *, free_text: Iterable[str] = ()) -> str:
    """The rows of a table given column by column (a page of a long file, or all of it). A column
    of numbers, or of text none of whose values needs escaping, goes to the writer as it is (the
    writer writes None as an empty cell and a number as `str`, which is `repr` for a float); a
    column of another common type is converted in one pass with that type's converter (the ones
    `cell` uses first); any other column goes through `cell`."""
    masked = set(free_text)
    out = io.StringIO()
    cells = [_column(values, free_text=name in masked) for name, values in zip(header, columns, strict=True)]
    csv.writer(out, lineterminator="\r\n").writerows(zip(*cells, strict=True))
    return out.getvalue()


def _column(values: Sequence[Any], *, free_text: bool) -> Sequence[Any]:
    kinds = set(map(type, values)) - {type(None)}
    if free_text and kinds == {str}:
        return [v if v is None else _escaped(mask(v)) for v in values]
    if not free_text and kinds <= {int, float}:
        return values
    if not free_text and kinds == {str} and not any(v.startswith(FORMULA_STARTS) for v in set(values) - {None}):
        return values
    plain = (_PLAIN if free_text else _PLAIN_TEXT).get(kinds.pop()) if len(kinds) == 1 else None
    if plain is None:
        return [cell(v, free_text=free_text) for v in values]
    return ["" if v is None else plain(v) for v in values]


def _headers(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}


def response(filename: str, text: str) -> web.Response:
    """A download of the CSV `text` (to_text, columns_text); `filename` is ASCII (the caller
    builds it from fixed words and dates)."""
    return web.Response(body=text.encode("utf-8"), content_type="text/csv", charset="utf-8", headers=_headers(filename))


async def stream(
    request: web.Request,
    filename: str,
    header: Sequence[str],
    pages: AsyncGenerator[Sequence[Sequence[Any]], None],
    *,
    free_text: Iterable[str] = (),
) -> web.StreamResponse:
    """A download written page by page (each page column by column, as `body` takes it), in
    memory bounded by a page. The first page is read before anything is sent, so a failure there
    is an ordinary error response; a failure after it aborts the connection, and the client sees
    a broken download, never a short file that looks whole."""
    try:
        page = await anext(pages, None)
        resp = web.StreamResponse(headers=_headers(filename))
        resp.content_type, resp.charset = "text/csv", "utf-8"
        await resp.prepare(request)
        await resp.write(head(header).encode("utf-8"))
        try:
            while page is not None:
                await resp.write(body(header, page, free_text=free_text).encode("utf-8"))
                page = await anext(pages, None)
        except Exception as e:
            log.warning("download %s cut off: %s", filename, type(e).__name__, exc_info=not isinstance(e, OSError))
            if request.transport is not None:
                request.transport.abort()
            return resp
        await resp.write_eof()
        return resp
    finally:
        await pages.aclose()
