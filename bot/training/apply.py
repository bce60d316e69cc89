"""`python -m bot.training apply --items FILE [--data data/nlu] [--dry-run]`: labelled items
(`bot.training.items`) written into the NLU data, and one in five into the held-back test set.

Where an item goes:

- Training data: ``data/nlu/<language>/<file>.yml``, the file that already holds its intent in
  that language (else the file of the same name the other language keeps it in; a new
  ``faq/<sub>`` goes where the other ``faq/*`` are). A label that is not an intent of domain.yml
  (nor a retrieval sub-intent with an ``utter_<intent>/<sub>`` response) is refused; so is the
  bare retrieval intent (``faq``) and ``EXTERNAL_*``.
- Held-back test set (SPEC §10, issue 26 item 4): every fifth group of the same normalised text,
  chosen by its hash (`held_back`: the first 8 bytes of SHA-256 of the normalised text, modulo
  5 == 0), so a text always goes the same way, goes instead to
  ``bench/data/real_traffic/<language>.yml`` (Rasa NLU YAML, one block per intent, intents in
  the order first written; outside ``data/``, which Rasa trains on). It is never trained on;
  `bot.training.evaluate` reads it. Such texts are removed from the training files if there.

Editing keeps the files as they are: lines are added or removed, nothing is re-dumped, so
comments, order and layout stay. The project does not sort its examples: a new example is
appended at the end of its intent's block (a new block at the end of the file); within one
batch, in the order of the normalised text, then id, so the result does not depend on the order
of the items in the file. A block left without examples is removed.

Texts are compared after `normalise` (NFKC, which folds full/half width; case folded;
whitespace runs collapsed; whitespace, punctuation and symbols at both ends dropped). For each
item to write (status ``labelled`` or ``applied``; ``ignored`` ones are skipped):

- the same text under any other intent, in either language, in the training files or the
  held-back set, is removed (a relabelled text moves); a held-back text leaves the training
  files altogether, and a text for training leaves the held-back set;
- if its intent already has it (in that language and place), nothing is added;
- a text equal to one of the benchmark utterances (/work/shared/benchmarks, SPEC §9) is never
  written to the training files (skipped and reported).

The whole batch is refused, with nothing written, when: an item's label is unknown; two items
with the same normalised text have different labels; an English item holds Chinese characters
(tests/test_training_data.py); a text would read as a Rasa entity annotation (``[x](y)``).
Each file is written atomically (temporary file + rename) and only when its content changes, so
a second run leaves every file byte for byte as it was. Afterwards
``rasa data validate --fail-on-warnings`` passes (no text under two intents).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import re
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import yaml

from bot.training.items import (
    LANGUAGES,
    Item,
    ItemsError,
    ReviewApiError,
    read_items,
    review_call,
    trainer_token,
    write_atomic,
)
from bot.training.nlu import ROOT, benchmark_dir, relative

DATA_DIR = ROOT / "data" / "nlu"
DOMAIN = ROOT / "domain.yml"
HELD_BACK_DIR = ROOT / "bench" / "data" / "real_traffic"
DEFAULT_ITEMS = ROOT / "var" / "review" / "items.jsonl"
HELD_BACK_SHARE = 5  # one group in five

_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Rasa's entity annotation (rasa.shared.nlu.training_data.entities_parser.ENTITY_REGEX)
_ANNOTATION_RE = re.compile(r"\[[^\]]+?\](\([^:)]+?(?::[^)]+)?\)|\{[^}]+?\}|\[.*?\])")
# what YAML cannot hold, even in a block scalar
_NON_PRINTABLE_RE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_INTENT_LINE_RE = re.compile(r"- intent: *(\S+) *\n?")
_EXAMPLES_LINE_RE = re.compile(r" +examples: *\| *\n?")
_EXAMPLE_LINE_RE = re.compile(r"( +)- (.*?)\n?")


class ApplyError(ValueError):
    """A batch that is refused; nothing was written."""


def clean(text: str) -> str:
    """The text as written to a file: one line, whitespace runs as one space, trimmed."""
    return " ".join(text.split())


def _edge(char: str) -> bool:
    return char.isspace() or unicodedata.category(char)[0] in "PSZ"


def normalise(text: str) -> str:
    """The form texts are compared in (see the module docstring)."""
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    start, end = 0, len(folded)
    while start < end and _edge(folded[start]):
        start += 1
    while end > start and _edge(folded[end - 1]):
        end -= 1
    return folded[start:end] or folded


def held_back(text: str) -> bool:
    """Whether the group of this text goes to the held-back test set (stable: a hash)."""
    digest = hashlib.sha256(normalise(text).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % HELD_BACK_SHARE == 0


# ---- the NLU files, as lines


@dataclasses.dataclass
class Block:
    intent: str
    start: int  # index of its "- intent:" line in NluFile.lines
    examples: list[int]  # indices of its example lines


@dataclasses.dataclass
class NluFile:
    """A Rasa NLU YAML file of intent blocks (``- intent: x`` / ``examples: |`` / ``- text``),
    edited as lines. Other top-level entries and comments are kept untouched."""

    path: Path
    lines: list[str]
    original: bytes

    @classmethod
    def load(cls, path: Path) -> NluFile:
        if path.exists():
            original = path.read_bytes()
            # lines end at "\n" only (str.splitlines would also split at U+2028, \x0c ...)
            return cls(path, re.findall(r"[^\n]*\n|[^\n]+$", original.decode("utf-8")), original)
        return cls(path, [], b"")

    def blocks(self) -> list[Block]:
        found: list[Block] = []
        current: Block | None = None
        in_examples = False
        for index, line in enumerate(self.lines):
            intent = _INTENT_LINE_RE.fullmatch(line)
            if intent:
                current = Block(intent.group(1), index, [])
                found.append(current)
                in_examples = False
            elif current is not None and _EXAMPLES_LINE_RE.fullmatch(line):
                in_examples = True
            elif current is not None and in_examples and _EXAMPLE_LINE_RE.fullmatch(line):
                current.examples.append(index)
            elif line.strip() and not line.startswith(" "):
                current, in_examples = None, False  # another top-level entry or a comment
        return found

    def examples(self) -> list[tuple[str, str]]:
        """(intent, text) of every example, in file order."""
        return [(block.intent, self.text_at(i)) for block in self.blocks() for i in block.examples]

    def text_at(self, index: int) -> str:
        match = _EXAMPLE_LINE_RE.fullmatch(self.lines[index])
        assert match is not None
        return match.group(2).strip()

    def remove(self, intent: str, key: str) -> list[str]:
        """Removes the examples of `intent` whose normalised text is `key` (and the block if it is
        left empty); returns the texts removed."""
        removed: list[str] = []
        drop: set[int] = set()
        for block in self.blocks():
            if block.intent != intent:
                continue
            hits = [i for i in block.examples if normalise(self.text_at(i)) == key]
            removed.extend(self.text_at(i) for i in hits)
            drop.update(hits)
            if hits and len(hits) == len(block.examples):
                drop.update(range(block.start, max(block.examples) + 1))
        if drop:
            self.lines = [line for i, line in enumerate(self.lines) if i not in drop]
        return removed

    def add(self, intent: str, text: str) -> None:
        """Appends `text` at the end of `intent`'s block (a new block at the end of the file)."""
        if self.lines and not self.lines[-1].endswith("\n"):
            self.lines[-1] += "\n"
        for block in self.blocks():
            if block.intent == intent and block.examples:
                last = block.examples[-1]
                indent = _EXAMPLE_LINE_RE.fullmatch(self.lines[last])
                assert indent is not None
                self.lines.insert(last + 1, f"{indent.group(1)}- {text}\n")
                return
        if not self.lines:
            self.lines = ['version: "3.1"\n', "nlu:\n"]
        self.lines.extend([f"- intent: {intent}\n", "  examples: |\n", f"    - {text}\n"])

    def content(self) -> bytes:
        return "".join(self.lines).encode("utf-8")

    @property
    def changed(self) -> bool:
        return self.content() != self.original

    def check(self) -> None:
        """The edited file still reads, as YAML, to exactly the examples the lines say."""
        parsed = yaml.safe_load(self.content().decode("utf-8")) or {}
        got = []
        for entry in parsed.get("nlu") or []:
            if isinstance(entry, dict) and "intent" in entry and isinstance(entry.get("examples"), str):
                got.extend((entry["intent"], line[2:].strip()) for line in entry["examples"].splitlines())
        if got != self.examples():
            raise ApplyError(f"{self.path}: the edited file does not read back as written (layout not understood)")


