"""The evaluate report: a new model's predictions against the previous model's on the same labelled
sets, and the gate. Pure functions over predictions (no model, no Rasa), rendered as Markdown for
people, JSON and CSV (UTF-8 with BOM, cells escaped against formula injection).

Scores per set and language: per intent precision / recall / F1 and support (the gold intents of that
set), macro-F1 over those intents, what each intent is taken for (old and new counts), and the examples
fixed (wrong before, right now), broken (right before, wrong now) and still wrong. Texts are masked
(bot.training.pii); a set whose texts must not be shown (the public benchmarks: nobody writing training
data should read them) lists its examples by row number instead.
"""

from __future__ import annotations

import collections
import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.training.pii import mask

MAX_F1_LOSS = 0.02  # an intent with enough support may lose at most this much F1
MIN_SUPPORT = 5  # ... when it has at least this many examples in the set
EPSILON = 1e-9  # float noise is no change
MARKDOWN_EXAMPLES = 15  # per list and set in Markdown (JSON and CSV have them all)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Example:
    """One labelled text and what each model predicted for it (old None: no previous model)."""

    text: str
    gold: str
    new: str
    old: str | None = None
    ref: str = ""  # how a set whose texts are not shown names it ("row 25"); default: its place in the set


@dataclass(frozen=True)
class LabelledSet:
    name: str  # "real-traffic", "heldout", "bitext", "clinc150"
    language: str
    description: str
    examples: list[Example]
    show_texts: bool = True  # False: examples are named by row number only


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class IntentRow:
    intent: str
    support: int
    new: Scores
    old: Scores | None = None

    def delta(self, metric: str) -> float | None:
        if self.old is None:
            return None
        return float(getattr(self.new, metric) - getattr(self.old, metric))


@dataclass(frozen=True)
class Confusion:
    """`gold` predicted as `predicted`: how often by the old model (None: no old model) and the new one."""

    gold: str
    predicted: str
    new: int
    old: int | None = None

    @property
    def change(self) -> int | None:
        return None if self.old is None else self.new - self.old


@dataclass(frozen=True)
class ExampleRow:
    text: str  # masked, or "row N" for a set whose texts are not shown
    gold: str
    new: str
    old: str | None = None


@dataclass(frozen=True)
class SetResult:
    name: str
    language: str
    description: str
    size: int
    macro_f1_new: float
    macro_f1_old: float | None
    intents: list[IntentRow]
    confusions: list[Confusion]
    fixed: list[ExampleRow] = field(default_factory=list)
    broken: list[ExampleRow] = field(default_factory=list)
    still_wrong: list[ExampleRow] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.name}/{self.language}"

    @property
    def macro_f1_change(self) -> float | None:
        return None if self.macro_f1_old is None else self.macro_f1_new - self.macro_f1_old


@dataclass(frozen=True)
class Gate:
    passed: bool
    reasons: list[str]  # why it failed (empty when it passed)
    message: str  # one paragraph for the console


@dataclass(frozen=True)
class Report:
    created: str
    new_model: str
    old_model: str | None
    old_model_note: str  # how the previous model was chosen (or why there is none)
    sets: list[SetResult]
    gate: Gate
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- scoring


def per_intent(gold: Sequence[str], pred: Sequence[str]) -> dict[str, tuple[Scores, int]]:
    """Precision, recall, F1 and support per gold intent (0 where undefined, like sklearn's zero_division=0)."""
    if len(gold) != len(pred):
        raise ValueError("gold and predictions differ in length")
    support = collections.Counter(gold)
    predicted = collections.Counter(pred)
    right = collections.Counter(g for g, p in zip(gold, pred, strict=True) if g == p)
    out = {}
    for intent in sorted(support):
        tp = right[intent]
        precision = tp / predicted[intent] if predicted[intent] else 0.0
        recall = tp / support[intent]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[intent] = (Scores(precision, recall, f1), support[intent])
    return out


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    """Mean F1 over the gold intents (as bench/nlu_eval.py computes it)."""
    scores = per_intent(gold, pred)
    return sum(s.f1 for s, _ in scores.values()) / len(scores) if scores else 0.0


