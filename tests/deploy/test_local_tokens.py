"""deploy/local/tokens.sh: the embedded default's secrets and Rasa API flags.

``make run`` must work with no configuration and still open no internal door:
the tokens are generated on first run (mode 600), kept across runs, replaced by
configured ones, and CORS allows the dashboard's origin only, never ``*``.
The flags' effect on a real Rasa is checked in tests/e2e/test_rest_webhook.py.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from tests.deploy.tools import ROOT

SCRIPT = (
    '. deploy/local/tokens.sh && printf "%s\\n" "${RASA_API_ARGS[@]}" && '
    'echo "rasa=$EASYFLOW_RASA_TOKEN" && echo "action=$EASYFLOW_ACTION_TOKEN"'
)


def _run(var_dir: Path, **env: str) -> subprocess.CompletedProcess:
    configured = {"EASYFLOW_RASA_TOKEN", "EASYFLOW_ACTION_TOKEN", "EASYFLOW_RASA_CORS"}
    base = {k: v for k, v in os.environ.items() if k not in configured}
    return subprocess.run(
        ["bash", "-c", SCRIPT],
        cwd=ROOT,
        env={**base, "VAR_DIR": str(var_dir), "API_PORT": "8000", **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _parse(result: subprocess.CompletedProcess) -> tuple[list[str], dict[str, str]]:
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    tokens = dict(line.split("=", 1) for line in lines[-2:])
    return lines[:-2], tokens


def test_first_run_generates_private_tokens_and_keeps_them(tmp_path: Path) -> None:
    args, tokens = _parse(_run(tmp_path))
    for name in ("rasa", "action"):
        path = tmp_path / f"{name}_token"
        assert path.read_text().strip() == tokens[name]
        assert len(tokens[name]) >= 40
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tokens["rasa"] != tokens["action"]
    assert args == [
        "--enable-api",
        "--cors",
        "http://localhost:8000",
        "http://127.0.0.1:8000",
    ]
    assert tokens["rasa"] not in args  # bot.rasa_run reads it from the environment
    assert _parse(_run(tmp_path))[1] == tokens


def test_a_token_file_others_could_read_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "rasa_token"
    path.write_text("kept-token\n")
    path.chmod(0o644)
    _, tokens = _parse(_run(tmp_path))
    assert tokens["rasa"] == "kept-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_configured_tokens_and_origins_win(tmp_path: Path) -> None:
    args, tokens = _parse(
        _run(
            tmp_path,
            EASYFLOW_RASA_TOKEN="set-rasa",
            EASYFLOW_ACTION_TOKEN="set-action",
            EASYFLOW_RASA_CORS="https://shop.example,https://admin.example",
        )
    )
    assert tokens == {"rasa": "set-rasa", "action": "set-action"}
    assert args == [
        "--enable-api",
        "--cors",
        "https://shop.example",
        "https://admin.example",
    ]
    assert not (tmp_path / "rasa_token").exists()


def test_wildcard_cors_is_refused(tmp_path: Path) -> None:
    result = _run(tmp_path, EASYFLOW_RASA_CORS="http://localhost:8000 *")
    assert result.returncode == 2
    assert "EASYFLOW_RASA_CORS" in result.stderr


def test_run_sh_starts_rasa_with_these_flags_only() -> None:
    """No second, open spelling of the API flags left in the script."""
    text = (ROOT / "deploy" / "local" / "run.sh").read_text()
    assert ". deploy/local/tokens.sh" in text
    assert '"${RASA_API_ARGS[@]}"' in text
    assert "--enable-api" not in text and '--cors "*"' not in text
    # The token never on a command line (ps shows it to every local user).
    assert "--auth-token" not in text and "python -m bot.rasa_run run" in text
    production = (ROOT / "deploy" / "production" / "run.sh").read_text()
    assert "--auth-token" not in production
    assert "python -m bot.rasa_run run" in production