# ---- the domain and the benchmark utterances


def known_labels(domain_path: Path) -> set[str]:
    """Intents an example may carry: domain intents (not EXTERNAL_*, not a bare retrieval intent)
    and retrieval sub-intents that have a response (utter_faq/shipping -> faq/shipping)."""
    domain = yaml.safe_load(domain_path.read_text(encoding="utf-8"))
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", [])}
    subs = {
        key.removeprefix("utter_")
        for key in domain.get("responses", {})
        if key.startswith("utter_") and key.removeprefix("utter_").partition("/")[0] in intents and "/" in key
    }
    retrieval = {label.partition("/")[0] for label in subs}
    return {i for i in intents if not i.startswith("EXTERNAL_") and i not in retrieval} | subs


def _benchmark_form(text: str) -> str:
    # tests/test_training_data.py's comparison
    return re.sub(r"\d", "0", text.strip().lower())


def benchmark_texts(directory: Path | None) -> set[str]:
    found: set[str] = set()
    for path in sorted(directory.glob("*.csv")) if directory else []:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                text = row.get("text") or ""
                found.update({_benchmark_form(text), _benchmark_form(normalise(text))})
    return found


def is_benchmark(text: str, benchmark: set[str]) -> bool:
    return _benchmark_form(text) in benchmark or _benchmark_form(normalise(text)) in benchmark


