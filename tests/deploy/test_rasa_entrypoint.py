"""The Rasa image's entrypoint: token required, profile picks the endpoints, and
production runs with the credentials deploy/production/credentials.py writes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.tools import DOCKER, ROOT

ENTRYPOINT = DOCKER / "rasa-entrypoint.sh"
PRODUCTION_ENV = {
    "EASYFLOW_RASA_TOKEN": "rasa-token-123",
    "EASYFLOW_PROFILE": "production",
    "EASYFLOW_ACTION_TOKEN": "action-token-456",
    "EASYFLOW_DATABASE_URL": "postgresql://easyflow:pw@postgres:5432/easyflow",
    "EASYFLOW_REDIS_URL": "redis://:pw@redis:6379/0",
    "EASYFLOW_ACTIONS_URL": "http://actions:5055/webhook",
}


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """An /app laid out as the image lays it out, with a `python` whose
    ``-m bot.rasa_run`` records the arguments the real launcher hands Rasa."""
    app = tmp_path / "app"
    (app / "models").mkdir(parents=True)
    (app / "models" / "easyflow.tar.gz").write_bytes(b"model")
    for name in ("endpoints.yml", "endpoints.production.yml", "credentials.yml"):
        shutil.copy(ROOT / name, app / name)
    (app / "deploy" / "production").mkdir(parents=True)
    shutil.copy(
        ROOT / "deploy" / "production" / "credentials.py",
        app / "deploy" / "production" / "credentials.py",
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # The real launcher (bot.rasa_run.main) with a recorder in place of Rasa's
    # main; any other `python` is the root venv's, which has PyYAML like the
    # image's.
    launcher = (
        "import os, sys, types\n"
        "def record():\n"
        "    out = os.environ['EASYFLOW_TEST_ARGS']\n"
        "    open(out, 'w').write(''.join(a + '\\n' for a in sys.argv[1:]))\n"
        "    open(out + '.env', 'w').write("
        "''.join(f'{k}={v}\\n' for k, v in os.environ.items()))\n"
        "sys.modules['rasa.__main__'] = types.SimpleNamespace(main=record)\n"
        "from bot.rasa_run import main\n"
        "main()\n"
    )
    (tmp_path / "launcher.py").write_text(launcher)
    python = bin_dir / "python"
    python.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-m" ] && [ "$2" = "bot.rasa_run" ]; then\n'
        "    shift 2\n"
        f'    PYTHONPATH="{ROOT}" exec "{sys.executable}" '
        f'"{tmp_path / "launcher.py"}" "$@"\n'
        "fi\n"
        f'exec "{sys.executable}" "$@"\n'
    )
    python.chmod(0o755)
    return app


def _run(app: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    full = {
        "PATH": f"{app.parent / 'bin'}:/usr/bin:/bin",
        "EASYFLOW_APP_DIR": str(app),
        "EASYFLOW_TEST_ARGS": str(app.parent / "args"),
        **env,
    }
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _rasa_args(app: Path) -> list[str]:
    return (app.parent / "args").read_text().splitlines()


def test_refuses_to_start_without_a_token(app: Path) -> None:
    result = _run(app, {"EASYFLOW_PROFILE": "production"})
    assert result.returncode == 2
    assert "EASYFLOW_RASA_TOKEN" in result.stderr
    assert not (app.parent / "args").exists()


def test_refuses_to_start_without_the_action_token(app: Path) -> None:
    """endpoints.yml sends it as a header in every profile: Rasa would stop on
    the unset variable anyway, this says which one before it loads a model."""
    result = _run(app, {"EASYFLOW_RASA_TOKEN": "t0k3n"})
    assert result.returncode == 2
    assert "EASYFLOW_ACTION_TOKEN" in result.stderr
    assert not (app.parent / "args").exists()


def test_embedded_profile_is_the_default(app: Path) -> None:
    embedded = {"EASYFLOW_RASA_TOKEN": "t0k3n", "EASYFLOW_ACTION_TOKEN": "a"}
    result = _run(app, embedded, "--debug")
    assert result.returncode == 0, result.stderr
    args = _rasa_args(app)
    assert args[0] == "run" and "--enable-api" in args
    # Appended by bot.rasa_run inside the process, never on the command line.
    assert args[args.index("--auth-token") + 1] == "t0k3n" and args[-2:] == [
        "--auth-token",
        "t0k3n",
    ]
    assert args[args.index("--endpoints") + 1] == "endpoints.yml"
    assert args[args.index("--credentials") + 1] == "credentials.yml"
    assert args[args.index("--interface") + 1] == "0.0.0.0"
    assert args[args.index("--port") + 1] == "5005"
    assert args[-3] == "--debug"
    env = (app.parent / "args.env").read_text().splitlines()
    assert "TF_INTRA_OP_PARALLELISM_THREADS=1" in env
    result = _run(app, {**embedded, "EASYFLOW_PROFILE": "embedded"})
    assert result.returncode == 0, result.stderr
    assert "endpoints.yml" in _rasa_args(app)


def test_a_token_on_the_command_line_is_refused(app: Path) -> None:
    embedded = {"EASYFLOW_RASA_TOKEN": "t0k3n", "EASYFLOW_ACTION_TOKEN": "a"}
    result = _run(app, embedded, "--auth-token", "visible")
    assert result.returncode == 2
    assert "not --auth-token" in result.stderr
    assert not (app.parent / "args").exists()
    assert "--auth-token" not in ENTRYPOINT.read_text()


def test_production_profile_runs_the_production_endpoints_and_credentials(
    app: Path,
) -> None:
    result = _run(app, PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    args = _rasa_args(app)
    assert "--enable-api" in args
    assert args[args.index("--auth-token") + 1] == "rasa-token-123"
    assert args[args.index("--endpoints") + 1] == "endpoints.production.yml"
    credentials = app / args[args.index("--credentials") + 1]
    assert credentials == app / "var" / "credentials.yml"
    channels = yaml.safe_load(credentials.read_text())
    assert "connectors.metrics.MetricsChannel" in channels
    assert "connectors.rest.StrictRestInput" in channels
    env = (app.parent / "args.env").read_text().splitlines()
    assert "EASYFLOW_LOCK_KEY_PREFIX=easyflow" in env


@pytest.mark.parametrize("missing", sorted(set(PRODUCTION_ENV) - {"EASYFLOW_PROFILE"}))
def test_production_profile_names_a_missing_variable(app: Path, missing: str) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _run(app, env)
    assert result.returncode == 2
    assert missing in result.stderr


def test_unknown_profile_and_missing_files_stop_start_up(app: Path) -> None:
    result = _run(app, {**PRODUCTION_ENV, "EASYFLOW_PROFILE": "staging"})
    assert result.returncode == 2
    assert "'staging' is not one of embedded, production" in result.stderr
    (app / "models" / "easyflow.tar.gz").unlink()
    result = _run(app, PRODUCTION_ENV)
    assert result.returncode == 2 and "models/easyflow.tar.gz" in result.stderr


def test_entrypoint_is_executable_posix_sh() -> None:
    assert os.access(ENTRYPOINT, os.X_OK)
    result = subprocess.run(
        ["sh", "-n", str(ENTRYPOINT)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_multiprocess_metrics_folder_starts_empty(app: Path, tmp_path: Path) -> None:
    """An earlier run's samples would be summed into the new server's page; the
    folder is created when missing, and only sample files are removed."""
    folder = tmp_path / "metrics"
    env = {**PRODUCTION_ENV, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    result = _run(app, env)
    assert result.returncode == 0, result.stderr
    assert folder.is_dir() and not list(folder.iterdir())
    (folder / "counter_123.db").write_bytes(b"old samples")
    (folder / "histogram_456.db").write_bytes(b"old samples")
    (folder / "notes.txt").write_text("not ours")
    result = _run(app, env)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert f"PROMETHEUS_MULTIPROC_DIR={folder}" in (
        (app.parent / "args.env").read_text().splitlines()
    )
    blocked = tmp_path / "file"
    blocked.write_text("")
    result = _run(app, {**env, "PROMETHEUS_MULTIPROC_DIR": str(blocked / "sub")})
    assert result.returncode == 2 and "PROMETHEUS_MULTIPROC_DIR" in result.stderr
