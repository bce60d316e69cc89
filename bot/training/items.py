"""Labelled items: the JSONL format trainers' labels travel in, and `export` / `import`.

An item is one customer message the assistant misunderstood (personal data already masked by
handoff_service), with the intent a trainer gave it. A file of items holds one JSON object per
line, UTF-8, no blank lines::

    {"id": "r-0001", "text": "退款怎么还没到", "language": "zh", "label": "refund",
     "status": "labelled", "count": 3, "labelled_by": "trainer1",
     "labelled_at": "2026-12-01T09:30:00+00:00"}

Fields (all required, no others allowed):

- ``id``: non-empty string, unique in a file; the key `import` merges by.
- ``text``: the message, non-empty (it is written to the NLU files on one line: runs of
  whitespace, newlines included, become one space).
- ``language``: ``"zh"`` or ``"en"``: which folder of ``data/nlu`` it goes to.
- ``label``: an intent of domain.yml or a retrieval sub-intent (``faq/shipping``); checked
  against the domain by `apply`. May be ``""`` only when ``status`` is ``"ignored"``.
- ``status``: ``"labelled"`` (to be written), ``"applied"`` (already written: `apply` makes
  sure it still is, which changes nothing when it is) or ``"ignored"`` (never written).
- ``count``: how many times the message was seen, an integer >= 1.
- ``labelled_by``: the trainer's user name, non-empty.
- ``labelled_at``: ISO 8601 time with a UTC offset (``Z`` accepted); kept as written.

Reading validates every line and refuses the whole file, naming the line, at the first bad one
(`ItemsError`); nothing is written from a file that does not read. Files are written in one
canonical form (fields in the order above, ``ensure_ascii=False``, items sorted by id), by a
temporary file renamed over the target, so `export` then `import` into an empty store gives
the exported file byte for byte.

Commands (``python -m bot.training ...``)::

    export --from SOURCE.jsonl --out FILE [--status labelled,applied]
    import FILE --into STORE.jsonl [--dry-run]

`export` reads items from a source (`ItemSource`: a JSONL file, `JsonlSource`, or
handoff_service's review list, `HandoffSource`: ``--from http://127.0.0.1:8080`` with a trainer's
token in HANDOFF_TRAINER_TOKEN) and writes them, canonical, to FILE.
`import` merges FILE into STORE by id, deterministically and whatever the order of imports:
of two items with one id, the one with the later ``labelled_at`` wins; at the same time, the
status ``applied`` beats ``ignored`` beats ``labelled``; then the greater canonical line.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

LANGUAGES = ("zh", "en")
STATUSES = ("labelled", "ignored", "applied")
STATUS_RANK = {"labelled": 0, "ignored": 1, "applied": 2}
FIELDS = ("id", "text", "language", "label", "status", "count", "labelled_by", "labelled_at")
_LABEL_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z0-9_]+)?")


class ItemsError(ValueError):
    """A file of items that does not read; the message names the file and line."""


@dataclasses.dataclass(frozen=True)
class Item:
    id: str
    text: str
    language: str
    label: str
    status: str
    count: int
    labelled_by: str
    labelled_at: str

    def to_json(self) -> str:
        """The item's canonical line (without the newline)."""
        return json.dumps({name: getattr(self, name) for name in FIELDS}, ensure_ascii=False)

    @property
    def time(self) -> dt.datetime:
        return parse_time(self.labelled_at)

    @property
    def to_write(self) -> bool:
        """Whether `apply` writes it (labelled or applied, not ignored)."""
        return self.status != "ignored"


def parse_time(value: str) -> dt.datetime:
    """An ISO 8601 time with a UTC offset; ValueError otherwise."""
    parsed = dt.datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("has no UTC offset")
    return parsed


