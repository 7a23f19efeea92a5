#!/usr/bin/env bash
# Runs the Rasa server, the action server and the admin API (dashboard, demo shop)
# together on embedded defaults.
#   bash deploy/local/run.sh         # REST + web chat + HTTP API on :5005, api on :8000
#   bash deploy/local/run.sh shell   # terminal chat
#   EASYFLOW_PROFILE=production ...  # PostgreSQL, Redis, RabbitMQ, replicas behind
#                                    # nginx: deploy/production/run.sh
# Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=.venv/bin
if [ -f .env ]; then set -a; . ./.env; set +a; fi
case "${EASYFLOW_PROFILE:-embedded}" in
  embedded) ;;
  production) exec bash deploy/production/run.sh "$@" ;;
  *) echo "EASYFLOW_PROFILE: '$EASYFLOW_PROFILE' is not one of embedded, production" >&2
     exit 2 ;;
esac
RASA_PORT=${EASYFLOW_RASA_PORT:-5005}
ACTIONS_PORT=${EASYFLOW_ACTIONS_PORT:-5055}
# One setting, every process: endpoints.yml sends Rasa to the action server here.
export EASYFLOW_ACTIONS_URL=${EASYFLOW_ACTIONS_URL:-http://127.0.0.1:$ACTIONS_PORT/webhook}
API_PORT=${EASYFLOW_API_PORT:-8000}
ROOT=$(pwd)
MODEL=${EASYFLOW_MODEL:-models/easyflow.tar.gz}
mkdir -p var/log
# Tokens of Rasa's HTTP API and of the action server (generated into var/ on first
# run unless set), exported to every process below; Rasa's API flags and CORS
# origins (the dashboard's only): deploy/local/tokens.sh.
VAR_DIR=$ROOT/var
. deploy/local/tokens.sh

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "Easy Flow stopped."
}
trap stop INT TERM EXIT

wait_for() {  # url, name, pid
  for _ in $(seq 1 480); do
    if curl -fsS "$1" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then
      echo "$2 failed to start; see var/log/$2.log:" >&2
      tail -n 20 "var/log/$2.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "$2 did not answer within 240 s" >&2
  exit 1
}

# EASYFLOW_API_URL: the Shop page's return window and hours (the api starts later;
# the action server reads it when a turn needs it).
EASYFLOW_ACTIONS_PORT=$ACTIONS_PORT EASYFLOW_API_URL=${EASYFLOW_API_URL:-http://127.0.0.1:$API_PORT} \
  $BIN/python -m actions.server >var/log/actions.log 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$ACTIONS_PORT/health" actions "${pids[-1]}"

if [ "${1:-}" = "shell" ]; then
  $BIN/rasa shell -m "$MODEL" --endpoints endpoints.yml
  exit 0
fi

# EASYFLOW_RASA_WORKERS=2 runs two Rasa workers on one port (both cores of a
# two-core machine); the SQLite lock store of endpoints.yml keeps each
# conversation's turns in order across them, and the workers load the model one
# after the other (bot/load_in_turn.py). Web chat pushes from another worker
# (operator replies) need EASYFLOW_REDIS_URL: see connectors/webchat.py.
# EASYFLOW_API_URL: a Telegram bot connected on the dashboard (credentials.yml
# from_dashboard: true) is read from the api while Rasa runs.
SANIC_WORKERS=${EASYFLOW_RASA_WORKERS:-1} \
EASYFLOW_API_URL=${EASYFLOW_API_URL:-http://127.0.0.1:$API_PORT} \
$BIN/python -m bot.rasa_run run -m "$MODEL" "${RASA_API_ARGS[@]}" --interface 127.0.0.1 \
  --port "$RASA_PORT" --endpoints endpoints.yml --credentials credentials.yml \
  >var/log/rasa.log 2>&1 &
pids+=($!)
# "/" needs no token; Rasa loads the model before it opens the port.
wait_for "http://127.0.0.1:$RASA_PORT/" rasa "${pids[-1]}"

# The admin API with the dashboard, the widget and the demo shop (api/), reading
# Rasa's events from var/events.db. Skipped when its environment is not installed.
api_line="    Dashboard:    not installed (make install-api; npm for the dashboard)"
if [ -x api/.venv/bin/python ]; then
  (cd api && \
    EASYFLOW_DATA_DIR="$ROOT/var" \
    EASYFLOW_API_DATABASE_URL="${EASYFLOW_API_DATABASE_URL:-sqlite:///$ROOT/var/api.db}" \
    EASYFLOW_EVENTS_DATABASE_URL="${EASYFLOW_EVENTS_DATABASE_URL:-sqlite:///$ROOT/var/events.db}" \
    EASYFLOW_API_DASHBOARD_DIR="$ROOT/dashboard/dist" \
    EASYFLOW_API_DOMAIN_PATH="$ROOT/domain.yml" \
    EASYFLOW_RASA_URL="http://127.0.0.1:$RASA_PORT" \
    EASYFLOW_ACTION_SERVER_URL="http://127.0.0.1:$ACTIONS_PORT" \
    exec .venv/bin/python -m easyflow_api serve --port "$API_PORT" \
  ) >var/log/api.log 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$API_PORT/health" api "${pids[-1]}"
  api_line="    Dashboard:    http://localhost:$API_PORT/  (dev login admin/admin)
    Demo shop:    http://localhost:$API_PORT/demo  (web chat widget)"
fi
# The action server embeds the knowledge passages once (cached in var/ after the
# first run), alongside Rasa's start; "running" is said when it is done.
wait_for "http://127.0.0.1:$ACTIONS_PORT/ready" actions "${pids[0]}"

cat <<MSG

  Easy Flow is running.
    Chat (REST):  curl -s localhost:$RASA_PORT/webhooks/rest/webhook \\
                    -d '{"sender":"me","message":"где мой заказ A-10234"}'
    HTTP API:     http://localhost:$RASA_PORT/status?token=<var/rasa_token, or
                    EASYFLOW_RASA_TOKEN>  (browsers: only from the dashboard)
    Pay pages:    http://localhost:$ACTIONS_PORT/pay/<id> (links come in the chat)
$api_line
    Logs:         var/log/rasa.log, var/log/actions.log, var/log/api.log

  Demo orders to try:
    A-10234          in transit           48213307-0051-1  delivered, returnable
    3728419056       paid, cancellable    A-10240          awaiting payment
    #45871           return window over   A-10235          cancelled, refund pending
    A-10236          at the pickup point  59120044-0007-1  returned, refunded

  Press Ctrl-C to stop.
MSG
wait "${pids[@]}"