def confusions(gold: Sequence[str], new: Sequence[str], old: Sequence[str] | None = None) -> list[Confusion]:
    """Every (gold, wrong prediction) pair either model made, by gold intent, then the larger count first."""
    now = collections.Counter((g, p) for g, p in zip(gold, new, strict=True) if g != p)
    before = collections.Counter((g, p) for g, p in zip(gold, old, strict=True) if g != p) if old is not None else None
    pairs = set(now) | set(before or ())
    rows = [Confusion(g, p, now[(g, p)], None if before is None else before[(g, p)]) for g, p in pairs]
    return sorted(rows, key=lambda c: (c.gold, -max(c.new, c.old or 0), c.predicted))


def compare(labelled: LabelledSet) -> SetResult:
    """Scores of the new (and old) predictions on one set in one language."""
    examples = labelled.examples
    has_old = bool(examples) and all(e.old is not None for e in examples)
    gold = [e.gold for e in examples]
    new = [e.new for e in examples]
    old = [e.old or "" for e in examples] if has_old else None
    new_scores = per_intent(gold, new)
    old_scores = per_intent(gold, old) if old is not None else None
    intents = [
        IntentRow(intent, support, scores, old_scores[intent][0] if old_scores is not None else None)
        for intent, (scores, support) in new_scores.items()
    ]

    def row(i: int, e: Example) -> ExampleRow:
        text = mask(e.text) if labelled.show_texts else (e.ref or f"row {i + 1}")
        return ExampleRow(text, e.gold, e.new, e.old if has_old else None)

    fixed, broken, still = [], [], []
    for i, e in enumerate(examples):
        right_now = e.new == e.gold
        right_before = has_old and e.old == e.gold
        if has_old and right_now and not right_before:
            fixed.append(row(i, e))
        elif right_before and not right_now:
            broken.append(row(i, e))
        elif not right_now:
            still.append(row(i, e))
    return SetResult(
        name=labelled.name,
        language=labelled.language,
        description=labelled.description,
        size=len(examples),
        macro_f1_new=macro_f1(gold, new),
        macro_f1_old=macro_f1(gold, old) if old is not None else None,
        intents=intents,
        confusions=confusions(gold, new, old),
        fixed=fixed,
        broken=broken,
        still_wrong=still,
    )


def gate(results: Sequence[SetResult], max_loss: float = MAX_F1_LOSS, min_support: int = MIN_SUPPORT) -> Gate:
    """Fails when macro-F1 falls on any set/language, or an intent with support >= `min_support` loses
    more than `max_loss` F1. No previous model: nothing to compare, it passes and says so."""
    compared = [r for r in results if r.macro_f1_old is not None]
    if not compared:
        return Gate(True, [], "gate passed: no previous model to compare with, the new model is reported alone")
    reasons = []
    for r in compared:
        change = r.macro_f1_change
        if change is not None and change < -EPSILON:
            reasons.append(f"macro-F1 fell on {r.label}: {r.macro_f1_old:.3f} -> {r.macro_f1_new:.3f} ({change:+.3f})")
        for row in r.intents:
            loss = -(row.delta("f1") or 0.0)
            if row.support >= min_support and loss > max_loss + EPSILON and row.old is not None:
                reasons.append(
                    f"intent {row.intent} on {r.label} (support {row.support}) lost {loss:.3f} F1: "
                    f"{row.old.f1:.3f} -> {row.new.f1:.3f} (allowed {max_loss:.2f})"
                )
    if reasons:
        return Gate(False, reasons, "gate FAILED: " + "; ".join(reasons))
    return Gate(
        True,
        [],
        f"gate passed: macro-F1 did not fall on any of {len(compared)} set/language(s), and no intent with "
        f"support >= {min_support} lost more than {max_loss:.2f} F1",
    )


# ---------------------------------------------------------------- rendering


