#!/usr/bin/env bash
# Keeps var/secrets.env (git-ignored): random local secrets for make run, each made once; a secret
# added by a newer version of this script is appended to an existing file, the others are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
umask 077
file=var/secrets.env
[ -f "$file" ] || echo "# Local secrets for make run; never commit. Delete to regenerate." > "$file"
rand() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40; }
# RASA_TOKEN: Rasa's HTTP API; CHAT_SESSION_SECRET: signs the widget's sessions;
# CHANNEL_GATEWAY_SECRET: the messaging gateway signs REST and callback bodies with it;
# CHAT_CUSTOMER_JWT_SECRET: the shop signs its customer tokens (JWT) with it (replace it with the shop's)
for name in RASA_TOKEN CHAT_SESSION_SECRET CHANNEL_GATEWAY_SECRET CHAT_CUSTOMER_JWT_SECRET; do
  grep -q "^$name=" "$file" || echo "$name=$(rand)" >> "$file"
done
chmod 600 "$file"
