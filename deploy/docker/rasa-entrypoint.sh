#!/bin/sh
# Starts the Rasa server inside the container (deploy/docker/rasa.Dockerfile),
# the way deploy/production/run.sh starts each replica on a host: through
# `python -m bot.rasa_run`, which reads the API token from the environment, so it
# is never on a command line, and serves with one TensorFlow thread per pool.
#   EASYFLOW_RASA_TOKEN    required: token of Rasa's HTTP API
#   EASYFLOW_ACTION_TOKEN  required: sent to the action server as a bearer header
#                          (both endpoints files); the action container must have
#                          the same value
#   EASYFLOW_PROFILE       embedded (endpoints.yml, SQLite stores; the default) |
#                          production (endpoints.production.yml; also requires
#                          EASYFLOW_DATABASE_URL, EASYFLOW_REDIS_URL,
#                          EASYFLOW_ACTIONS_URL; embedded defaults it to
#                          http://localhost:5055/webhook)
#   EASYFLOW_ENDPOINTS, EASYFLOW_CREDENTIALS, EASYFLOW_MODEL, EASYFLOW_RASA_PORT,
#   EASYFLOW_RASA_CORS, EASYFLOW_APP_DIR (/app), EASYFLOW_RUN_DIR (var)  optional
#   PROMETHEUS_MULTIPROC_DIR  optional: where Sanic workers sharing the port keep
#                          their metric samples (common/metrics.py); emptied of
#                          an earlier run's samples here, created if missing
# Extra arguments are passed to `rasa run` (a token among them is refused).
set -eu

fail() {
    echo "easyflow-rasa: $1" >&2
    exit 2
}

cd "${EASYFLOW_APP_DIR:-/app}"
[ -n "${EASYFLOW_RASA_TOKEN:-}" ] ||
    fail "EASYFLOW_RASA_TOKEN is not set: the HTTP API is enabled only with a token"
[ -n "${EASYFLOW_ACTION_TOKEN:-}" ] ||
    fail "EASYFLOW_ACTION_TOKEN is not set: the action server answers only with it"

profile=${EASYFLOW_PROFILE:-embedded}
credentials=${EASYFLOW_CREDENTIALS:-credentials.yml}
model=${EASYFLOW_MODEL:-models/easyflow.tar.gz}
case "$profile" in
    production) endpoints=${EASYFLOW_ENDPOINTS:-endpoints.production.yml} ;;
    embedded)
        endpoints=${EASYFLOW_ENDPOINTS:-endpoints.yml}
        export EASYFLOW_ACTIONS_URL="${EASYFLOW_ACTIONS_URL:-http://localhost:5055/webhook}"
        ;;
    *) fail "EASYFLOW_PROFILE: '$profile' is not one of embedded, production" ;;
esac
for file in "$endpoints" "$credentials" "$model"; do
    [ -f "$file" ] || fail "$file not found"
done

if [ "$profile" = production ]; then
    for name in EASYFLOW_DATABASE_URL EASYFLOW_REDIS_URL EASYFLOW_ACTIONS_URL; do
        eval "value=\${$name:-}"
        [ -n "$value" ] || fail "$name is required by the production profile"
    done
    export EASYFLOW_LOCK_KEY_PREFIX="${EASYFLOW_LOCK_KEY_PREFIX:-easyflow}"
    # credentials.yml plus the strict REST channel and GET /metrics.
    run_dir=${EASYFLOW_RUN_DIR:-var}
    mkdir -p "$run_dir"
    python deploy/production/credentials.py "$credentials" "$run_dir/credentials.yml" ||
        fail "could not write $run_dir/credentials.yml"
    credentials=$run_dir/credentials.yml
fi

if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR" ||
        fail "PROMETHEUS_MULTIPROC_DIR: cannot create $PROMETHEUS_MULTIPROC_DIR"
    rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db
fi

set -- --enable-api \
    --interface 0.0.0.0 --port "${EASYFLOW_RASA_PORT:-5005}" \
    --model "$model" --endpoints "$endpoints" --credentials "$credentials" "$@"
if [ -n "${EASYFLOW_RASA_CORS:-}" ]; then
    set -- --cors "$EASYFLOW_RASA_CORS" "$@"
fi
echo "easyflow-rasa: starting, profile $profile, endpoints $endpoints" >&2
exec python -m bot.rasa_run run "$@"