def _num(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "–"
    return f"{x:+.3f}" if signed else f"{x:.3f}"


def _int_change(x: int | None) -> str:
    return "–" if x is None else f"{x:+d}"


def _md(text: object) -> str:
    """A Markdown table cell: one line, pipes and backticks escaped."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`").replace("\r", " ").replace("\n", " ")


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return lines


def _examples_md(title: str, rows: list[ExampleRow], has_old: bool) -> list[str]:
    if not rows:
        return [f"**{title}**: none", ""]
    header = ["text", "gold", "old", "new"] if has_old else ["text", "gold", "new"]
    shown = rows[:MARKDOWN_EXAMPLES]
    body = [[r.text, r.gold, r.old or "", r.new] if has_old else [r.text, r.gold, r.new] for r in shown]
    more = len(rows) - len(shown)
    tail = [f"… and {more} more (all in examples.csv / report.json)"] if more else []
    return [f"**{title}** ({len(rows)})", "", *_table(header, body), *tail, ""]


CHANGED_F1 = 0.005  # an intent's F1 change shown under "What changed" (smaller is rounding noise)


def changed_intents(report: Report) -> list[str]:
    """The section a trainer reads first: the intents whose F1 went up or down, per set and language,
    the biggest changes first, with the examples fixed and broken."""
    better, worse = [], []
    for r in report.sets:
        for row in r.intents:
            delta = row.delta("f1")
            if delta is not None and abs(delta) >= CHANGED_F1:
                line = f"`{row.intent}` {_num(delta, True)} F1 on {r.label} ({_num(row.old.f1 if row.old else None)} -> {_num(row.new.f1)}, support {row.support})"
                (better if delta > 0 else worse).append((abs(delta), line))
    fixed = sum(len(r.fixed) for r in report.sets)
    broken = sum(len(r.broken) for r in report.sets)
    if report.old_model is None:
        return ["## What changed", "", "No previous model to compare with.", ""]
    out = ["## What changed", "", f"{fixed} example(s) fixed, {broken} broken (lists under each set below).", ""]
    for title, rows in (("Better", better), ("Worse", worse)):
        out.append(f"**{title}**: " + ("none" if not rows else ""))
        out += [f"- {line}" for _, line in sorted(rows, key=lambda x: -x[0])]
        out.append("")
    return out


def to_markdown(report: Report) -> str:
    has_old = report.old_model is not None
    out = [
        "# NLU evaluation: new model against the previous one",
        "",
        f"- created: {report.created}",
        f"- new model: `{report.new_model}`",
        f"- previous model: `{report.old_model}`" if has_old else "- previous model: none",
        f"- {report.old_model_note}",
        *[f"- {note}" for note in report.notes],
        "",
        "## Gate: " + ("passed" if report.gate.passed else "FAILED"),
        "",
        *([f"- {reason}" for reason in report.gate.reasons] or [report.gate.message]),
        "",
        f"Rule: fails when macro-F1 falls on any set/language, or an intent with support >= {MIN_SUPPORT} "
        f"loses more than {MAX_F1_LOSS:.2f} F1.",
        "",
        "## Macro-F1 per set and language",
        "",
        *_table(
            ["set", "language", "examples", "old", "new", "change"],
            [
                [r.name, r.language, r.size, _num(r.macro_f1_old), _num(r.macro_f1_new), _num(r.macro_f1_change, True)]
                for r in report.sets
            ],
        ),
        "",
        *changed_intents(report),
    ]
    for r in report.sets:
        out += [f"## {r.label}", "", r.description, ""]
        out += _table(
            ["intent", "support", "P old", "P new", "ΔP", "R old", "R new", "ΔR", "F1 old", "F1 new", "ΔF1"],
            [
                [
                    row.intent,
                    row.support,
                    _num(row.old.precision if row.old else None),
                    _num(row.new.precision),
                    _num(row.delta("precision"), True),
                    _num(row.old.recall if row.old else None),
                    _num(row.new.recall),
                    _num(row.delta("recall"), True),
                    _num(row.old.f1 if row.old else None),
                    _num(row.new.f1),
                    _num(row.delta("f1"), True),
                ]
                for row in r.intents
            ],
        )
        out += ["", "**Confused with** (gold -> predicted: old, new, change)", ""]
        if r.confusions:
            out += _table(
                ["gold", "predicted", "old", "new", "change"],
                [
                    [c.gold, c.predicted, "–" if c.old is None else c.old, c.new, _int_change(c.change)]
                    for c in r.confusions
                ],
            )
        else:
            out.append("none")
        out.append("")
        if has_old:
            out += _examples_md("Fixed (wrong before, right now)", r.fixed, True)
            out += _examples_md("Broken (right before, wrong now)", r.broken, True)
            out += _examples_md("Still wrong", r.still_wrong, True)
        else:
            out += _examples_md("Wrong", r.still_wrong, False)
    return "\n".join(out).rstrip() + "\n"


def to_json(report: Report) -> str:
    def set_json(r: SetResult) -> dict[str, Any]:
        data = asdict(r)
        data["macro_f1_change"] = r.macro_f1_change
        for row, intent in zip(data["intents"], r.intents, strict=True):
            row["change"] = {m: intent.delta(m) for m in ("precision", "recall", "f1")}
        for row, confusion in zip(data["confusions"], r.confusions, strict=True):
            row["change"] = confusion.change
        return data

    data = {
        "created": report.created,
        "new_model": report.new_model,
        "old_model": report.old_model,
        "old_model_note": report.old_model_note,
        "notes": report.notes,
        "gate": asdict(report.gate),
        "gate_rule": {"max_f1_loss": MAX_F1_LOSS, "min_support": MIN_SUPPORT},
        "sets": [set_json(r) for r in report.sets],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def csv_cell(value: object) -> object:
    """A text cell a spreadsheet would take for a formula (= + - @ first) gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """UTF-8 text with a byte order mark first (so spreadsheet programs read Chinese), every cell escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell("" if c is None else c) for c in row])
    return "\ufeff" + buffer.getvalue()


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def intents_csv(report: Report) -> str:
    header = ["set", "language", "intent", "support"]
    header += [f"{m} {w}" for m in ("precision", "recall", "f1") for w in ("old", "new", "change")]
    rows = []
    for r in report.sets:
        for row in r.intents:
            cells: list[object] = [r.name, r.language, row.intent, row.support]
            for m in ("precision", "recall", "f1"):
                cells += [
                    _round(getattr(row.old, m) if row.old else None),
                    _round(getattr(row.new, m)),
                    _round(row.delta(m)),
                ]
            rows.append(cells)
        rows.append([r.name, r.language, "(macro-F1)", r.size, "", "", "", "", "", ""])
        rows[-1] += [_round(r.macro_f1_old), _round(r.macro_f1_new), _round(r.macro_f1_change)]
    return _csv(header, rows)


def examples_csv(report: Report) -> str:
    rows = []
    for r in report.sets:
        for kind, items in (("fixed", r.fixed), ("broken", r.broken), ("still wrong", r.still_wrong)):
            rows += [[r.name, r.language, kind, e.text, e.gold, e.old, e.new] for e in items]
    return _csv(["set", "language", "kind", "text", "gold", "old", "new"], rows)


def confusions_csv(report: Report) -> str:
    rows = [
        [r.name, r.language, c.gold, c.predicted, c.old, c.new, c.change] for r in report.sets for c in r.confusions
    ]
    return _csv(["set", "language", "gold", "predicted", "old", "new", "change"], rows)


def render(report: Report) -> dict[str, str]:
    """File name -> content of every file of the report."""
    return {
        "report.md": to_markdown(report),
        "report.json": to_json(report),
        "intents.csv": intents_csv(report),
        "confusions.csv": confusions_csv(report),
        "examples.csv": examples_csv(report),
    }


def summary(report: Report) -> str:
    """A few lines for the console: macro-F1 per set and language, the gate."""
    lines = [
        f"new model: {report.new_model}",
        f"previous model: {report.old_model or 'none'} ({report.old_model_note})",
    ]
    for r in report.sets:
        lines.append(
            f"  {r.label:24} {r.size:5} examples  macro-F1 {_num(r.macro_f1_old)} -> {_num(r.macro_f1_new)} "
            f"({_num(r.macro_f1_change, True)})  fixed {len(r.fixed)}, broken {len(r.broken)}, "
            f"wrong {len(r.still_wrong)}"
        )
    lines.append(report.gate.message)
    return "\n".join(lines)
