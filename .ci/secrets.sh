#!/usr/bin/env bash
# Keeps var/secrets.env (git-ignored, mode 0600): random local secrets for make run, each made once; a
# secret added by a newer version of this script is appended to an existing file, the others are kept.
# Who holds which (README, "Security model"):
#   RASA_TOKEN                Rasa's HTTP API (models, every conversation): the operator's; no other process holds it
#   RASA_HANDOFF_TOKEN        Rasa's bridge routes (bot/bridge.py): handoff_service's, sent as a bearer header
#   ACTION_SERVER_SECRET      the action server's /webhook: Rasa sends it in the X-Action-Secret header
#   CHAT_SESSION_SECRET       Rasa: signs the widget's sessions
#   CHANNEL_GATEWAY_SECRET    the messaging gateway signs REST and callback bodies with it
#   CHAT_CUSTOMER_JWT_SECRET  the shop signs its customer tokens (JWT) with it (replace it with the shop's)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
umask 077
file=var/secrets.env
[ -f "$file" ] || echo "# Local secrets for make run; never commit. Delete to regenerate." > "$file"
rand() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40; }
for name in RASA_TOKEN RASA_HANDOFF_TOKEN ACTION_SERVER_SECRET CHAT_SESSION_SECRET CHANNEL_GATEWAY_SECRET \
            CHAT_CUSTOMER_JWT_SECRET; do
  grep -q "^$name=." "$file" || echo "$name=$(rand)" >> "$file"
done
chmod 600 "$file"
