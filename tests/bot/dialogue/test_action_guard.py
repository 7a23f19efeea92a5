"""The guard against a real (local) action server that is down, slow or broken."""

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from rasa.core.channels import CollectingOutputChannel
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.dialogue.action_guard import GuardedRemoteAction
from bot.dialogue.nlg import LanguageAwareNLG

DOMAIN = Domain.load(Path(__file__).resolve().parents[3] / "domain.yml")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tracker(text: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "shopper",
        [ActionExecuted("action_listen"), UserUttered(text, {"name": "order_status"})],
    )


async def _run(url: str, text: str, timeout_s: float = 5.0) -> list:
    nlg = LanguageAwareNLG(domain=DOMAIN)
    action = GuardedRemoteAction("action_handle_order_request", EndpointConfig(url))
    GuardedRemoteAction.timeout_s = timeout_s
    return await action.run(CollectingOutputChannel(), nlg, _tracker(text), DOMAIN)


@pytest.fixture
async def slow_server() -> AsyncIterator[str]:
    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"events": [], "responses": []})

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    app = web.Application()
    app.router.add_post("/slow", handler)
    app.router.add_post("/broken", broken)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_unreachable_action_server_gets_an_apology() -> None:
    events = await _run(f"http://127.0.0.1:{_free_port()}/webhook", "где мой заказ")
    assert len(events) == 1 and isinstance(events[0], BotUttered)
    assert events[0].text.startswith("Извините, у меня временный сбой")
    assert events[0].metadata["utter_action"] == "utter_action_failed"


async def test_slow_action_server_times_out_with_apology(slow_server: str) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    events = await _run(f"{slow_server}/slow", "where is my order", timeout_s=0.5)
    assert loop.time() - started < 3
    assert events[0].text.startswith("Sorry, I'm having a temporary problem")


async def test_failing_action_server_gets_an_apology(slow_server: str) -> None:
    events = await _run(f"{slow_server}/broken", "where is my order")
    assert isinstance(events[0], BotUttered)
    assert events[0].metadata["utter_action"] == "utter_action_failed"