# ---- the batch


@dataclasses.dataclass(frozen=True)
class Change:
    action: str  # added | held back | moved (out of another intent) | removed | present | skipped
    language: str
    intent: str
    text: str
    path: str
    note: str = ""

    def line(self) -> str:
        note = f"  ({self.note})" if self.note else ""
        return f"{self.action:<10} {self.language} {self.intent:<24} {self.text}  [{self.path}]{note}"


@dataclasses.dataclass
class Report:
    changes: list[Change] = dataclasses.field(default_factory=list)
    written: list[Path] = dataclasses.field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(change.action == action for change in self.changes)

    def summary(self, dry_run: bool = False) -> str:
        names = ("added", "held back", "moved", "removed", "present", "skipped")
        files = f"{len(self.written)} file(s) {'to change (dry run, nothing written)' if dry_run else 'written'}"
        return ", ".join(f"{self.count(name)} {name}" for name in names) + "; " + files


def check_batch(items: Sequence[Item], labels: set[str]) -> list[Item]:
    """The items to write; ApplyError listing every reason the batch is refused."""
    problems: list[str] = []
    todo = [item for item in items if item.to_write]
    for item in todo:
        text = clean(item.text)
        if item.label not in labels:
            problems.append(f"item {item.id}: unknown intent {item.label!r} (not in domain.yml)")
        if item.language == "en" and _CJK_RE.search(text):
            problems.append(f"item {item.id}: language en but the text has Chinese characters: {text}")
        if _ANNOTATION_RE.search(text):
            problems.append(f"item {item.id}: the text would read as an entity annotation [..](..): {text}")
        if _NON_PRINTABLE_RE.search(text):
            problems.append(f"item {item.id}: the text has characters YAML cannot hold")
    by_key: dict[str, list[Item]] = {}
    for item in todo:
        by_key.setdefault(normalise(item.text), []).append(item)
    for key, group in sorted(by_key.items()):
        if len({item.label for item in group}) > 1:
            labelled = ", ".join(f"{item.id} -> {item.label}" for item in sorted(group, key=lambda i: i.id))
            problems.append(f"conflicting labels for the same text {key!r}: {labelled}")
    if problems:
        raise ApplyError("refused, nothing written:\n  " + "\n  ".join(problems))
    return todo


