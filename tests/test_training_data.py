"""Training data hygiene: coverage per intent and language, and no benchmark leakage."""

import collections
import csv
import os
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# the evaluation sets live beside the project (../shared); SHARED_DIR overrides, e.g. in a clone elsewhere
BENCHMARKS = next(
    (
        p / "benchmarks"
        for p in (Path(os.environ.get("SHARED_DIR", "/nonexistent")), ROOT.parent / "shared", Path("/work/shared"))
        if (p / "benchmarks").is_dir()
    ),
    ROOT.parent / "shared" / "benchmarks",
)
CONFUSABLE = {"refund", "return_exchange", "cancel_order", "complain", "request_human"}
FAQ_SUBINTENTS = {"business_hours", "contact", "shipping", "warranty", "payment_methods", "return_policy"}
ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


def normalise(text):
    return re.sub(r"\d", "0", text.strip().lower())


def examples_by_intent(language):
    found = collections.defaultdict(list)
    for path in sorted((ROOT / "data" / "nlu" / language).glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            lines = [line[2:].strip() for line in block["examples"].splitlines() if line.strip().startswith("- ")]
            found[block["intent"]].extend(ANNOTATION.sub(lambda m: m.group(1) or m.group(2), line) for line in lines)
    return found


def domain_intents(domain_dict):
    return {i if isinstance(i, str) else next(iter(i)) for i in domain_dict["intents"]}


def test_every_intent_has_enough_examples_in_both_languages(domain_dict):
    for language in ("zh", "en"):
        examples = examples_by_intent(language)
        # EXTERNAL_* intents are triggered by handoff_service, never typed
        for intent in {i for i in domain_intents(domain_dict) - {"faq"} if not i.startswith("EXTERNAL_")}:
            needed = 40 if intent in CONFUSABLE else 25
            assert len(examples[intent]) >= needed, (language, intent, len(examples[intent]))
        faq = {name.split("/", 1)[1] for name in examples if name.startswith("faq/")}
        assert faq >= FAQ_SUBINTENTS, (language, FAQ_SUBINTENTS - faq)
        for sub in FAQ_SUBINTENTS:
            assert len(examples[f"faq/{sub}"]) >= 15, (language, sub)


def test_language_folders_hold_their_language():
    cjk = re.compile(r"[\u4e00-\u9fff]")
    english = [e for ex in examples_by_intent("en").values() for e in ex]
    chinese = [e for ex in examples_by_intent("zh").values() for e in ex]
    assert not [e for e in english if cjk.search(e)]
    assert sum(bool(cjk.search(e)) for e in chinese) / len(chinese) > 0.95


def test_no_training_example_equals_a_benchmark_utterance():
    benchmark = set()
    for path in BENCHMARKS.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            benchmark |= {normalise(row["text"]) for row in csv.DictReader(handle)}
    assert len(benchmark) > 3000, "benchmark sets not found next to the project"
    leaks = [
        e for lang in ("zh", "en") for ex in examples_by_intent(lang).values() for e in ex if normalise(e) in benchmark
    ]
    assert leaks == []


def test_catalogue_skus_agree_between_entity_patterns_and_demo_store():
    patterns = yaml.safe_load((ROOT / "bot" / "nlu" / "entity_patterns.yml").read_text(encoding="utf-8"))
    seed = yaml.safe_load((ROOT / "actions" / "clients" / "demo_store_seed.yml").read_text(encoding="utf-8"))
    assert set(patterns["products"]) == {p["sku"] for p in seed["products"]}