def parse_item(obj: Any) -> Item:
    """Validates one decoded line; ValueError with the reason."""
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    missing = [name for name in FIELDS if name not in obj]
    if missing:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    unknown = sorted(set(obj) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(unknown)}")
    for name in ("id", "text", "language", "label", "status", "labelled_by", "labelled_at"):
        if not isinstance(obj[name], str):
            raise ValueError(f"{name} is not a string")
    for name in ("id", "text", "labelled_by"):
        if not obj[name].strip():
            raise ValueError(f"{name} is empty")
    if obj["language"] not in LANGUAGES:
        raise ValueError(f"language {obj['language']!r} is not one of {', '.join(LANGUAGES)}")
    if obj["status"] not in STATUSES:
        raise ValueError(f"status {obj['status']!r} is not one of {', '.join(STATUSES)}")
    label = obj["label"]
    if not (label == "" and obj["status"] == "ignored") and not _LABEL_RE.fullmatch(label):
        raise ValueError(f"label {label!r} is not an intent name (intent or intent/sub_intent)")
    count = obj["count"]
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError(f"count {count!r} is not an integer >= 1")
    try:
        parse_time(obj["labelled_at"])
    except ValueError as error:
        raise ValueError(f"labelled_at {obj['labelled_at']!r} is not an ISO time with a UTC offset ({error})") from None
    return Item(**{name: obj[name] for name in FIELDS})


def parse_lines(lines: Iterable[str], source: str) -> list[Item]:
    """Items from JSONL lines; ItemsError naming `source` and the line at the first bad one."""
    items: list[Item] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        where = f"{source}, line {number}"
        if not line.strip():
            raise ItemsError(f"{where}: empty line")
        try:
            item = parse_item(json.loads(line))
        except json.JSONDecodeError as error:
            raise ItemsError(f"{where}: not JSON ({error.msg}, column {error.colno})") from None
        except ValueError as error:
            raise ItemsError(f"{where}: {error}") from None
        if item.id in seen:
            raise ItemsError(f"{where}: id {item.id!r} already on line {seen[item.id]}")
        seen[item.id] = number
        items.append(item)
    return items


def read_items(path: Path) -> list[Item]:
    """All items of a JSONL file (a missing file has none)."""
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ItemsError(f"{path}: not UTF-8 ({error.reason} at byte {error.start})") from None
    return parse_lines(text.splitlines(), str(path))


def dumps(items: Iterable[Item]) -> str:
    """The canonical file: one line per item, sorted by id."""
    return "".join(item.to_json() + "\n" for item in sorted(items, key=lambda item: item.id))


def write_atomic(path: Path, content: str) -> bool:
    """Writes `content` (UTF-8) to `path` through a temporary file renamed over it; does not
    touch the file when it already holds exactly that. Returns whether it wrote."""
    data = content.encode("utf-8")
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def write_items(path: Path, items: Iterable[Item]) -> bool:
    return write_atomic(path, dumps(items))


class ItemSource(Protocol):
    """Where labelled items come from (a JSONL file; later handoff_service's review list)."""

    def items(self) -> Iterator[Item]: ...


@dataclasses.dataclass(frozen=True)
class JsonlSource:
    path: Path

    def items(self) -> Iterator[Item]:
        if not self.path.exists():
            raise ItemsError(f"{self.path}: no such file")
        yield from read_items(self.path)


TOKEN_VARIABLE = "HANDOFF_TRAINER_TOKEN"
TRAINER_TOKEN_FILE = Path(__file__).resolve().parents[2] / "var" / "trainer.token"  # make run's trainer


