"""deploy/production/run.sh refuses unsafe settings before it starts anything."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.deploy.tools import ROOT

SCRIPT = ROOT / "deploy" / "production" / "run.sh"
REQUIRED = {
    "EASYFLOW_RASA_TOKEN": "0123456789abcdef0123456789abcdef",
    "EASYFLOW_ACTION_TOKEN": "fedcba9876543210fedcba9876543210",
    "EASYFLOW_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
    "EASYFLOW_REDIS_URL": "redis://127.0.0.1:1/0",
    "EASYFLOW_RABBITMQ_URL": "amqp://nobody@127.0.0.1:1/",
}


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EASYFLOW_")}
    return subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=ROOT,
        env={**clean, "EASYFLOW_RUN_DIR": str(tmp_path / "run"), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    "origins", ["*", "https://shop.example *", "https://shop.example,*"]
)
def test_a_wildcard_cors_origin_is_refused(tmp_path: Path, origins: str) -> None:
    result = _run(tmp_path, **REQUIRED, EASYFLOW_RASA_CORS=origins)
    assert result.returncode == 2, result.stderr
    assert "EASYFLOW_RASA_CORS" in result.stderr
    assert not (tmp_path / "run" / "pids").exists()  # nothing was started


def test_a_missing_secret_is_named(tmp_path: Path) -> None:
    settings = {k: v for k, v in REQUIRED.items() if k != "EASYFLOW_ACTION_TOKEN"}
    result = _run(tmp_path, **settings)
    assert result.returncode == 2
    assert "EASYFLOW_ACTION_TOKEN is required" in result.stderr
