"""What scoring an NLU model needs, shared by `bench/nlu_eval.py` and `python -m bot.training evaluate`:
where the project and the public benchmarks are, the current model, the project's data per language and
its stratified 80/20 held-out split (seed 42), in-process parsing, and the benchmarks' scoring rules
(/work/shared/benchmarks/README.md). Rasa is imported only inside the functions that need it."""

from __future__ import annotations

import collections
import csv
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# the public sets (evaluation only, never training data)
BENCHMARKS = Path(os.environ.get("BENCHMARKS_DIR", "/work/shared/benchmarks"))
LANGS = ("zh", "en")
SEED = 42
TEST_SIZE = 0.2
FALLBACK = "nlu_fallback"
OOS = "out_of_scope"


def production_model() -> Path:
    """RASA_MODEL if set, else the current production model (`.ci/train.sh` trains it when inputs changed)."""
    if os.environ.get("RASA_MODEL"):
        return (ROOT / os.environ["RASA_MODEL"]).resolve()
    out = subprocess.run([str(ROOT / ".ci" / "train.sh")], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-4000:])
        raise SystemExit(f".ci/train.sh failed with exit code {out.returncode}")
    return (ROOT / out.stdout.strip().splitlines()[-1]).resolve()


def benchmark_dir() -> Path | None:
    """The public sets: BENCHMARKS (BENCHMARKS_DIR), else shared/benchmarks where SHARED_DIR says or
    beside the checkout (as tests/test_training_data.py finds it); None when there are none."""
    if BENCHMARKS.is_dir():
        return BENCHMARKS
    for base in (Path(os.environ.get("SHARED_DIR", "/nonexistent")), ROOT.parent / "shared"):
        if (base / "benchmarks").is_dir():
            return base / "benchmarks"
    return None


def relative(path: Path) -> str:
    """A path as the project's messages show it: from the checkout when inside it (symlinks kept)."""
    path = Path(os.path.abspath(path))
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def read_benchmark(name: str) -> list[dict[str, str]]:
    with open(BENCHMARKS / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_language(lang: str) -> tuple[Any, list[tuple[str, str]]]:
    """(TrainingData, [(text, full intent)]) for data/nlu/<lang>."""
    return load_nlu(ROOT / "data" / "nlu" / lang)


def load_nlu(path: Path) -> tuple[Any, list[tuple[str, str]]]:
    """(TrainingData, [(text, full intent)]) of a Rasa NLU file or directory."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return data, [(m.get("text"), m.get_full_intent()) for m in data.intent_examples]


def stratified_split(
    labels: Sequence[str], test_size: float = TEST_SIZE, seed: int = SEED
) -> tuple[list[int], list[int]]:
    """80/20 index split stratified by label (seed 42); labels seen once stay in training."""
    from sklearn.model_selection import train_test_split

    counts = collections.Counter(labels)
    idx = [i for i, label in enumerate(labels) if counts[label] >= 2]
    single = [i for i, label in enumerate(labels) if counts[label] < 2]
    train, test = train_test_split(idx, test_size=test_size, random_state=seed, stratify=[labels[i] for i in idx])
    return sorted(train + single), sorted(test)


async def model_predict(model: Path, texts: Sequence[str]) -> tuple[list[str], list[str]]:
    """Full predicted intent per text (faq -> faq/<sub-intent> from the ResponseSelector), as the
    assistant sees it and without the fallback (the best intent in the ranking other than nlu_fallback)."""
    from rasa.core.agent import Agent

    def full(result: dict[str, Any], name: str) -> str:
        if name == "faq":
            response = ((result.get("response_selector") or {}).get("faq") or {}).get("response") or {}
            return str(response.get("intent_response_key") or "faq")
        return name

    agent = Agent.load(str(model))
    out, raw = [], []
    for text in texts:
        result = await agent.parse_message(text)
        name = (result.get("intent") or {}).get("name") or FALLBACK
        ranked = [r.get("name") for r in result.get("intent_ranking") or [] if r.get("name") != FALLBACK]
        out.append(full(result, name))
        raw.append(full(result, name if name != FALLBACK or not ranked else ranked[0]))
    return out, raw


def map_bitext(gold: str, pred: str, gold_labels: set[str]) -> str:
    """Bitext `faq` = any faq/* answer; a faq/* the set has no label for counts as plain `faq`."""
    if pred.startswith("faq/") and (gold == "faq" or pred not in gold_labels):
        return "faq"
    return pred


def map_clinc(pred: str) -> str:
    """CLINC150: a fallback or an out_of_scope intent is right for an out-of-scope query."""
    return OOS if pred in (FALLBACK, OOS) else pred
