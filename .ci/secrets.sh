#!/usr/bin/env bash
# Creates var/secrets.env (git-ignored, mode 0600) with random local secrets, and adds the ones an
# older file lacks (values already there are kept):
#   RASA_TOKEN            Rasa's HTTP API (models, every conversation): the operator's, no process but Rasa holds it
#   RASA_HANDOFF_TOKEN    Rasa's bridge routes (bot/bridge.py): handoff_service's, sent as a bearer header
#   ACTION_SERVER_SECRET  the action server's /webhook: Rasa sends it in the X-Action-Secret header
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
umask 077
rand() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40; }
file=var/secrets.env
[ -f "$file" ] || echo "# Local secrets for make run; never commit. Delete to regenerate." > "$file"
chmod 600 "$file"
for key in RASA_TOKEN RASA_HANDOFF_TOKEN ACTION_SERVER_SECRET; do
  grep -q "^$key=." "$file" || echo "$key=$(rand)" >> "$file"
done
