"""Connector tests: platform emulators on loopback and the real Rasa agent.

``emulator`` is a recording HTTP server that answers like the platform's send API
(platform-protocols.md); tests can script failures (429, 5xx). ``agent`` is the
trained model with the real action server, loaded once per test session; each test
registers its connector on a fresh Sanic app, as ``rasa run`` does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from rasa.core.agent import Agent, load_agent
from rasa.core.channels.channel import InputChannel, register
from rasa.core.utils import AvailableEndpoints
from rasa.utils.endpoints import EndpointConfig
from sanic import Sanic

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "easyflow.tar.gz"
_app_names = itertools.count()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    form: dict[str, str]
    query: dict[str, str]


@dataclass
class Emulator:
    """Records every request; answers with ``reply(call)`` or a scripted response."""

    reply: Callable[[Call], Any]
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    scripted: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)

    def fail_next(
        self, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        self.scripted.append((status, body, headers or {}))

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        payload: Any = None
        form: dict[str, str] = {}
        if raw and "json" in (request.content_type or ""):
            payload = json.loads(raw)
        elif raw:
            form = dict((await request.post()).items())  # type: ignore[arg-type]
        call = Call(
            request.method,
            request.path,
            dict(request.headers),
            payload,
            form,
            dict(request.query),
        )
        self.calls.append(call)
        if self.scripted:
            status, body, headers = self.scripted.pop(0)
            return web.json_response(body, status=status, headers=headers)
        return web.json_response(self.reply(call))

    def paths(self) -> list[str]:
        return [call.path for call in self.calls]


@pytest.fixture
async def emulator_factory() -> AsyncIterator[Callable[[Callable[[Call], Any]], Any]]:
    runners: list[web.AppRunner] = []

    async def start(reply: Callable[[Call], Any]) -> Emulator:
        emulator = Emulator(reply)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", emulator._handle)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        emulator.url = f"http://127.0.0.1:{port}"
        return emulator

    yield start
    for runner in runners:
        await runner.cleanup()


def _wait(url: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"action server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


@pytest.fixture(scope="session")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("connector-actions")
    port = free_port()
    env = {
        **os.environ,
        "EASYFLOW_DATA_DIR": str(data),
        "EASYFLOW_ACTIONS_PORT": str(port),
        "EASYFLOW_ACTIONS_HOST": "127.0.0.1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "actions.server"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/health", process, 60)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


@pytest.fixture(scope="session")
def agent(action_server: str) -> Agent:
    assert MODEL.exists(), "train the model first: make train"
    endpoints = AvailableEndpoints(
        action=EndpointConfig(action_server),
        nlg=EndpointConfig(type="bot.nlg.LanguageAwareNLG", action_timeout_s=5),
    )
    return asyncio.run(load_agent(model_path=str(MODEL), endpoints=endpoints))


def rasa_app(channel: InputChannel, agent: Agent) -> Sanic:
    """A Sanic app with the connector registered under /webhooks/, as `rasa run`."""
    app = Sanic(f"easyflow_connector_test_{next(_app_names)}")
    app.ctx.agent = agent
    register([channel], app, route="/webhooks/")
    return app
