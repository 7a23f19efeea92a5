"""Web chat over socket.io: the real Rasa agent, a real socket.io client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio
from rasa.core.agent import Agent

from connectors.webchat import WebChatInput, WebChatOutput
from tests.connectors.conftest import free_port, rasa_app


@pytest.fixture
async def server(agent: Agent) -> AsyncIterator[tuple[str, WebChatInput]]:
    channel = WebChatInput(
        user_message_evt="user_uttered",
        bot_message_evt="bot_uttered",
        session_persistence=True,
    )
    app = rasa_app(channel, agent)
    port = free_port()
    served = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True
    )
    assert served is not None
    await served.startup()
    yield f"http://127.0.0.1:{port}", channel
    served.close()
    await served.wait_closed()


async def connect(url: str, session_id: str) -> tuple[socketio.AsyncClient, Any]:
    client = socketio.AsyncClient()
    received: asyncio.Queue[Any] = asyncio.Queue()
    confirmed = asyncio.Event()
    client.on("bot_uttered", received.put_nowait)
    client.on("session_confirm", lambda *_: confirmed.set())
    # websocket needs a newer aiohttp than Rasa 3.6 pins; long-polling reaches
    # the same socket.io handlers.
    await client.connect(url, transports=["polling"])
    await client.emit("session_request", {"session_id": session_id})
    await asyncio.wait_for(confirmed.wait(), 5)
    return client, received


async def test_a_reply_reaches_the_widget_in_the_shoppers_language(
    server: tuple[str, WebChatInput],
) -> None:
    url, _ = server
    client, received = await connect(url, "widget-session-1")
    try:
        await client.emit(
            "user_uttered",
            {"message": "где мой заказ A-10234", "session_id": "widget-session-1"},
        )
        reply = await asyncio.wait_for(received.get(), 30)
    finally:
        await client.disconnect()
    assert "A-10234" in reply["text"]
    assert "Заказ" in reply["text"]


async def test_pushed_custom_json_arrives_as_the_dict_itself(
    server: tuple[str, WebChatInput],
) -> None:
    url, channel = server
    client, received = await connect(url, "widget-session-2")
    try:
        output = channel.get_output_channel()
        assert isinstance(output, WebChatOutput)
        await output.send_custom_json(
            "widget-session-2", {"easyflow_handoff": "active", "operator": "Anna"}
        )
        pushed = await asyncio.wait_for(received.get(), 5)
    finally:
        await client.disconnect()
    assert pushed == {"easyflow_handoff": "active", "operator": "Anna"}


async def test_a_message_without_a_session_is_ignored(
    server: tuple[str, WebChatInput],
) -> None:
    url, _ = server
    client, received = await connect(url, "widget-session-3")
    try:
        await client.emit("user_uttered", {"message": "привет"})
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(received.get(), 2)
    finally:
        await client.disconnect()
