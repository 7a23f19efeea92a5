#!/usr/bin/env bash
# Creates llm/.venv (Python 3.11) with the CPU build of torch, transformers and the
# local model server, from requirements.lock. Quick when nothing changed.
#
#   PYTHON311=/path/to/python3.11   the interpreter (default: pyenv's 3.11, else PATH)
#   EASYFLOW_TORCH_INDEX=https://download.pytorch.org/whl/cpu
#       where torch's CPU wheel comes from on a machine without it on disk
#       (plain PyPI would bring the CUDA build, several GB).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON311=${PYTHON311:-$(ls -d /root/.pyenv/versions/3.11*/bin/python3.11 2>/dev/null | tail -n 1 || true)}
PYTHON311=${PYTHON311:-$(command -v python3.11 || true)}
if [[ -z "$PYTHON311" ]]; then
    echo "llm/install.sh: Python 3.11 not found; set PYTHON311=/path/to/python3.11" >&2
    exit 1
fi

stamp=.venv/.installed
if [[ -f $stamp && $stamp -nt requirements.lock && $stamp -nt pyproject.toml ]]; then
    exit 0
fi

started=$SECONDS
[[ -x .venv/bin/python ]] || "$PYTHON311" -m venv .venv
index=()
if [[ -n "${EASYFLOW_TORCH_INDEX:-}" ]]; then
    index=(--extra-index-url "$EASYFLOW_TORCH_INDEX")
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
    "${index[@]}" -r requirements.lock
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
    --no-deps --no-build-isolation -e .
touch "$stamp"
echo "llm/install.sh: llm/.venv ready in $((SECONDS - started)) s"
