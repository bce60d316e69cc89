#!/usr/bin/env bash
# `make run`: starts the action server and the Rasa server on localhost
# (and handoff_service once it is there); prints the URLs; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
model=$(.ci/train.sh)
.ci/secrets.sh
set -a; . var/secrets.env; set +a
RASA_PORT=${RASA_PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
mkdir -p var/log

for port in "$RASA_PORT" "$ACTIONS_PORT"; do
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

echo "starting (logs in var/log/)..."
for _ in $(seq 1 180); do
  if curl -fs "http://127.0.0.1:$RASA_PORT/" >/dev/null && curl -fs "http://127.0.0.1:$ACTIONS_PORT/health" >/dev/null; then
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
  Rasa HTTP API token: in var/secrets.env (RASA_TOKEN)

Try it:
  curl -s -XPOST http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook -d '{"sender": "demo", "message": "你好"}'

Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "a server stopped unexpectedly; see var/log/" >&2
