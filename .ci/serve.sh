#!/usr/bin/env bash
# `make run`: starts the action server, the Rasa server and handoff_service on
# localhost; prints the URLs; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
model=$(.ci/train.sh)
.ci/secrets.sh
set -a; . var/secrets.env; set +a
RASA_PORT=${RASA_PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
export HANDOFF_PORT=${HANDOFF_PORT:-8080}
export HANDOFF_RASA_URL="http://127.0.0.1:$RASA_PORT" HANDOFF_RASA_TOKEN="$RASA_TOKEN"
mkdir -p var/log

for port in "$RASA_PORT" "$ACTIONS_PORT" "$HANDOFF_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "error: port $port is already in use (another make run?). Stop that process or set RASA_PORT/ACTIONS_PORT." >&2
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

SANIC_HOST=127.0.0.1 .venv/bin/python -m rasa_sdk --actions actions -p "$ACTIONS_PORT" >var/log/actions.log 2>&1 &
pids+=($!)
.venv/bin/rasa run --model "$model" --interface 127.0.0.1 --port "$RASA_PORT" \
  --endpoints endpoints.yml --credentials credentials.yml \
  --enable-api --auth-token "$RASA_TOKEN" >var/log/rasa.log 2>&1 &
pids+=($!)
.venv-handoff/bin/python -m handoff_service migrate >var/log/handoff.log 2>&1
# the bot's service token (rights of the bot only), for the actions; created once
[ -f var/bot.token ] || .venv-handoff/bin/python -m handoff_service create-token --bot --out var/bot.token >>var/log/handoff.log 2>&1
.venv-handoff/bin/python -m handoff_service serve >>var/log/handoff.log 2>&1 &
pids+=($!)

echo "starting (logs in var/log/)..."
for _ in $(seq 1 180); do
  if curl -fs "http://127.0.0.1:$RASA_PORT/" >/dev/null && curl -fs "http://127.0.0.1:$ACTIONS_PORT/health" >/dev/null \
     && curl -fs "http://127.0.0.1:$HANDOFF_PORT/api/openapi.json" >/dev/null; then
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
  Rasa HTTP API token: in var/secrets.env (RASA_TOKEN)

Try it:
  curl -s -XPOST http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook -d '{"sender": "demo", "message": "你好"}'

Create a staff account for the handoff API:
  echo "a-password-of-10+" | .venv-handoff/bin/python -m handoff_service create-user alice --role agent --password-stdin
  (walkthrough with curl: handoff_service/README.md)

Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "a server stopped unexpectedly; see var/log/" >&2
