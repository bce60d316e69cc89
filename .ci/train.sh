#!/usr/bin/env bash
# Trains a Rasa model only when data, domain, config or the custom NLU/policy code changed.
# Prints the model path. The model is named by a hash of its inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=${RASA_TELEMETRY_ENABLED:-false}  # no usage telemetry or crash reports
hash=$(.ci/model-hash)
model="models/$hash.tar.gz"
if [ -f "$model" ]; then echo "train: model is current ($model)" >&2; echo "$model"; exit 0; fi
echo "train: inputs changed, training $model (a few minutes on 2 cores)" >&2
# The same inputs must give the same model, so that one that passes the test stories here passes
# them in CI too: the intent classifier trains on one BLAS thread (bot/intent_model.py), and any
# TensorFlow component would run on one thread (multi-threaded training differs from run to run).
export TF_INTRA_OP_PARALLELISM_THREADS=1 TF_INTER_OP_PARALLELISM_THREADS=1
# Rasa's training cache keys a component's output by its config and inputs, not by its code:
# one cache per version of bot/ and the pinned packages, older ones removed.
code=$({ find bot -name '*.py' -not -path '*/__pycache__/*' -not -path 'bot/training/*' | sort | xargs sha256sum
         cat requirements.lock bot/pretrained.lock; } | sha256sum | cut -c1-12)
export RASA_CACHE_DIRECTORY=".rasa/cache-$code"
mkdir -p .rasa && find .rasa -mindepth 1 -maxdepth 1 -name 'cache*' ! -name "cache-$code" -exec rm -rf {} +
.venv/bin/rasa train --fixed-model-name "$hash" --out models --quiet >&2
echo "$model"
