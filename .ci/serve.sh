#!/usr/bin/env bash
# `make run`: starts the action server, the Rasa server and handoff_service on
# localhost; prints the URLs; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=${RASA_TELEMETRY_ENABLED:-false}  # no usage telemetry or crash reports
model=$(.ci/train.sh)
.ci/secrets.sh
# the secrets stay unexported: each process below gets only its own (see README, "Security model")
. var/secrets.env
export -n RASA_TOKEN RASA_HANDOFF_TOKEN ACTION_SERVER_SECRET CHAT_SESSION_SECRET CHANNEL_GATEWAY_SECRET \
  CHAT_CUSTOMER_JWT_SECRET
unset HANDOFF_RASA_TOKEN
RASA_PORT=${RASA_PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
export HANDOFF_PORT=${HANDOFF_PORT:-8080}
# the customer chat page has an origin of its own: its script can never use a console session
export HANDOFF_CHAT_PORT=${HANDOFF_CHAT_PORT:-8081}
export HANDOFF_RASA_URL="http://127.0.0.1:$RASA_PORT"
export HANDOFF_CHAT_SOCKET_URL="http://127.0.0.1:$RASA_PORT"
# the pages that may open the widget's socket on Rasa (the chat page's origin)
export CHAT_ALLOWED_ORIGINS="http://127.0.0.1:$HANDOFF_CHAT_PORT,http://localhost:$HANDOFF_CHAT_PORT"
# the actions reach handoff_service with the bot token
export HANDOFF_URL="http://127.0.0.1:$HANDOFF_PORT" HANDOFF_BOT_TOKEN_FILE="$PWD/var/bot.token"
# conversations, cases and tokens under var/ are readable by this user only
umask 077
mkdir -p var/log && chmod -R go-rwx var
# endpoints.yml names the default action-server port; a run on another port gets its own copy
endpoints=endpoints.yml
if [ "$ACTIONS_PORT" != 5055 ]; then
  endpoints=var/endpoints.run.yml
  sed "s#127.0.0.1:5055/#127.0.0.1:$ACTIONS_PORT/#" endpoints.yml > "$endpoints"
fi

for port in "$RASA_PORT" "$ACTIONS_PORT" "$HANDOFF_PORT" "$HANDOFF_CHAT_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "error: port $port is already in use (another make run?). Stop that process or set RASA_PORT, ACTIONS_PORT, HANDOFF_PORT or HANDOFF_CHAT_PORT." >&2
    exit 1
  fi
done

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo; echo "stopping..."
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "stopped."
}
trap stop_all INT TERM EXIT

# the action server answers only requests carrying ACTION_SERVER_SECRET (Rasa sends it, endpoints.yml)
ACTION_SERVER_SECRET=$ACTION_SERVER_SECRET SANIC_HOST=127.0.0.1 \
  .venv/bin/python -m actions.serve --actions actions -p "$ACTIONS_PORT" >var/log/actions.log 2>&1 &
pids+=($!)
# `rasa run` with the HTTP API; bot.serve reads the operator's token from RASA_TOKEN and handoff_service's
# bridge token from RASA_HANDOFF_TOKEN (environment, so `ps` never shows them); the channels' secrets too
RASA_TOKEN=$RASA_TOKEN RASA_HANDOFF_TOKEN=$RASA_HANDOFF_TOKEN ACTION_SERVER_SECRET=$ACTION_SERVER_SECRET \
CHAT_SESSION_SECRET=$CHAT_SESSION_SECRET CHANNEL_GATEWAY_SECRET=$CHANNEL_GATEWAY_SECRET \
CHAT_CUSTOMER_JWT_SECRET=$CHAT_CUSTOMER_JWT_SECRET \
  .venv/bin/python -m bot.serve --model "$model" --interface 127.0.0.1 --port "$RASA_PORT" \
  --endpoints "$endpoints" --credentials credentials.yml \
  --cors "http://127.0.0.1:$HANDOFF_CHAT_PORT" "http://localhost:$HANDOFF_CHAT_PORT" >var/log/rasa.log 2>&1 &