def plan(
    items: Sequence[Item],
    data_dir: Path = DATA_DIR,
    held_back_dir: Path = HELD_BACK_DIR,
    domain: Path = DOMAIN,
    benchmark: set[str] | None = None,
) -> tuple[Report, list[NluFile]]:
    """The edits the batch makes, in memory: the report and the files (changed or not)."""
    todo = check_batch(items, known_labels(domain))
    benchmark = benchmark_texts(benchmark_dir()) if benchmark is None else benchmark
    training = {lang: {p.name: NluFile.load(p) for p in sorted((data_dir / lang).glob("*.yml"))} for lang in LANGUAGES}
    test_set = {lang: NluFile.load(held_back_dir / f"{lang}.yml") for lang in LANGUAGES}
    everywhere = [f for lang in LANGUAGES for f in training[lang].values()] + list(test_set.values())

    test_ids = {id(nlu) for nlu in test_set.values()}

    def home(language: str, intent: str) -> NluFile:
        family = intent.partition("/")[0] + "/" if "/" in intent else None
        for holds in (lambda i: i == intent, lambda i: family is not None and i.startswith(family)):
            for lang in sorted(LANGUAGES, key=lambda lang: lang != language):
                for name, nlu in training[lang].items():
                    if name in training[language] and any(holds(block.intent) for block in nlu.blocks()):
                        return training[language][name]
        raise ApplyError(f"no file in {data_dir / language} for intent {intent!r}: add its block first")

    def language_of(nlu: NluFile) -> str:
        return nlu.path.stem if id(nlu) in test_ids else nlu.path.parent.name

    report = Report()
    done: set[tuple[str, str]] = set()
    for item in sorted(todo, key=lambda item: (normalise(item.text), item.language, item.id)):
        text, key, lang, intent = clean(item.text), normalise(item.text), item.language, item.label
        if (key, lang) in done:
            continue
        done.add((key, lang))
        to_test = held_back(key)
        if not to_test and is_benchmark(text, benchmark):
            report.changes.append(Change("skipped", lang, intent, text, "-", "a benchmark utterance, never trained on"))
            continue
        target = test_set[lang] if to_test else home(lang, intent)
        for nlu in everywhere:
            in_test = id(nlu) in test_ids
            for block_intent in sorted({block.intent for block in nlu.blocks()}):
                if block_intent == intent and in_test == to_test:
                    continue  # where this label belongs (in either language)
                for old in nlu.remove(block_intent, key):
                    if block_intent == intent:  # out of the training files (held back), or out of the test set
                        note = "held back" if to_test else "not held back"
                        change = Change("removed", language_of(nlu), block_intent, old, relative(nlu.path), note)
                    else:
                        change = Change(
                            "moved", language_of(nlu), block_intent, old, relative(nlu.path), f"now {intent}"
                        )
                    report.changes.append(change)
        places = [test_set[lang]] if to_test else list(training[lang].values())
        present = next((f for f in places if any(i == intent and normalise(t) == key for i, t in f.examples())), None)
        if present is not None:
            report.changes.append(Change("present", lang, intent, text, relative(present.path)))
            continue
        target.add(intent, text)
        report.changes.append(Change("held back" if to_test else "added", lang, intent, text, relative(target.path)))
    for item in items:
        if not item.to_write:
            report.changes.append(Change("skipped", item.language, item.label or "-", clean(item.text), "-", "ignored"))
    for nlu in everywhere:
        if nlu.changed:
            nlu.check()
    return report, everywhere


