"""Columnar tables of the rollups, and their packed form.

The dashboard reads the rows of a period as one NumPy array per column (`Table`), never as one
object per row: over 100,000 cases, building a Python object per row costs more than every figure
together, and the figures are a few array operations each (figures.py). A day's rows of one kind
are stored packed (`pack`/`unpack`, in metric_blocks, see blocks.py), so a long period is read as a
few hundred blobs instead of hundreds of thousands of rows.

Column types: INT (never null), ID (a staff id or a rating: 0 is None, real values are >= 1),
FLOAT (None is NaN; values come back exactly as stored) and ENUM (text of few distinct values:
codes into the table's `vocab`).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

INT, ID, FLOAT, ENUM = "int", "id", "float", "enum"
DTYPES: dict[str, np.dtype[Any]] = {
    INT: np.dtype("<i8"),
    ID: np.dtype("<i8"),
    FLOAT: np.dtype("<f8"),
    ENUM: np.dtype("<u2"),
}
FORMAT = 1  # the packed format's version (a change means: rebuild the blocks)
_HEAD = struct.Struct("<I")

# the case's dimensions, on every kind of row: filters apply to them without a join
DIMS = (("channel", ENUM), ("language", ENUM), ("tier", ENUM), ("category", ENUM), ("owner_id", ID))
# kind -> its columns; "q" is the row's time as its quarter hour since 1970 (UTC): the period's
# bounds are whole quarter hours in every zone, so "q in [start, end)" is exact
KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    # cases, by their creation
    "cases": (
        ("case_id", INT),
        ("q", INT),
        *DIMS,
        ("last_handler_id", ID),
        ("handed_off", INT),
        ("claim_seconds", FLOAT),
        ("first_response_seconds", FLOAT),
        ("resolutions", INT),
        ("reopens", INT),
        ("sla_first_response", ENUM),
        ("sla_result", ENUM),
        ("sla_follow_up", ENUM),
        ("csat_overall", ID),
        ("csat_attitude", ID),
        ("csat_speed", ID),
        ("csat_solved", ID),
        ("csat_owner_id", ID),
        ("csat_handler_id", ID),
        ("visits_planned", INT),
        ("visits_solved", INT),
        ("visits_not_solved", INT),
        ("visits_no_answer", INT),
    ),
    # care cycles, by their resolution
    "resolved": (("case_id", INT), ("q", INT), *DIMS, ("seconds", FLOAT), ("handler_id", ID)),
    # care cycles after the first, by their start (a reopening)
    "reopened": (("case_id", INT), ("q", INT), *DIMS),
    # customer waits, by their start
    "waits": (("case_id", INT), ("q", INT), *DIMS, ("seconds", FLOAT)),
}
QUARTER = 900  # seconds: the unit of `q`
QUARTERS_PER_DAY = 96


class Table:
    """Rows of one kind as one array per column (all of the same length); ENUM columns hold codes
    into `vocab[name]`."""

    __slots__ = ("columns", "kind", "n", "vocab")

    def __init__(self, kind: str, columns: dict[str, np.ndarray], vocab: dict[str, list[Any]]) -> None:
        self.kind = kind
        self.columns = columns
        self.vocab = vocab
        self.n = len(columns["case_id"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __len__(self) -> int:
        return self.n

    def code(self, name: str, value: Any) -> int:
        """The code of `value` in an ENUM column (-1: no row has it)."""
        vocab = self.vocab[name]
        return vocab.index(value) if value in vocab else -1

    def values(self, name: str) -> list[Any]:
        """A column as Python values, None where it has none."""
        typ = dict(KINDS[self.kind])[name]
        col = self.columns[name]
        if typ == ENUM:
            return [self.vocab[name][c] for c in col.tolist()]
        if typ == FLOAT:
            return [None if v != v else v for v in col.tolist()]
        if typ == ID:
            return [v or None for v in col.tolist()]
        return list(col.tolist())

    def where(self, keep: np.ndarray | slice) -> Table:
        """The rows `keep` selects: a boolean array, positions (in the order wanted) or a slice."""
        return Table(self.kind, {k: v[keep] for k, v in self.columns.items()}, self.vocab)

    def rows(self) -> list[dict[str, Any]]:
        """As dicts of Python values (tests and small tables)."""
        names = [name for name, _ in KINDS[self.kind]]
        cols = [self.values(name) for name in names]
        return [dict(zip(names, values, strict=True)) for values in zip(*cols, strict=True)]


def empty(kind: str) -> Table:
    return Table(kind, {name: np.empty(0, DTYPES[typ]) for name, typ in KINDS[kind]}, _no_vocab(kind))


def _no_vocab(kind: str) -> dict[str, list[Any]]:
    return {name: [] for name, typ in KINDS[kind] if typ == ENUM}


def from_rows(kind: str, rows: Sequence[Sequence[Any]]) -> Table:
    """A table of rows whose values are the kind's columns, in the kind's order. ENUM values are
    coded in order of first appearance: the same rows in the same order give the same table."""
    if not rows:
        return empty(kind)
    cols: dict[str, np.ndarray] = {}
    vocab: dict[str, list[Any]] = {}
    for (name, typ), values in zip(KINDS[kind], zip(*rows, strict=True), strict=True):
        if typ == ENUM:
            index: dict[Any, int] = {}
            codes = [index.setdefault(v, len(index)) for v in values]
            if len(index) > 0xFFFF:
                raise ValueError(f"{kind}.{name}: more than 65535 distinct values")
            vocab[name] = list(index)
            cols[name] = np.array(codes, DTYPES[ENUM])
        elif typ == FLOAT:
            cols[name] = np.array([np.nan if v is None else v for v in values], DTYPES[FLOAT])
        elif typ == ID:
            cols[name] = np.array([v or 0 for v in values], DTYPES[ID])
        else:
            cols[name] = np.array([int(v) for v in values], DTYPES[INT])
    return Table(kind, cols, vocab)


def concat(kind: str, tables: Sequence[Table]) -> Table:
    """The rows of all tables, in order; ENUM codes recoded into one vocabulary."""
    if not tables:
        return empty(kind)
    if len(tables) == 1:
        return tables[0]
    vocab: dict[str, list[Any]] = {}
    cols: dict[str, np.ndarray] = {}
    for name, typ in KINDS[kind]:
        if typ != ENUM:
            cols[name] = np.concatenate([t.columns[name] for t in tables])
            continue
        index: dict[Any, int] = {}
        parts = []
        for t in tables:
            recode = np.array([index.setdefault(v, len(index)) for v in t.vocab[name]] or [0], DTYPES[ENUM])
            parts.append(recode[t.columns[name]])
        vocab[name] = list(index)
        cols[name] = np.concatenate(parts)
    return Table(kind, cols, vocab)


def pack(t: Table) -> bytes:
    """The table as bytes: a JSON header (format, kind, length, the ENUM vocabularies) and one
    little-endian array per column, in the kind's order. The same table always packs the same."""
    head = json.dumps({"format": FORMAT, "kind": t.kind, "n": t.n, "vocab": t.vocab}, separators=(",", ":"))
    raw = head.encode()
    body = b"".join(t.columns[name].astype(DTYPES[typ], copy=False).tobytes() for name, typ in KINDS[t.kind])
    return _HEAD.pack(len(raw)) + raw + body


def unpack(blob: bytes) -> Table:
    (size,) = _HEAD.unpack_from(blob)
    head = json.loads(blob[_HEAD.size : _HEAD.size + size])
    if head["format"] != FORMAT:
        raise ValueError(f"metric block format {head['format']}, expected {FORMAT}: run metrics-rebuild")
    kind, n = head["kind"], head["n"]
    at = _HEAD.size + size
    cols: dict[str, np.ndarray] = {}
    for name, typ in KINDS[kind]:
        dtype = DTYPES[typ]
        cols[name] = np.frombuffer(blob, dtype, count=n, offset=at)
        at += n * dtype.itemsize
    return Table(kind, cols, head["vocab"])
