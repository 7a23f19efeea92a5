"""Real servers for tests: the action server as a process and the trained agent."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from rasa.core.agent import Agent, load_agent
from rasa.core.utils import AvailableEndpoints
from rasa.utils.endpoints import EndpointConfig

from tests.emulators import free_port

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "easyflow.tar.gz"
# The action server refuses callers without its token (actions/access.py): the
# servers started here use this one unless a test passes its own, and the agents
# built here send it the way endpoints.yml makes Rasa send it.
ACTION_TOKEN = secrets.token_urlsafe(24)
# Passage vectors are named by a digest of the model and the passages, so every
# action server started by the tests can share them: only the first embeds.
KNOWLEDGE_CACHE = ROOT / "var" / "test-knowledge-cache"


def wait_until_up(url: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


@contextmanager
def action_server(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``python -m actions.server`` on a free port (or ``EASYFLOW_ACTIONS_PORT`` in
    ``env``, when the caller needs the port first) with ``ACTION_TOKEN`` (or
    ``EASYFLOW_ACTION_TOKEN`` in ``env``); yields its webhook URL."""
    port = int((env or {}).get("EASYFLOW_ACTIONS_PORT") or free_port())
    full_env = {
        **os.environ,
        "EASYFLOW_DATA_DIR": str(data_dir),
        "EASYFLOW_ACTIONS_PORT": str(port),
        "EASYFLOW_ACTIONS_HOST": "127.0.0.1",
        "EASYFLOW_ACTION_TOKEN": ACTION_TOKEN,
        "EASYFLOW_KNOWLEDGE_CACHE_DIR": str(KNOWLEDGE_CACHE),
        **(env or {}),
    }
    # Ready: passages embedded, so no turn waits behind the embedding.
    with _serving(
        [sys.executable, "-m", "actions.server"],
        ROOT,
        full_env,
        data_dir / "actions.log",
        f"http://127.0.0.1:{port}/ready",
        240,
    ):
        yield f"http://127.0.0.1:{port}/webhook"


@contextmanager
def _serving(
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    log_path: Path,
    ready_url: str,
    ready_s: float,
) -> Iterator[None]:
    """``command`` as a process logging to ``log_path``, until ``ready_url``
    answers; stopped with SIGTERM (then killed) on the way out."""
    log = log_path.open("w")
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_until_up(ready_url, process, ready_s)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


API_PYTHON = ROOT / "api" / ".venv" / "bin" / "python"
API_ADMIN_PASSWORD = "admin-e2e-password"


@contextmanager
def api_server(data_dir: Path, extra: dict[str, str] | None = None) -> Iterator[str]:
    """The admin API (``python -m easyflow_api serve``, its own Python 3.12
    environment, ``make install-api``) on SQLite in ``data_dir`` with no event
    ingestion; admin / ``API_ADMIN_PASSWORD``; ``extra`` environment on top.
    Yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "EASYFLOW_ENV": "development",
        "EASYFLOW_DATA_DIR": str(data_dir),
        "EASYFLOW_API_DATABASE_URL": f"sqlite:///{data_dir / 'api.db'}",
        "EASYFLOW_API_INGEST": "none",
        "EASYFLOW_ADMIN_PASSWORD": API_ADMIN_PASSWORD,
        "EASYFLOW_API_DASHBOARD_DIR": str(data_dir / "no-dashboard"),
        **(extra or {}),
    }
    with _serving(
        [str(API_PYTHON), "-m", "easyflow_api", "serve", "--port", str(port)],
        ROOT / "api",
        env,
        data_dir / "api.log",
        f"http://127.0.0.1:{port}/health",
        60,
    ):
        yield f"http://127.0.0.1:{port}"


def action_endpoint(url: str, token: str = ACTION_TOKEN) -> EndpointConfig:
    """Rasa's action endpoint at ``url``, sending ``token`` as a bearer header,
    with ``endpoints.yml``'s other settings (the domain only to the actions that
    read it: ``enable_selective_domain``)."""
    settings = yaml.safe_load((ROOT / "endpoints.yml").read_text("utf-8"))
    extra = {
        key: value
        for key, value in settings["action_endpoint"].items()
        if key not in ("url", "headers")
    }
    return EndpointConfig(url, headers={"Authorization": f"Bearer {token}"}, **extra)


def embedded_rasa_api(var_dir: Path, api_port: int) -> tuple[list[str], dict[str, str]]:
    """What ``deploy/local/run.sh`` gives Rasa on the embedded defaults, built by
    the script's own ``deploy/local/tokens.sh`` with no token configured: the API
    flags (``--enable-api --cors …``, for ``python -m bot.rasa_run run``) and the
    environment every process gets (both tokens, generated into ``var_dir``)."""
    script = (
        '. deploy/local/tokens.sh && printf "%s\\0" "${RASA_API_ARGS[@]}" && '
        'printf "%s\\0%s\\0" "$EASYFLOW_RASA_TOKEN" "$EASYFLOW_ACTION_TOKEN"'
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"EASYFLOW_RASA_TOKEN", "EASYFLOW_ACTION_TOKEN", "EASYFLOW_RASA_CORS"}
    }
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env={**env, "VAR_DIR": str(var_dir), "API_PORT": str(api_port)},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    *args, rasa_token, action_token = result.stdout.split("\0")[:-1]
    return args, {
        "EASYFLOW_RASA_TOKEN": rasa_token,
        "EASYFLOW_ACTION_TOKEN": action_token,
    }


def agent_for(action_url: str, action_timeout_s: float = 5) -> Agent:
    """The trained model, its custom actions served at ``action_url``."""
    assert MODEL.exists(), "train the model first: make train"
    endpoints = AvailableEndpoints(
        action=action_endpoint(action_url),
        nlg=EndpointConfig(
            type="bot.dialogue.nlg.LanguageAwareNLG", action_timeout_s=action_timeout_s
        ),
    )
    return asyncio.run(load_agent(model_path=str(MODEL), endpoints=endpoints))


async def say(agent: Agent, sender: str, text: str) -> str:
    """The bot's reply texts to one message, joined by newlines."""
    replies = await agent.handle_text(text, sender_id=sender)
    return "\n".join(r.get("text") or "" for r in replies or [])
