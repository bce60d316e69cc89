#!/usr/bin/env python
"""Training-time benchmark: prints figures, asserts nothing.

  cd /work/main && .venv/bin/python bench/train_time.py

1. the production model from an empty training cache (`rasa train`, as `make train` runs it:
   one TensorFlow thread, same config, domain and data), into a temporary directory;
2. the same after a trainer's change of 50 NLU examples (25 zh and 25 en examples get a
   polite word added), with the cache of step 1 (what `make train` does after an edit);
3. Rasa's starter project (`rasa init`, trained the same way) for scale;
and the size of each model file. The three-member DIET ensemble this replaced is gone; its
last measured figures are printed beside, with their date.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

C.setup()

CHANGED_EXAMPLES = 50
TARGET_FULL_S, TARGET_RETRAIN_S, TARGET_SIZE_MB = 5 * 60, 2 * 60, 60
# the three-member DIET ensemble (config of 2026-12-06, commit f5f12c6), measured on this machine
ENSEMBLE = {
    "full": "34 min beside another training, 40 min from a fresh clone (2026-12-06)",
    "size": "~290 MB (2026-12-06)",
}


def train(args: list[str], cache: Path, log: Path, cwd: Path = C.ROOT) -> float:
    env = {**os.environ, **C.REPRODUCIBLE_TRAINING, "RASA_CACHE_DIRECTORY": str(cache)}
    start = time.time()
    with log.open("w") as out:
        code = subprocess.run(
            [str(C.RASA), *args, "--quiet"], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    if code != 0:
        raise RuntimeError(f"rasa {' '.join(args)} exited {code}:\n{C.tail(log)}")
    return time.time() - start


def change_examples(data: Path, count: int) -> int:
    """Adds a polite word to `count` examples, half in zh and half in en (a trainer's edit)."""
    changed = 0
    for lang, suffix, share in (("zh", "，谢谢", count // 2), ("en", " please", count - count // 2)):
        left = share
        for path in sorted((data / "nlu" / lang).glob("*.yml")):
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            for i, line in enumerate(lines):
                if left and line.startswith("    - "):  # an example inside an `examples: |` block
                    lines[i] = line.rstrip("\n") + suffix + "\n"
                    left -= 1
            path.write_text("".join(lines), encoding="utf-8")
            if not left:
                break
        changed += share - left
    return changed


def size_mb(path: Path) -> float:
    return path.stat().st_size / 1e6


def main() -> None:
    t0 = time.time()
    work = Path(tempfile.mkdtemp(prefix="train_time_"))
    print("Training-time benchmark (figures only, no assertions)")
    print(f"machine: {os.cpu_count()} cores, load average at start " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    try:
        shutil.copytree(C.ROOT / "data", work / "data")
        common = [
            "--config",
            str(C.ROOT / "config.yml"),
            "--domain",
            str(C.ROOT / "domain.yml"),
            "--data",
            str(work / "data"),
            "--out",
            str(work / "models"),
        ]
        cache = work / "cache"
        results: dict[str, float] = {}
        results["full"] = train(["train", *common, "--fixed-model-name", "full"], cache, work / "full.log")
        changed = change_examples(work / "data", CHANGED_EXAMPLES)
        results["retrain"] = train(["train", *common, "--fixed-model-name", "retrain"], cache, work / "retrain.log")
        plain = work / "moodbot"
        plain.mkdir()
        subprocess.run(
            [str(C.RASA), "init", "--no-prompt", "--init-dir", str(plain)],
            cwd=work,
            capture_output=True,
            env={**os.environ, "RASA_CACHE_DIRECTORY": str(work / "init-cache")},
        )
        shutil.rmtree(plain / "models", ignore_errors=True)
        results["plain"] = train(
            ["train", "--out", "models", "--fixed-model-name", "plain"],
            work / "plain-cache",
            work / "plain.log",
            cwd=plain,
        )
        sizes = {"full": size_mb(work / "models" / "full.tar.gz"), "plain": size_mb(plain / "models" / "plain.tar.gz")}

        def verdict(ok: bool) -> str:
            return "met" if ok else "NOT met"

        print(f"\n{'':52}{'ours':>10}{'rasa init':>11}   DIET ensemble (gone)      target")
        print(
            f"{'training from an empty cache':52}{C.fmt_duration(results['full']):>10}"
            f"{C.fmt_duration(results['plain']):>11}   {ENSEMBLE['full']}   <= 5 min: "
            f"{verdict(results['full'] <= TARGET_FULL_S)}"
        )
        print(
            f"{f'retraining after {changed} changed NLU examples (cache)':52}"
            f"{C.fmt_duration(results['retrain']):>10}{'':>11}   (a full training)   <= 2 min: "
            f"{verdict(results['retrain'] <= TARGET_RETRAIN_S)}"
        )
        print(
            f"{'model file':52}{sizes['full']:>8.1f}MB{sizes['plain']:>9.1f}MB   {ENSEMBLE['size']}   "
            f"<= {TARGET_SIZE_MB} MB: {verdict(sizes['full'] <= TARGET_SIZE_MB)}"
        )
        print(
            "  one TensorFlow thread for every training (as `make train`); load average at end "
            + " ".join(f"{x:.2f}" for x in os.getloadavg())
        )
        print(f"\ntotal run time {C.fmt_duration(time.time() - t0)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