class ReviewApiError(ItemsError):
    """handoff_service's review list answered with an error status (`status`), or not at all (None)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def trainer_token() -> str:
    """A trainer's or supervisor's API token for the review list: HANDOFF_TRAINER_TOKEN, else the
    file `make run` keeps for its trainer account (TRAINER_TOKEN_FILE); never on the command line."""
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token and TRAINER_TOKEN_FILE.is_file():
        token = TRAINER_TOKEN_FILE.read_text(encoding="utf-8").strip()
    if not token:
        raise ItemsError(f"the review list needs a trainer's API token in {TOKEN_VARIABLE} (or var/trainer.token)")
    return token


def review_call(url: str, path: str, token: str, method: str = "GET", body: Any = None) -> Any:
    """One call of handoff_service's review API (`url` its base URL); its JSON answer."""
    import urllib.error
    import urllib.request

    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(f"{url.rstrip('/')}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raise ReviewApiError(f"{url}: the review list answered {error.code} to {method} {path}", error.code) from None
    except (OSError, ValueError) as error:
        raise ReviewApiError(f"{url}: the review list could not be read ({error})") from None


@dataclasses.dataclass(frozen=True)
class HandoffSource:
    """handoff_service's review list (`GET /api/review/export`, a page at a time)."""

    url: str
    token: str
    page: int = 500

    def items(self) -> Iterator[Item]:
        after = 0
        while True:
            page = review_call(self.url, f"/api/review/export?limit={self.page}&after_id={after}", self.token)
            for line, obj in enumerate(page.get("items", []), 1):
                try:
                    yield parse_item(obj)
                except ItemsError as error:
                    raise ItemsError(f"{self.url}: item {line} of a page: {error}") from None
            if not page.get("next_after_id"):
                return
            after = int(page["next_after_id"])


def open_source(spec: str) -> ItemSource:
    """The source a command line names: handoff_service's URL (http:// or https://, with the
    token in HANDOFF_TRAINER_TOKEN) or a path to a JSONL file."""
    if spec.startswith(("http://", "https://")):
        return HandoffSource(spec, trainer_token())
    return JsonlSource(Path(spec))


def merge_key(item: Item) -> tuple[dt.datetime, int, str]:
    return (item.time, STATUS_RANK[item.status], item.to_json())


@dataclasses.dataclass
class MergeResult:
    items: list[Item]
    added: list[str] = dataclasses.field(default_factory=list)
    updated: list[str] = dataclasses.field(default_factory=list)
    unchanged: list[str] = dataclasses.field(default_factory=list)


def merge(store: Iterable[Item], incoming: Iterable[Item]) -> MergeResult:
    """`store` with `incoming` merged in by id (see the module docstring for the rule)."""
    by_id = {item.id: item for item in store}
    result = MergeResult(items=[])
    for item in sorted(incoming, key=lambda item: item.id):
        current = by_id.get(item.id)
        if current is None:
            by_id[item.id] = item
            result.added.append(item.id)
        elif current == item or merge_key(current) >= merge_key(item):
            result.unchanged.append(item.id)
        else:
            by_id[item.id] = item
            result.updated.append(item.id)
    result.items = sorted(by_id.values(), key=lambda item: item.id)
    return result


def export_items(source: ItemSource, out: Path, statuses: Iterable[str] | None = None) -> list[Item]:
    """Writes the source's items (only those with one of `statuses`, if given) to `out`."""
    wanted = set(statuses) if statuses is not None else set(STATUSES)
    items = [item for item in source.items() if item.status in wanted]
    write_items(out, items)
    return items


def import_items(path: Path, into: Path, dry_run: bool = False) -> MergeResult:
    """Merges the items of `path` into the store `into` (created if missing)."""
    if not path.exists():
        raise ItemsError(f"{path}: no such file")
    result = merge(read_items(into), read_items(path))
    if not dry_run:
        write_items(into, result.items)
    return result


def _statuses(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    bad = [name for name in names if name not in STATUSES]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"statuses are {', '.join(STATUSES)}, comma-separated")
    return names


def main(argv: list[str]) -> int:
    command, args = argv[0], argv[1:]
    if command == "export":
        parser = argparse.ArgumentParser(
            prog="python -m bot.training export", description="Write labelled items to a JSONL file."
        )
        parser.add_argument(
            "--from",
            dest="source",
            required=True,
            help="a JSONL file, or handoff_service's URL (token: HANDOFF_TRAINER_TOKEN)",
        )
        parser.add_argument("--out", required=True, type=Path, help="JSONL file to write")
        parser.add_argument("--status", type=_statuses, help="only these statuses, e.g. labelled,applied")
        options = parser.parse_args(args)
        try:
            items = export_items(open_source(options.source), options.out, options.status)
        except ItemsError as error:
            print(f"export: {error}", file=sys.stderr)
            return 1
        print(f"export: {len(items)} item(s) -> {options.out}")
        return 0
    parser = argparse.ArgumentParser(
        prog="python -m bot.training import", description="Merge a JSONL file of items into a store, by id."
    )
    parser.add_argument("file", type=Path, help="JSONL file of items (from export)")
    parser.add_argument("--into", required=True, type=Path, help="the store (JSONL), created if missing")
    parser.add_argument("--dry-run", action="store_true", help="report, write nothing")
    options = parser.parse_args(args)
    try:
        result = import_items(options.file, options.into, options.dry_run)
    except ItemsError as error:
        print(f"import: {error}", file=sys.stderr)
        return 1
    print(
        f"import: {len(result.added)} added, {len(result.updated)} updated, {len(result.unchanged)} unchanged"
        f" -> {options.into}{' (dry run, nothing written)' if options.dry_run else ''}"
    )
    return 0
