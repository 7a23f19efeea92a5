"""The kept-alive action-server client against a real local HTTP server: one
connection for many calls, Rasa's errors unchanged, a restarted server reached."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot.dialogue import action_client
from bot.dialogue.action_client import PooledEndpoint, pooled


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """An action-server stand-in that counts the connections it accepts."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections: set[int] = set()
        self.tokens: list[str | None] = []
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        async def webhook(request: web.Request) -> web.Response:
            assert request.transport is not None
            self.connections.add(id(request.transport))
            self.tokens.append(request.query.get("token"))
            body = await request.json()
            if body.get("next_action") == "broken":
                return web.Response(status=500, text="boom")
            return web.json_response({"events": [], "responses": [], "echo": body})

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    running = Server(_free_port())
    await running.start()
    yield running
    await running.stop()


def _endpoint(server: Server) -> EndpointConfig:
    return EndpointConfig(f"http://127.0.0.1:{server.port}/webhook", token="secret")


async def _call(endpoint: EndpointConfig, action: str = "action_x") -> Any:
    return await endpoint.request(json={"next_action": action}, method="post")


async def test_many_calls_share_one_connection(server: Server) -> None:
    endpoint = pooled(_endpoint(server))
    assert isinstance(endpoint, PooledEndpoint)
    for _ in range(5):
        assert (await _call(endpoint))["echo"] == {"next_action": "action_x"}
    assert len(server.connections) == 1
    assert server.tokens == ["secret"] * 5  # the token still travels
    await endpoint.close()


async def test_rasas_own_client_opens_one_connection_per_call(server: Server) -> None:
    for _ in range(3):
        await _call(_endpoint(server))
    assert len(server.connections) == 3


async def test_errors_are_the_ones_rasa_handles(server: Server) -> None:
    endpoint = pooled(_endpoint(server))
    assert endpoint is not None
    with pytest.raises(ClientResponseError) as error:
        await _call(endpoint, "broken")
    assert error.value.status == 500
    await endpoint.close()
    gone = pooled(EndpointConfig(f"http://127.0.0.1:{_free_port()}/webhook"))
    assert gone is not None
    with pytest.raises(aiohttp.ClientConnectionError):
        await _call(gone)
    await gone.close()  # type: ignore[attr-defined]


async def test_one_pooled_twin_per_endpoint() -> None:
    endpoint = EndpointConfig("http://127.0.0.1:1/webhook")
    assert pooled(endpoint) is pooled(endpoint)
    assert pooled(EndpointConfig("http://127.0.0.1:1/webhook")) is not pooled(endpoint)
    assert pooled(None) is None


async def test_a_restarted_server_is_reached_on_a_fresh_connection(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(action_client, "KEEPALIVE_S", 0.2)
    endpoint = pooled(_endpoint(server))
    assert endpoint is not None
    await _call(endpoint)
    await server.stop()
    await asyncio.sleep(0.5)  # the restart takes longer than the keep-alive
    restarted = Server(server.port)
    await restarted.start()
    try:
        assert (await _call(endpoint))["events"] == []
        assert len(restarted.connections) == 1
    finally:
        await endpoint.close()  # type: ignore[attr-defined]
        await restarted.stop()
        await server.start()  # the fixture stops it again


async def test_the_body_arrives_as_the_same_json_value(server: Server) -> None:
    body = {
        "next_action": "action_order_status",
        "sender_id": "тест-1",
        "tracker": {
            "latest_message": {
                "text": "где мой заказ 🙂",
                "intent": {"confidence": 0.1},
            },
            "events": [
                {"event": "slot", "name": "order_id", "value": "A-10234"},
                {"event": "user", "timestamp": 1765000000.123456, "text": 'a\n"b"'},
                {"event": "slot", "name": "count", "value": 2**53 + 1},
                {"event": "slot", "name": "empty", "value": None},
            ],
        },
    }
    endpoint = pooled(_endpoint(server))
    assert endpoint is not None
    reply = await endpoint.request(json=body, method="post")
    assert reply["echo"] == body
    await endpoint.close()  # type: ignore[attr-defined]


def test_what_orjson_cannot_write_is_written_by_json() -> None:
    assert (
        action_client.dumps({1: "a", "b": [2**70]})
        == '{"1": "a", "b": [1180591620717411303424]}'
    )
    assert action_client.dumps({"a": "é"}) == '{"a":"é"}'
    with pytest.raises(TypeError):
        action_client.dumps({"a": object()})
