"""Connector tests: platform emulators on loopback and the real Rasa agent.

``emulator`` is a recording HTTP server that answers like the platform's send API
(platform-protocols.md); tests can script failures (429, 5xx). ``agent`` is the
trained model with the real action server, loaded once per test session; each test
registers its connector on a fresh Sanic app, as ``rasa run`` does.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import InputChannel, register
from sanic import Sanic

from tests import servers
from tests.emulators import Call, Emulator, free_port

__all__ = ["Call", "Emulator", "free_port", "rasa_app"]

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "easyflow.tar.gz"
_app_names = itertools.count()


@pytest.fixture(scope="session")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with servers.action_server(tmp_path_factory.mktemp("connector-actions")) as url:
        yield url


@pytest.fixture(scope="session")
def agent(action_server: str) -> Agent:
    return servers.agent_for(action_server)


def rasa_app(channel: InputChannel, agent: Agent) -> Sanic:
    """A Sanic app with the connector registered under /webhooks/, as `rasa run`."""
    app = Sanic(f"easyflow_connector_test_{next(_app_names)}")
    app.ctx.agent = agent
    register([channel], app, route="/webhooks/")
    return app
