#!/usr/bin/env python
"""Emotion-level benchmark: prints figures, asserts nothing.

  cd /work/main && .venv/bin/python bench/emotion_eval.py [--errors]

Scores `bot.emotion.detect_emotion` on the labelled sets in bench/data/
(emotion_<lang>.csv, columns text,level; written for the project, see
bench/data/README.md): per language exact accuracy, within-one-step accuracy
(target >= 0.90), a 4x4 confusion matrix and the median detection time per message.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
LANGS = ("zh", "en")
LEVELS = (0, 1, 2, 3)
TARGET_WITHIN_ONE = 0.90


def load(lang: str) -> list[tuple[str, int]]:
    with open(DATA / f"emotion_{lang}.csv", newline="", encoding="utf-8") as handle:
        return [(row["text"], int(row["level"])) for row in csv.DictReader(handle)]


def evaluate(rows: Sequence[tuple[str, int]]) -> dict[str, object]:
    """Predictions, accuracies, confusion matrix (gold rows x predicted columns) and timing."""
    from bot.emotion import detect_emotion

    preds, seconds, cues = [], [], []
    for text, _ in rows:
        start = time.perf_counter()
        emotion = detect_emotion(text)
        seconds.append(time.perf_counter() - start)
        preds.append(emotion.level)
        cues.append(emotion.cues)
    gold = [level for _, level in rows]
    n = len(gold) or 1
    matrix = [[sum(1 for g, p in zip(gold, preds, strict=True) if g == i and p == j) for j in LEVELS] for i in LEVELS]
    return {
        "gold": gold,
        "pred": preds,
        "cues": cues,
        "matrix": matrix,
        "exact": sum(g == p for g, p in zip(gold, preds, strict=True)) / n,
        "within_one": sum(abs(g - p) <= 1 for g, p in zip(gold, preds, strict=True)) / n,
        "median_ms": statistics.median(seconds) * 1000 if seconds else float("nan"),
    }


def summary() -> dict[str, dict[str, object]]:
    """Per-language results (for bench/nlu_eval.py); the first call pays for loading jieba and OpenCC."""
    from bot.emotion import detect_emotion

    detect_emotion("预热 warm-up")
    return {lang: evaluate(load(lang)) for lang in LANGS}


def print_report(
    results: dict[str, dict[str, object]], rows: dict[str, list[tuple[str, int]]], errors: bool = False
) -> None:
    for lang in LANGS:
        r = results[lang]
        counts = ", ".join(f"{lvl}: {r['gold'].count(lvl)}" for lvl in LEVELS)
        met = "met" if r["within_one"] >= TARGET_WITHIN_ONE else "NOT met"
        print(f"\n== {lang}: {len(r['gold'])} messages (per level {counts}) ==")
        print(f"  exact accuracy       {r['exact']:.3f}")
        print(f"  within one step      {r['within_one']:.3f}   (target >= {TARGET_WITHIN_ONE:.2f}: {met})")
        print(f"  median detection     {r['median_ms']:.2f} ms per message")
        print("  confusion (rows gold, columns predicted)")
        print("        " + "".join(f"{f'p{j}':>5}" for j in LEVELS))
        for i in LEVELS:
            print(f"    g{i}  " + "".join(f"{r['matrix'][i][j]:5}" for j in LEVELS))
        if errors:
            print("  misses (gold -> predicted: text  [cues])")
            for (text, gold), pred, cues in zip(rows[lang], r["pred"], r["cues"], strict=True):
                if gold != pred:
                    print(f"    {gold} -> {pred}: {text}  {list(cues)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--errors", action="store_true", help="list the messages whose level is not exact")
    args = parser.parse_args()
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import logging

    logging.getLogger("jieba").setLevel(logging.ERROR)
    print("Emotion-level benchmark (figures only, no assertions): bot.emotion.detect_emotion on bench/data/")
    results = summary()
    print_report(results, {lang: load(lang) for lang in LANGS}, errors=args.errors)


if __name__ == "__main__":
    main()
