# Sourced by deploy/local/run.sh (and tests/e2e/test_closed_doors.py): the secrets
# of the embedded default and the flags of Rasa's HTTP API. No internal endpoint
# answers without a token, even on a laptop: any local process, or any web page
# the merchant opens, could otherwise read trackers, trigger intents, run actions
# or load a model (a pickle) into Rasa.
#
# Expects VAR_DIR (where the generated tokens live) and API_PORT (the dashboard).
#   EASYFLOW_RASA_TOKEN    Rasa HTTP API token (--auth-token); sent by the admin
#                          API and the action server. Unset: $VAR_DIR/rasa_token,
#                          random, mode 600, created on first run.
#   EASYFLOW_ACTION_TOKEN  token Rasa sends the action server (endpoints.yml
#                          header). Unset: $VAR_DIR/action_token, likewise.
#   EASYFLOW_RASA_CORS     origins a browser may call Rasa from, space or comma
#                          separated; default the dashboard's own,
#                          http://localhost:$API_PORT http://127.0.0.1:$API_PORT.
#                          "*" is refused.
# Exports both tokens (every process started afterwards inherits them) and sets
# the array RASA_API_ARGS.

local_token() {  # variable name, file → the variable's value, else the file's token
  local name=$1 file=$2 token
  if [ -n "${!name:-}" ]; then
    printf '%s' "${!name}"
    return 0
  fi
  if [ ! -s "$file" ]; then
    token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    (umask 077 && printf '%s\n' "$token" >"$file.$$" && mv "$file.$$" "$file")
  fi
  chmod 600 "$file"
  tr -d '\n' <"$file"
}

mkdir -p "$VAR_DIR"
EASYFLOW_RASA_TOKEN=$(local_token EASYFLOW_RASA_TOKEN "$VAR_DIR/rasa_token")
EASYFLOW_ACTION_TOKEN=$(local_token EASYFLOW_ACTION_TOKEN "$VAR_DIR/action_token")
export EASYFLOW_RASA_TOKEN EASYFLOW_ACTION_TOKEN

cors=${EASYFLOW_RASA_CORS:-"http://localhost:$API_PORT http://127.0.0.1:$API_PORT"}
read -r -a rasa_cors_origins <<<"${cors//,/ }"
for origin in "${rasa_cors_origins[@]}"; do
  if [ "$origin" = "*" ]; then
    echo "EASYFLOW_RASA_CORS: '*' lets any web page call Rasa's API; list the origins" >&2
    exit 2
  fi
done
# --enable-api only with the token: trigger_intent and tracker reads for the
# dashboard and the payment notifier; PUT /model and the rest need the token too.
# Rasa gets the token from EASYFLOW_RASA_TOKEN through `python -m bot.rasa_run`,
# never on its command line, which every local user can read (ps).
RASA_API_ARGS=(--enable-api)
if [ "${#rasa_cors_origins[@]}" -gt 0 ]; then
  RASA_API_ARGS+=(--cors "${rasa_cors_origins[@]}")
fi
