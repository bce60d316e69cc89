#!/usr/bin/env bash
# Creates var/secrets.env (git-ignored) with random local secrets, once.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
if [ ! -f var/secrets.env ]; then
  umask 077
  rand() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40; }
  {
    echo "# Local secrets for make run; never commit. Delete to regenerate."
    echo "RASA_TOKEN=$(rand)"
  } > var/secrets.env
fi