def apply(
    items: Sequence[Item],
    data_dir: Path = DATA_DIR,
    held_back_dir: Path = HELD_BACK_DIR,
    domain: Path = DOMAIN,
    dry_run: bool = False,
    benchmark: set[str] | None = None,
) -> Report:
    """Plans the batch, then writes each changed file atomically (unless `dry_run`)."""
    report, files = plan(items, data_dir, held_back_dir, domain, benchmark)
    for nlu in files:
        if not nlu.changed:
            continue
        report.written.append(nlu.path)
        if dry_run:
            continue
        if not nlu.blocks() and nlu.path.parent == held_back_dir:
            nlu.path.unlink()  # a held-back file left without examples
        else:
            write_atomic(nlu.path, nlu.content().decode("utf-8"))
    return report


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.training apply",
        description="Write labelled items into data/nlu (and one in five into the held-back test set).",
    )
    parser.add_argument(
        "--items", type=Path, default=DEFAULT_ITEMS, help=f"JSONL items (default {relative(DEFAULT_ITEMS)})"
    )
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="NLU data folder with zh/ and en/")
    parser.add_argument("--held-back", type=Path, default=HELD_BACK_DIR, help="held-back test set folder")
    parser.add_argument("--domain", type=Path, default=DOMAIN)
    parser.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
    parser.add_argument(
        "--mark-applied",
        metavar="URL",
        help="then mark the written items applied in handoff_service's review list (token: HANDOFF_TRAINER_TOKEN)",
    )
    options = parser.parse_args(argv[1:])
    if not options.items.exists():
        print(
            f"apply: {options.items}: no such file (import items there: python -m bot.training import FILE --into {options.items})",
            file=sys.stderr,
        )
        return 1
    if benchmark_dir() is None:
        print("apply: warning: benchmark sets not found; benchmark utterances are not filtered", file=sys.stderr)
    try:
        report = apply(read_items(options.items), options.data, options.held_back, options.domain, options.dry_run)
    except (ItemsError, ApplyError) as error:
        print(f"apply: {error}", file=sys.stderr)
        return 1
    for change in report.changes:
        print(change.line())
    print(f"apply: {report.summary(options.dry_run)}")
    if options.mark_applied and not options.dry_run:
        return mark_applied(options.mark_applied, applied_ids(read_items(options.items), report))
    return 0


def applied_ids(items: Sequence[Item], report: Report) -> list[str]:
    """The review list's ids (``r-<n>``) of the labelled items that are now in the data or the
    held-back set (not those skipped as benchmark utterances)."""
    skipped = {(c.language, c.text) for c in report.changes if c.action == "skipped"}
    return [
        item.id
        for item in items
        if item.status == "labelled" and item.id.startswith("r-") and (item.language, clean(item.text)) not in skipped
    ]


def mark_applied(url: str, ids: Sequence[str]) -> int:
    """Marks these items applied in handoff_service's review list; an item changed by a trainer
    meanwhile (409) is reported and left as it is."""
    marked, left = 0, []
    try:
        token = trainer_token()
        for item_id in ids:
            try:
                review_call(url, f"/api/review/items/{item_id[2:]}/mark_applied", token, method="POST")
                marked += 1
            except ReviewApiError as error:
                if error.status != 409:
                    raise
                left.append(item_id)
    except ItemsError as error:
        print(f"apply: marking items applied: {error}", file=sys.stderr)
        return 1
    print(
        f"apply: {marked} item(s) marked applied in the review list"
        + (f"; changed meanwhile: {', '.join(left)}" if left else "")
    )
    return 0