pids+=($!)
.venv-handoff/bin/python -m handoff_service migrate >var/log/handoff.log 2>&1
# the bot's service token (rights of the bot only), for the actions; created once
[ -f var/bot.token ] || .venv-handoff/bin/python -m handoff_service create-token --bot --out var/bot.token >>var/log/handoff.log 2>&1
# staff accounts for local use, created once each; a password is shown once and kept in
# var/<name>.credentials (git-ignored). make_account NAME ROLE DISPLAY_NAME [create-user options]
# sets account_note to the line printed below; returns 1 when it made no account (under set -e: || true).
make_account() {
  local name=$1 role=$2 display=$3 file=var/$2.credentials pw
  shift 3
  account_note="$role login: see $file"
  [ -f "$file" ] && return 1
  pw=$(.venv-handoff/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))')
  if echo "$pw" | .venv-handoff/bin/python -m handoff_service create-user "$name" --role "$role" \
       --display-name "$display" --password-stdin "$@" >>var/log/handoff.log 2>&1; then
    (umask 077; printf '%s %s\n' "$name" "$pw" > "$file")
    account_note="$role login: $name / $pw  (kept in $file)"
  else
    account_note="$name exists already but $file is gone: create another account (see below)"
    return 1
  fi
}
make_account agent1 agent "Agent One" --team l1 || true; agent_note=$account_note
# the supervisor sees the live board, the dashboard, the staffing forecast and the audit log
make_account supervisor1 supervisor "Supervisor One" || true; supervisor_note=$account_note
# the trainer's token (var/trainer.token) is what `make review-apply` and `make evaluate` use
# to read the review list and publish reports
if make_account trainer1 trainer "Trainer One"; then
  (umask 077; .venv-handoff/bin/python -m handoff_service create-token --user trainer1 --out var/trainer.token \
     >>var/log/handoff.log 2>&1) || echo "warning: no trainer token (var/trainer.token); see var/log/handoff.log" >&2
fi
trainer_note=$account_note
# handoff_service reaches Rasa's bridge routes only (bot/bridge.py), with the bridge token
HANDOFF_RASA_TOKEN=$RASA_HANDOFF_TOKEN .venv-handoff/bin/python -m handoff_service serve >>var/log/handoff.log 2>&1 &
pids+=($!)

echo "starting (logs in var/log/)..."
for _ in $(seq 1 180); do
  if curl -fs "http://127.0.0.1:$RASA_PORT/" >/dev/null && curl -fs "http://127.0.0.1:$ACTIONS_PORT/health" >/dev/null \
     && curl -fs "http://127.0.0.1:$HANDOFF_PORT/api/openapi.json" >/dev/null && curl -fs "http://127.0.0.1:$HANDOFF_CHAT_PORT/chat" >/dev/null; then
    ready=1; break
  fi
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { echo "a server stopped; see var/log/" >&2; tail -20 var/log/*.log >&2; exit 1; }; done
  sleep 1
done
[ "${ready:-}" = 1 ] || { echo "servers did not start in time; see var/log/" >&2; exit 1; }

cat <<MSG

Ready.
  Rasa server     http://127.0.0.1:$RASA_PORT   (REST channel: POST /webhooks/rest/webhook)
  Action server   http://127.0.0.1:$ACTIONS_PORT
  handoff_service http://127.0.0.1:$HANDOFF_PORT   (API: /api/openapi.json; see handoff_service/README.md)
  Customer chat   http://127.0.0.1:$HANDOFF_CHAT_PORT/chat
  Agent console   http://127.0.0.1:$HANDOFF_PORT/console   ($agent_note)
  Supervisor      http://127.0.0.1:$HANDOFF_PORT/console   ($supervisor_note)
  Review page     http://127.0.0.1:$HANDOFF_PORT/console   ($trainer_note; README: For trainers)
  Rasa HTTP API token (the operator's; no other process holds it): in var/secrets.env (RASA_TOKEN)

Try it as the messaging gateway (REST takes bodies signed with CHANNEL_GATEWAY_SECRET only):
  set -a; . var/secrets.env; set +a; body='{"sender": "demo", "message": "你好"}'
  curl -s http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook -d "\$body" \\
    -H "X-Signature: sha256=\$(printf %s "\$body" | openssl dgst -sha256 -hmac "\$CHANNEL_GATEWAY_SECRET" -r | cut -d' ' -f1)"

Create another staff account (agent, supervisor or trainer):
  echo "a-password-of-10+" | .venv-handoff/bin/python -m handoff_service create-user alice --role agent --password-stdin
  (walkthrough with curl: handoff_service/README.md)

Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "a server stopped unexpectedly; see var/log/" >&2
