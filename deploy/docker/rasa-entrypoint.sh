#!/bin/sh
# Starts the Rasa server inside the container (deploy/docker/rasa.Dockerfile).
#   EASYFLOW_RASA_TOKEN    required: token of Rasa's HTTP API (--auth-token)
#   EASYFLOW_PROFILE       development (endpoints.yml) | production
#                          (endpoints.production.yml: PostgreSQL, Redis, RabbitMQ)
#   EASYFLOW_ENDPOINTS, EASYFLOW_CREDENTIALS, EASYFLOW_MODEL, EASYFLOW_RASA_PORT,
#   EASYFLOW_RASA_CORS     optional overrides
# Extra arguments are passed to `rasa run`.
set -eu

fail() {
    echo "easyflow-rasa: $1" >&2
    exit 2
}

[ -n "${EASYFLOW_RASA_TOKEN:-}" ] ||
    fail "EASYFLOW_RASA_TOKEN is not set: the HTTP API is enabled only with a token"

case "${EASYFLOW_PROFILE:-development}" in
    production) endpoints=endpoints.production.yml ;;
    development) endpoints=endpoints.yml ;;
    *) fail "EASYFLOW_PROFILE must be development or production, not '${EASYFLOW_PROFILE}'" ;;
esac
endpoints=${EASYFLOW_ENDPOINTS:-$endpoints}
credentials=${EASYFLOW_CREDENTIALS:-credentials.yml}
model=${EASYFLOW_MODEL:-models/easyflow.tar.gz}

for file in "$endpoints" "$credentials" "$model"; do
    [ -f "$file" ] || fail "$file not found"
done

set -- --enable-api --auth-token "$EASYFLOW_RASA_TOKEN" \
    --interface 0.0.0.0 --port "${EASYFLOW_RASA_PORT:-5005}" \
    --model "$model" --endpoints "$endpoints" --credentials "$credentials" "$@"
if [ -n "${EASYFLOW_RASA_CORS:-}" ]; then
    set -- --cors "$EASYFLOW_RASA_CORS" "$@"
fi
echo "easyflow-rasa: starting, profile ${EASYFLOW_PROFILE:-development}, endpoints $endpoints" >&2
exec rasa run "$@"
