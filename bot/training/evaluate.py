"""`python -m bot.training evaluate` (`make evaluate`): the new model and the previous one scored on the
same labelled sets, a report (Markdown, JSON, CSV) and a gate.

  python -m bot.training evaluate [--new MODEL] [--old MODEL | --no-old] [--out DIR]
                                  [--sets real-traffic,heldout,bitext,clinc150] [--real-traffic PATH] [--limit N]
                                  [--cache DIR | --no-cache] [--jobs N]

New model: the current one (`.ci/train.sh` prints it, training first only when its inputs changed).
Previous model: the newest model this command accepted before (the gate passed with it as the new
model; recorded in var/training/accepted-models.json) that is not the new one and still exists; before
any such record, the newest other model in models/ by modification time; with neither, the new model is
reported alone and the gate passes, saying so. A model that fails the gate is never recorded, so the
next candidate is measured against the last accepted one.

Sets, each per language:
  real-traffic  the held-back real-traffic test set (Rasa NLU YAML, `zh.yml` / `en.yml`; default
                bench/data/real_traffic/), when present;
  heldout       the texts of the project's stratified 80/20 held-out split (seed 42, as bench/nlu_eval.py),
                scored by the production models, which were trained on all the data: a check of what the
                data teaches, not of generalisation (no retraining here: one takes 2-3 minutes; the
                80 % retrain is `bench/nlu_eval.py`);
  bitext, clinc150  the public English benchmarks (BENCHMARKS_DIR, /work/shared/benchmarks; their
                scoring rules), their utterances never shown: examples are named by data row of the CSV file.

Predictions are cached per model file (var/training/predictions/, keyed by a hash of each text, no text
stored), so the previous model, scored when it was new, is not parsed again: a run parses the new model
only: ~5,200 texts, 73 s in one process on two cores, about 40 s in two (`--jobs`, default 2: the
uncached models share the processes, one BLAS thread each).

Exit status: 0 when the gate passes, 1 when it fails (the reasons are printed), 2 on a usage error, a
missing model or nothing to score.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.serve import SERVING_THREADS
from bot.training import nlu
from bot.training.items import ItemsError, review_call, trainer_token
from bot.training.report import Example, LabelledSet, Report, compare, gate, render, summary

SETS = ("real-traffic", "heldout", "bitext", "clinc150")
REAL_TRAFFIC = nlu.ROOT / "bench" / "data" / "real_traffic"
REPORTS = nlu.ROOT / "var" / "reports"
STATE = nlu.ROOT / "var" / "training" / "accepted-models.json"
KEEP_ACCEPTED = 20
# predictions per model file, keyed by a hash of the text (no text stored): a model is scored once
CACHE = nlu.ROOT / "var" / "training" / "predictions"
PUBLISHED_CHARS = 16_000  # what handoff_service's review page keeps of a report (schemas.REPORT_CHARS)
KEEP_CACHED_MODELS = 10


@dataclass(frozen=True)
class TextSet:
    """Labelled texts of one set in one language, before any model has seen them."""

    name: str
    language: str
    description: str
    items: list[tuple[str, str]]  # (text, gold intent)
    show_texts: bool = True
    mapper: Callable[[str, str], str] | None = None  # (gold, prediction) -> prediction as the set scores it
    rows: list[int] | None = None  # each item's data row in its source file (1-based), when texts are not shown


# ---------------------------------------------------------------- the previous model


def choose_previous(
    new: Path, accepted: Sequence[str], models: Sequence[tuple[Path, float]]
) -> tuple[Path | None, str]:
    """(previous model, how it was chosen). `accepted`: models the gate accepted, oldest first (paths
    relative to the project or absolute); `models`: (path, mtime) of the models in models/."""
    new = new.resolve()
    for name in reversed(accepted):
        path = (nlu.ROOT / name).resolve()
        if path != new and path.exists():
            return path, f"previous model: the last one accepted by `make evaluate` ({nlu.relative(STATE)})"
    others = sorted(((p.resolve(), t) for p, t in models if p.resolve() != new), key=lambda pt: pt[1])
    if others:
        return others[-1][0], "previous model: no accepted model on record, so the newest other model in models/"
    return None, "no previous model (none accepted on record, no other model in models/)"


def read_accepted(state: Path = STATE) -> list[str]:
    try:
        data = json.loads(state.read_text(encoding="utf-8"))
        return [str(x) for x in data.get("accepted", [])]
    except (OSError, ValueError, AttributeError):
        return []


def record_accepted(model: Path, state: Path = STATE) -> None:
    name = nlu.relative(model)
    accepted = [x for x in read_accepted(state) if x != name] + [name]
    state.parent.mkdir(parents=True, exist_ok=True)
    tmp = state.with_suffix(".tmp")
    tmp.write_text(json.dumps({"accepted": accepted[-KEEP_ACCEPTED:]}, indent=2) + "\n", encoding="utf-8")
    tmp.replace(state)


def model_files() -> list[tuple[Path, float]]:
    folder = nlu.ROOT / "models"
    return [(p, p.stat().st_mtime) for p in folder.glob("*.tar.gz")] if folder.is_dir() else []


# ---------------------------------------------------------------- sets


def sample(items: list[tuple[str, str]], limit: int | None) -> list[tuple[str, str]]:
    """At most `limit` items, evenly spread over the set (all of them when limit is None)."""
    return [items[i] for i in sample_indices(len(items), limit)]


def sample_indices(size: int, limit: int | None) -> list[int]:
    if limit is None or size <= limit:
        return list(range(size))
    step = size / limit
    return [int(i * step) for i in range(limit)]


def real_traffic_sets(path: Path) -> list[TextSet]:
    files = sorted(path.glob("*.yml")) + sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    by_lang: dict[str, list[tuple[str, str]]] = {}
    for file in files:
        if not file.exists():
            continue
        from bot.text import detect_language

        _, items = nlu.load_nlu(file)
        for text, intent in items:
            lang = file.stem if file.stem in nlu.LANGS else (detect_language(text) or "en")
            by_lang.setdefault(lang, []).append((text, intent))
    return [
        TextSet(
            "real-traffic", lang, f"held-back real-traffic test set ({nlu.relative(path)}), never trained on", items
        )
        for lang, items in sorted(by_lang.items())
    ]


def heldout_sets() -> list[TextSet]:
    out = []
    for lang in nlu.LANGS:
        _, examples = nlu.load_language(lang)
        _, test = nlu.stratified_split([label for _, label in examples])
        out.append(
            TextSet(
                "heldout",
                lang,
                f"the project's held-out texts (stratified {int(nlu.TEST_SIZE * 100)} % of data/nlu/{lang}, seed "
                f"{nlu.SEED}) scored by the production models, which were trained on all the data: a check of what "
                "the data teaches, not of generalisation to new text",
                [examples[i] for i in test],
            )
        )
    return out


def public_sets(names: Sequence[str]) -> list[TextSet]:
    out = []
    if "bitext" in names:
        rows = nlu.read_benchmark("bitext_en.csv")
        labels = {r["intent"] for r in rows}
        out.append(
            TextSet(
                "bitext",
                "en",
                "public benchmark Bitext (evaluation only; `faq` = any faq/* answer; utterances not shown)",
                [(r["text"], r["intent"]) for r in rows],
                show_texts=False,
                mapper=lambda gold, pred: nlu.map_bitext(gold, pred, labels),
            )
        )
    if "clinc150" in names:
        rows = nlu.read_benchmark("clinc150_en.csv")
        out.append(
            TextSet(
                "clinc150",
                "en",
                "public benchmark CLINC150 (evaluation only; a fallback is right for out-of-scope; utterances "
                "not shown)",
                [(r["text"], r["intent"]) for r in rows],
                show_texts=False,
                mapper=lambda _gold, pred: nlu.map_clinc(pred),
            )
        )
    return out


def load_sets(names: Sequence[str], real_traffic: Path, limit: int | None) -> tuple[list[TextSet], list[str]]:
    sets: list[TextSet] = []
    notes = []
    if "real-traffic" in names:
        if real_traffic.exists():
            sets += real_traffic_sets(real_traffic)
        else:
            notes.append(f"real-traffic test set not found ({nlu.relative(real_traffic)}): not scored")
    if "heldout" in names:
        sets += heldout_sets()
    if "bitext" in names or "clinc150" in names:
        if nlu.BENCHMARKS.is_dir():
            sets += public_sets(names)
        else:
            notes.append(f"public benchmarks not found ({nlu.BENCHMARKS}, BENCHMARKS_DIR): not scored")
    limited = []
    for s in sets:
        keep = sample_indices(len(s.items), limit)
        rows = [i + 1 for i in keep] if not s.show_texts else None
        limited.append(
            TextSet(s.name, s.language, s.description, [s.items[i] for i in keep], s.show_texts, s.mapper, rows)
        )
    if limit is not None:
        notes.append(f"--limit {limit}: at most {limit} examples per set and language, evenly spread")
    return limited, notes


def labelled(text_set: TextSet, new: Sequence[str], old: Sequence[str] | None) -> LabelledSet:
    """Predictions (as the set scores them) joined to the texts."""

    def scored(gold: str, pred: str) -> str:
        return text_set.mapper(gold, pred) if text_set.mapper else pred

    examples = [
        Example(
            text,
            gold,
            scored(gold, new[i]),
            scored(gold, old[i]) if old is not None else None,
            f"row {text_set.rows[i]}" if text_set.rows else "",
        )
        for i, (text, gold) in enumerate(text_set.items)
    ]
    return LabelledSet(text_set.name, text_set.language, text_set.description, examples, text_set.show_texts)


# ---------------------------------------------------------------- predictions


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def cache_file(model: Path, cache: Path) -> Path:
    """One file per model file (its path, size and modification time): a retrained model is a new file."""
    st = model.stat()
    key = hashlib.sha256(f"{model.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]
    return cache / f"{model.name.removesuffix('.tar.gz')}-{key}.json"


def read_cache(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_cache(path: Path, predictions: dict[str, str], keep: int = KEEP_CACHED_MODELS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(predictions, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
    for stale in sorted(path.parent.glob("*.json"), key=lambda p: p.stat().st_mtime)[:-keep]:
        stale.unlink(missing_ok=True)


def parse_texts(model: Path, texts: list[str]) -> list[str]:
    """Predictions as deployed (with the fallback), parsed in this process."""
    _quiet_rasa()
    return asyncio.run(nlu.model_predict(model, texts))[0] if texts else []


def plan(missing: Sequence[Sequence[str]], jobs: int) -> list[tuple[int, list[str]]]:
    """(model index, texts) per parsing process: the models that have texts to parse share `jobs`
    processes, a model's texts cut into equal chunks when it has more than one."""
    todo = [(i, list(texts)) for i, texts in enumerate(missing) if texts]
    if not todo:
        return []
    per_model = max(1, jobs // len(todo))
    chunks = []
    for i, texts in todo:
        size = -(-len(texts) // per_model)
        chunks += [(i, texts[k : k + size]) for k in range(0, len(texts), size)]
    return chunks


def predict(models: Sequence[Path], texts: Sequence[str], cache: Path | None, jobs: int = 2) -> list[list[str]]:
    """Each model's predictions for `texts`: from the cache where it has them; the rest parsed in `jobs`
    processes (this one and spawned ones; each loads the model it parses, one BLAS thread each)."""
    files = [cache_file(m, cache) if cache else None for m in models]
    known = [read_cache(f) for f in files]
    unique = list(dict.fromkeys(texts))
    missing = [[t for t in unique if text_key(t) not in k] for k in known]
    chunks = plan(missing, max(1, jobs))
    if chunks:
        spawn = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, len(chunks) - 1), mp_context=spawn) as pool:
            futures = [pool.submit(parse_texts, models[i], part) for i, part in chunks[1:]]
            first = parse_texts(models[chunks[0][0]], chunks[0][1])
            results = [first] + [f.result() for f in futures]
        for (i, part), preds in zip(chunks, results, strict=True):
            known[i].update({text_key(t): p for t, p in zip(part, preds, strict=True)})
        for i in {i for i, _ in chunks}:
            file = files[i]
            if file is not None:
                write_cache(file, known[i])
    return [[k[text_key(t)] for t in texts] for k in known]


