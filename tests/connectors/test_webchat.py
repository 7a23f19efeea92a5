"""Web chat over socket.io: the real Rasa agent, a real socket.io client."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import socketio
from rasa.core.agent import Agent

from connectors.webchat import WebChatInput, WebChatOutput
from tests.connectors.conftest import free_port, rasa_app

REDIS_URL = "redis://127.0.0.1:6379/0"
CREDENTIALS = {
    "user_message_evt": "user_uttered",
    "bot_message_evt": "bot_uttered",
    "session_persistence": True,
}

# Session ids as the widget makes them (128 random bits in hex).
SESSION_1, SESSION_2, SESSION_3 = (uuid.uuid4().hex for _ in range(3))


@asynccontextmanager
async def serving(
    agent: Agent, credentials: dict[str, Any]
) -> AsyncIterator[tuple[str, WebChatInput]]:
    """One Rasa server's web chat channel on a free loopback port."""
    channel = WebChatInput.from_credentials(credentials)
    app = rasa_app(channel, agent)
    port = free_port()
    served = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True
    )
    assert served is not None
    await served.startup()
    try:
        yield f"http://127.0.0.1:{port}", channel
    finally:
        served.close()
        await served.wait_closed()


@pytest.fixture
async def server(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[str, WebChatInput]]:
    monkeypatch.delenv("EASYFLOW_REDIS_URL", raising=False)
    async with serving(agent, CREDENTIALS) as running:
        yield running


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
    client, received = await connect(url, SESSION_1)
    try:
        await client.emit(
            "user_uttered",
            {"message": "где мой заказ A-10234", "session_id": SESSION_1},
        )
        reply = await asyncio.wait_for(received.get(), 30)
    finally:
        await client.disconnect()
    # Privacy on by default: details wait for the phone's last 4 digits; the
    # question is in Russian, like the shopper's message.
    assert "4 цифры" in reply["text"]


async def test_pushed_custom_json_arrives_as_the_dict_itself(
    server: tuple[str, WebChatInput],
) -> None:
    url, channel = server
    client, received = await connect(url, SESSION_2)
    try:
        output = channel.get_output_channel()
        assert isinstance(output, WebChatOutput)
        await output.send_custom_json(
            SESSION_2, {"easyflow_handoff": "active", "operator": "Anna"}
        )
        pushed = await asyncio.wait_for(received.get(), 5)
    finally:
        await client.disconnect()
    assert pushed == {"easyflow_handoff": "active", "operator": "Anna"}


async def test_a_message_without_a_session_is_ignored(
    server: tuple[str, WebChatInput],
) -> None:
    url, _ = server
    client, received = await connect(url, SESSION_3)
    try:
        await client.emit("user_uttered", {"message": "привет"})
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(received.get(), 2)
    finally:
        await client.disconnect()


async def test_another_channels_conversation_cannot_be_joined_or_written(
    server: tuple[str, WebChatInput], agent: Agent
) -> None:
    url, _ = server
    target = f"telegram:{uuid.uuid4().int % 10**9}"  # a Telegram conversation id
    client = socketio.AsyncClient()
    confirmed: asyncio.Queue[Any] = asyncio.Queue()
    received: asyncio.Queue[Any] = asyncio.Queue()
    client.on("session_confirm", confirmed.put_nowait)
    client.on("bot_uttered", received.put_nowait)
    await client.connect(url, transports=["polling"])
    try:
        await client.emit("session_request", {"session_id": target})
        issued = await asyncio.wait_for(confirmed.get(), 5)
        assert issued != target and re.fullmatch(r"[0-9a-f]{32}", issued)
        await client.emit("user_uttered", {"message": "привет", "session_id": target})
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(received.get(), 2)
    finally:
        await client.disconnect()
    assert await agent.tracker_store.retrieve(target) is None


async def push_through_other_replica(
    agent: Agent, credentials: dict[str, Any], text: str
) -> asyncio.Queue[Any]:
    session = uuid.uuid4().hex
    async with (
        serving(agent, credentials) as (url_a, _),
        serving(agent, credentials) as (_, replica_b),
    ):
        client, received = await connect(url_a, session)
        try:
            output = replica_b.get_output_channel()
            assert isinstance(output, WebChatOutput)
            await asyncio.sleep(0.5)  # replica A's Redis listener subscribes
            await output.send_text_message(session, text)
            await asyncio.sleep(2)
        finally:
            await client.disconnect()
    return received


async def test_a_push_through_another_replica_reaches_the_socket(
    agent: Agent,
) -> None:
    """Two replicas share rooms through Redis: the operator's reply arrives at the
    replica that does not hold the widget's socket, and still reaches it."""
    credentials = {**CREDENTIALS, "redis_url": REDIS_URL}
    received = await push_through_other_replica(
        agent, credentials, "Анна: заказ уже у курьера"
    )
    assert received.get_nowait()["text"] == "Анна: заказ уже у курьера"


async def test_without_redis_a_push_through_another_replica_is_lost(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why the Redis manager is there: replicas do not share rooms by themselves."""
    monkeypatch.delenv("EASYFLOW_REDIS_URL", raising=False)
    received = await push_through_other_replica(agent, CREDENTIALS, "lost")
    assert received.empty()
