#!/usr/bin/env bash
# Production profile on one host: N Rasa replicas and M action servers behind
# nginx, sharing PostgreSQL (tracker store), Redis (locks, dedupe, cache) and
# RabbitMQ (events, through the outbox relay). Chosen by environment only:
#   EASYFLOW_PROFILE=production make run      (or: bash deploy/production/run.sh)
# Variables: deploy/production/README.md. Ctrl-C (or SIGTERM) stops everything.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${EASYFLOW_VENV_BIN:-.venv/bin}
if [ -f .env ]; then set -a; . ./.env; set +a; fi

export EASYFLOW_ENV=${EASYFLOW_ENV:-production}
# nginx on this host is the Rasa replicas' only client: shopper limits read the
# client address it appends to X-Forwarded-For (connectors/guard.py).
export EASYFLOW_TRUSTED_PROXIES=${EASYFLOW_TRUSTED_PROXIES:-127.0.0.1/32}
for name in EASYFLOW_RASA_TOKEN EASYFLOW_ACTION_TOKEN EASYFLOW_DATABASE_URL \
  EASYFLOW_REDIS_URL EASYFLOW_RABBITMQ_URL; do
  if [ -z "${!name:-}" ]; then
    echo "Easy Flow production: $name is required (deploy/production/README.md)" >&2
    exit 2
  fi
done
command -v nginx >/dev/null || {
  echo "Easy Flow production: nginx is required (apt-get install -y nginx)" >&2
  exit 2
}
# Browsers may call Rasa's HTTP API only from the origins listed in
# EASYFLOW_RASA_CORS (space or comma separated); none by default, never '*'.
CORS_ARGS=()
if [ -n "${EASYFLOW_RASA_CORS:-}" ]; then
  case " ${EASYFLOW_RASA_CORS//,/ } " in
    *" * "*) echo "Easy Flow production: EASYFLOW_RASA_CORS: '*' lets any web page call Rasa's API; list the origins" >&2
             exit 2 ;;
  esac
  read -r -a origins <<<"${EASYFLOW_RASA_CORS//,/ }"
  CORS_ARGS=(--cors "${origins[@]}")
fi

