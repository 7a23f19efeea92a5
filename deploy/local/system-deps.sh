#!/usr/bin/env bash
# The Debian packages `make test` needs besides the Python and npm environments:
#   nginx      the production profile's balancer and the gateway's access-log test
#   promtool   Prometheus alert rules (Debian package `prometheus`)
#   chromium   the dashboard, widget and demo-shop browser tests
# Installs the missing ones with apt-get when that is possible (root, or sudo
# without a password); otherwise stops at once with the exact command to run.
# Quick when everything is there. Used by `make test` (target system-deps).
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

missing=()
have nginx || missing+=(nginx-light)
have promtool || missing+=(prometheus)
have chromium || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

command="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: missing ${missing[*]} and no apt-get here; install them with your package manager" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "system-deps: missing ${missing[*]}; run: sudo sh -c '$command'" >&2
    exit 1
fi
echo "system-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