# ---------------------------------------------------------------- output


def default_out(now: dt.datetime) -> Path:
    return REPORTS / f"evaluate-{now.strftime('%Y%m%dT%H%M%SZ')}"


def write_report(report: Report, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in render(report).items():
        path = out / name
        path.write_text(content, encoding="utf-8", newline="")
        written.append(path)
    return written


def point_latest(out: Path, reports: Path = REPORTS) -> None:
    """reports/latest -> out (a relative symlink, replaced atomically)."""
    link = reports / "latest"
    tmp = reports / f".latest-{os.getpid()}"
    target = os.path.relpath(out.resolve(), reports.resolve())
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    tmp.replace(link)


# ---------------------------------------------------------------- command


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot.training evaluate",
        description="Score the new model and the previous one on the same sets; write a report; gate.",
        epilog=f"Exit status 0: gate passed; 1: gate failed; 2: usage error. Default sets: {','.join(SETS)}.",
    )
    parser.add_argument("--new", type=Path, help="the new model (default: the current one, from .ci/train.sh)")
    parser.add_argument("--old", type=Path, help="the previous model (default: see the module's documentation)")
    parser.add_argument("--no-old", action="store_true", help="report the new model alone")
    parser.add_argument("--out", type=Path, help="report directory (default var/reports/evaluate-<UTC time>)")
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {','.join(SETS)}")
    parser.add_argument(
        "--real-traffic",
        type=Path,
        default=REAL_TRAFFIC,
        help=f"held-back test set: a Rasa NLU YAML file or a directory of them (default {nlu.relative(REAL_TRAFFIC)}; "
        "zh.yml / en.yml name their language)",
    )
    parser.add_argument("--limit", type=int, help="at most this many examples per set and language (quick checks)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=CACHE,
        help=f"predictions per model file, by text hash (default {nlu.relative(CACHE)}): a model is parsed once",
    )
    parser.add_argument("--no-cache", action="store_true", help="parse every text again")
    parser.add_argument("--jobs", type=int, default=2, help="parsing processes (default 2, one per core)")
    parser.add_argument(
        "--publish",
        metavar="URL",
        help="then show the report in handoff_service's console (token: HANDOFF_TRAINER_TOKEN or var/trainer.token)",
    )
    args = parser.parse_args(list(argv))
    args.sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in args.sets if s not in SETS]
    if unknown:
        parser.error(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}")
    if args.old and args.no_old:
        parser.error("--old and --no-old exclude each other")
    return args


