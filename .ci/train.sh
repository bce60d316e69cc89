#!/usr/bin/env bash
# Trains a Rasa model only when data, domain, config or the custom NLU/policy code changed.
# Prints the model path. The model is named by a hash of its inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
hash=$(.ci/model-hash)
model="models/$hash.tar.gz"
if [ -f "$model" ]; then echo "train: model is current ($model)" >&2; echo "$model"; exit 0; fi
echo "train: inputs changed, training $model (takes a few minutes)" >&2
.venv/bin/rasa train --fixed-model-name "$hash" --out models --quiet >&2
echo "$model"