RASA_REPLICAS=${EASYFLOW_RASA_REPLICAS:-2}
ACTION_REPLICAS=${EASYFLOW_ACTION_REPLICAS:-2}
BIND=${EASYFLOW_BIND:-0.0.0.0}
LISTEN_PORT=${EASYFLOW_LISTEN_PORT:-5005}          # nginx → Rasa replicas
ACTIONS_LB_PORT=${EASYFLOW_ACTIONS_LB_PORT:-5055}  # nginx → action servers
RASA_BASE_PORT=${EASYFLOW_RASA_BASE_PORT:-5105}
ACTIONS_BASE_PORT=${EASYFLOW_ACTIONS_BASE_PORT:-5155}
RUN_DIR=${EASYFLOW_RUN_DIR:-var/production}
MODEL=${EASYFLOW_MODEL:-models/easyflow.tar.gz}
export EASYFLOW_RABBITMQ_QUEUE=${EASYFLOW_RABBITMQ_QUEUE:-rasa_events}
export EASYFLOW_LOCK_KEY_PREFIX=${EASYFLOW_LOCK_KEY_PREFIX:-easyflow}
export EASYFLOW_ACTIONS_URL=http://127.0.0.1:$ACTIONS_LB_PORT/webhook
export EASYFLOW_RASA_URL=${EASYFLOW_RASA_URL:-http://127.0.0.1:$LISTEN_PORT}
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1
export TF_CPP_MIN_LOG_LEVEL=2 PYTHONWARNINGS=ignore

mkdir -p "$RUN_DIR"/{log,pids,nginx/tmp}
chmod 0777 "$RUN_DIR/nginx/tmp"  # nginx workers run as nobody when started as root
RUN_DIR=$(cd "$RUN_DIR" && pwd)
# Metric samples (prometheus-client's multiprocess mode, common/metrics.py): one
# folder per server, emptied at start. A server's /metrics sums its own Sanic
# workers, and keeps the counts of one restarted after a crash, never another
# replica's (Prometheus scrapes each replica and sums them itself).
metrics_dir() {  # server name
  rm -rf "$RUN_DIR/metrics/$1"
  mkdir -p "$RUN_DIR/metrics/$1"
  echo "$RUN_DIR/metrics/$1"
}

# Configuration files of this run.
CREDENTIALS=$RUN_DIR/credentials.yml
$BIN/python deploy/production/credentials.py credentials.yml "$CREDENTIALS"
ENDPOINTS=$RUN_DIR/endpoints.yml
cp endpoints.production.yml "$ENDPOINTS"
MODEL_ARGS=(-m "$MODEL")
if [ -n "${EASYFLOW_MODEL_SERVER_URL:-}" ]; then
  export EASYFLOW_MODEL_SERVER_TOKEN=${EASYFLOW_MODEL_SERVER_TOKEN:-}
  cat >>"$ENDPOINTS" <<'YAML'

models:
  url: ${EASYFLOW_MODEL_SERVER_URL}
  token: ${EASYFLOW_MODEL_SERVER_TOKEN}
  wait_time_between_pulls: 60
YAML
  MODEL_ARGS=()
elif [ -n "${EASYFLOW_MODEL_STORAGE:-}" ]; then
  MODEL_ARGS=(-m "$MODEL" --remote-storage "$EASYFLOW_MODEL_STORAGE")
elif [ ! -f "$MODEL" ]; then
  echo "Easy Flow production: no model at $MODEL (make train, or set" \
    "EASYFLOW_MODEL_SERVER_URL / EASYFLOW_MODEL_STORAGE)" >&2
  exit 2
fi

servers() {  # base port, count → nginx "server" lines
  for i in $(seq 0 $(($2 - 1))); do
    echo "    server 127.0.0.1:$(($1 + i)) max_fails=1 fail_timeout=5s;"
  done
}
cat >"$RUN_DIR/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $RUN_DIR/nginx/nginx.pid;
error_log $RUN_DIR/log/nginx.error.log warn;
events { worker_connections 1024; }
http {
  # No query strings or referers in the log: Rasa's HTTP API token travels as
  # ?token= (the only form Rasa 3.6 accepts), so \$request would record it.
  log_format easyflow '\$remote_addr [\$time_local] "\$request_method \$uri \$server_protocol" '
                      '\$status \$body_bytes_sent \$request_time "\$http_user_agent"';
  access_log $RUN_DIR/log/nginx.access.log easyflow;
  client_body_temp_path $RUN_DIR/nginx/tmp/body;
  proxy_temp_path $RUN_DIR/nginx/tmp/proxy;
  fastcgi_temp_path $RUN_DIR/nginx/tmp/fastcgi;
  uwsgi_temp_path $RUN_DIR/nginx/tmp/uwsgi;
  scgi_temp_path $RUN_DIR/nginx/tmp/scgi;
  client_max_body_size 2m;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' ''; }

  # Round robin: any replica can serve any conversation (Redis locks serialise
  # a conversation's turns, PostgreSQL holds its history). A request that cannot
  # reach a replica (connection refused) goes to the next one; a POST that reached
  # a replica is never sent twice. No upstream keep-alive: a POST written to a
  # pooled connection of a replica that just died counts as sent and would not
  # be retried; a fresh loopback/LAN connection per turn costs far less than the
  # turn itself.
  upstream rasa {
$(servers "$RASA_BASE_PORT" "$RASA_REPLICAS")
  }
  # socket.io (web widget) keeps per-client state in one replica: sticky by IP.
  upstream rasa_sticky {
    ip_hash;
$(servers "$RASA_BASE_PORT" "$RASA_REPLICAS")
  }
  upstream actions {
$(servers "$ACTIONS_BASE_PORT" "$ACTION_REPLICAS")
  }

  server {
    listen $BIND:$LISTEN_PORT;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$host;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_next_upstream error timeout;
    proxy_connect_timeout 2s;
    proxy_read_timeout 60s;
    add_header X-Easyflow-Upstream \$upstream_addr always;
    location / { proxy_pass http://rasa; }
    location /socket.io/ {
      proxy_pass http://rasa_sticky;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
    }
    location = /metrics { return 404; }  # scrape each replica, not the balancer
  }
  server {
    listen $BIND:$ACTIONS_LB_PORT;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$host;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_next_upstream error timeout;
    proxy_connect_timeout 2s;
    proxy_read_timeout 30s;
    add_header X-Easyflow-Upstream \$upstream_addr always;
    location / { proxy_pass http://actions; }
    location = /metrics { return 404; }
  }
}
NGINX

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "$RUN_DIR"/pids/*.pid
  echo "Easy Flow (production) stopped."
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

declare -A commands=()
start() {  # name, command...
  local name=$1; shift
  commands[$name]=$(printf '%q ' "$@")
  "$@" >>"$RUN_DIR/log/$name.log" 2>&1 &
  pids+=($!)
  echo $! >"$RUN_DIR/pids/$name.pid"
}

wait_for() {  # url, name
  local pid; pid=$(cat "$RUN_DIR/pids/$2.pid")
  for _ in $(seq 1 600); do
    # The URL through curl's config on stdin: a token in it stays out of ps.
    if curl -fsS -o /dev/null -K - <<<"url = \"$1\"" 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$2 failed to start; see $RUN_DIR/log/$2.log:" >&2
      tail -n 20 "$RUN_DIR/log/$2.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "$2 did not answer within 300 s" >&2
  exit 1
}

for i in $(seq 1 "$ACTION_REPLICAS"); do
  start "actions-$i" env PROMETHEUS_MULTIPROC_DIR="$(metrics_dir "actions-$i")" \
    EASYFLOW_ACTIONS_HOST=127.0.0.1 \
    EASYFLOW_ACTIONS_PORT=$((ACTIONS_BASE_PORT + i - 1)) $BIN/python -m actions.server
done
for i in $(seq 1 "$RASA_REPLICAS"); do
  start "rasa-$i" env PROMETHEUS_MULTIPROC_DIR="$(metrics_dir "rasa-$i")" \
    $BIN/python -m bot.rasa_run run "${MODEL_ARGS[@]}" --enable-api \
    --interface 127.0.0.1 \
    --port $((RASA_BASE_PORT + i - 1)) --endpoints "$ENDPOINTS" \
    --credentials "$CREDENTIALS" "${CORS_ARGS[@]}"
done
start outbox $BIN/python -m outbox
start nginx nginx -c "$RUN_DIR/nginx.conf" -p "$RUN_DIR/nginx" \
  -e "$RUN_DIR/log/nginx.error.log"

# Ready: the knowledge passages embedded (20-40 s of CPU on a first start), so
# no shopper's turn waits behind the embedding and misses the action deadline.
for i in $(seq 1 "$ACTION_REPLICAS"); do
  wait_for "http://127.0.0.1:$((ACTIONS_BASE_PORT + i - 1))/ready" "actions-$i"
done
for i in $(seq 1 "$RASA_REPLICAS"); do
  wait_for "http://127.0.0.1:$((RASA_BASE_PORT + i - 1))/status?token=$EASYFLOW_RASA_TOKEN" "rasa-$i"
done
wait_for "http://127.0.0.1:$LISTEN_PORT/" nginx
echo ready >"$RUN_DIR/ready"

cat <<MSG

  Easy Flow (production profile) is running.
    Chat (REST), through nginx:  curl -s localhost:$LISTEN_PORT/webhooks/rest/webhook \\
                                   -d '{"sender":"me","message":"где мой заказ A-10234"}'
    Rasa replicas:   127.0.0.1:$RASA_BASE_PORT.. ($RASA_REPLICAS), /metrics on each
    Action servers:  127.0.0.1:$ACTIONS_BASE_PORT.. ($ACTION_REPLICAS) behind :$ACTIONS_LB_PORT
    Events:          RabbitMQ queue $EASYFLOW_RABBITMQ_QUEUE (outbox relay)
    Logs:            $RUN_DIR/log/

MSG
# Supervise: a process that exits is started again (EASYFLOW_RESTART=0: left down).
while true; do
  sleep 2
  for file in "$RUN_DIR"/pids/*.pid; do
    [ -f "$file" ] || continue
    name=$(basename "$file" .pid)
    pid=$(cat "$file")
    kill -0 "$pid" 2>/dev/null && continue
    if [ "${EASYFLOW_RESTART:-1}" = 0 ]; then
      echo "Easy Flow (production): $name exited; not restarting (EASYFLOW_RESTART=0)." >&2
      rm -f "$file"
      continue
    fi
    echo "Easy Flow (production): $name exited; starting it again." >&2
    eval "start $name ${commands[$name]}"
  done
done
