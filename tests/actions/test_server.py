"""Start-up of the action server refuses bad settings with a clear message."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_invalid_setting_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "EASYFLOW_DATA_DIR": str(tmp_path),
        "EASYFLOW_RETURN_WINDOW_DAYS": "two weeks",
    }
    result = subprocess.run(
        [sys.executable, "-m", "actions.server"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "EASYFLOW_RETURN_WINDOW_DAYS" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "demo_store.sqlite").exists()