def _quiet_rasa() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    for name in ("rasa", "tensorflow", "absl", "jieba", "sanic", "asyncio"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from rasa.utils.log_utils import configure_structlog

        configure_structlog(logging.ERROR)
    except ImportError:
        pass


def publish(url: str, report: Report, markdown: Path) -> str:
    """Sends the report to handoff_service's review page (POST /api/review/reports); a long one is
    cut to what the page keeps, saying where the whole report is. Never fails the evaluation."""
    text = markdown.read_text(encoding="utf-8")
    if len(text) > PUBLISHED_CHARS:
        tail = f"\n\n… (shortened; the whole report: {nlu.relative(markdown)})\n"
        text = text[: PUBLISHED_CHARS - len(tail)] + tail
    title = f"{report.new_model} vs {report.old_model or 'no previous model'}"[:200]
    body = {"title": title, "passed": report.gate.passed, "markdown": text}
    try:
        made = review_call(url, "/api/review/reports", trainer_token(), "POST", body)
    except ItemsError as error:
        return f"evaluate: the report was not published: {error}"
    return f"evaluate: report published to {url}/console (report {made.get('id')})"


def main(argv: list[str]) -> int:
    args = parse_args(argv[1:])
    for name, value in SERVING_THREADS.items():  # before NumPy loads; inherited by the parsing processes
        os.environ.setdefault(name, value)
    started = time.time()
    now = dt.datetime.now(dt.timezone.utc)
    _quiet_rasa()
    new = args.new.resolve() if args.new else nlu.production_model()
    if not new.is_file():
        print(f"evaluate: new model {new} not found", file=sys.stderr)
        return 2
    if args.no_old:
        old, how = None, "no previous model (--no-old)"
    elif args.old:
        old, how = args.old.resolve(), "previous model given with --old"
        if not old.is_file():
            print(f"evaluate: previous model {old} not found", file=sys.stderr)
            return 2
    else:
        old, how = choose_previous(new, read_accepted(), model_files())

    text_sets, notes = load_sets(args.sets, args.real_traffic, args.limit)
    if not any(s.items for s in text_sets):
        print("evaluate: nothing to score: " + ("; ".join(notes) or "the sets are empty"), file=sys.stderr)
        return 2
    texts = [text for s in text_sets for text, _ in s.items]
    t0 = time.time()
    models = [new] if old is None or old == new else [new, old]
    predictions = predict(models, texts, None if args.no_cache else args.cache, args.jobs)
    new_pred = predictions[0]
    old_pred = None if old is None else predictions[-1]
    notes.append(
        f"{len(texts)} texts, {len(models)} model(s): predictions in {time.time() - t0:.0f} s (cached ones reused); "
        "as deployed: a fallback is a wrong answer, except for CLINC150's out-of-scope queries"
    )

    results, start = [], 0
    for s in text_sets:
        end = start + len(s.items)
        results.append(compare(labelled(s, new_pred[start:end], old_pred[start:end] if old_pred else None)))
        start = end
    verdict = gate(results)
    report = Report(
        created=now.isoformat(timespec="seconds"),
        new_model=nlu.relative(new),
        old_model=nlu.relative(old) if old else None,
        old_model_note=how,
        sets=results,
        gate=verdict,
        notes=notes,
    )
    out = args.out or default_out(now)
    write_report(report, out)
    if args.out is None:
        point_latest(out)
    full_check = args.new is None and not args.no_old and args.limit is None and set(args.sets) == set(SETS)
    if verdict.passed and full_check and old != new:
        record_accepted(new)  # the next model is measured against this one
    print(summary(report))
    print(f"report: {nlu.relative(out)}/report.md (also report.json, intents.csv, confusions.csv, examples.csv)")
    if args.publish:
        print(publish(args.publish, report, out / "report.md"))
    print(f"evaluate: {time.time() - started:.0f} s")
    if not verdict.passed:
        print("evaluate: " + verdict.message, file=sys.stderr)
        return 1
    return 0
