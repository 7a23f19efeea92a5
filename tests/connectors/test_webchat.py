"""Web chat over socket.io: the real Rasa agent, a real socket.io client.

Sessions are the server's: each test takes the id ``session_confirm`` gives it, as
the widget does, and the attacks present ids the server did not issue.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from rasa.core.agent import Agent
from rasa.shared.core.events import UserUttered

from connectors.base import ConfigError
from connectors.settings import ChannelSettings
from connectors.webchat import WebChatInput, WebChatOutput
from connectors.webchat_sessions import SECRET_FILE, SessionIds, key_from
from tests.connectors.conftest import free_port, rasa_app
from tests.emulators import Emulator

REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET = "webchat-test-secret-0123456789"
CREDENTIALS = {
    "user_message_evt": "user_uttered",
    "bot_message_evt": "bot_uttered",
    "session_persistence": True,
    "session_secret": SECRET,
}


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


async def hang_up(client: socketio.AsyncClient) -> None:
    """Closes the connection without waiting for the server to end its pending long
    poll, which python-engineio's server lets run its full 25 s ping interval."""
    await client.eio.disconnect(abort=True)


@dataclass
class Widget:
    client: socketio.AsyncClient
    received: asyncio.Queue[Any]
    session_id: str  # what session_confirm gave this socket

    async def say(self, text: str, session_id: str | None = None) -> None:
        await self.client.emit(
            "user_uttered",
            {"message": text, "session_id": session_id or self.session_id},
        )


async def connect(url: str, session_id: str | None = None) -> Widget:
    client = socketio.AsyncClient()
    received: asyncio.Queue[Any] = asyncio.Queue()
    confirmed: asyncio.Queue[str] = asyncio.Queue()
    client.on("bot_uttered", received.put_nowait)
    client.on("session_confirm", confirmed.put_nowait)
    # websocket needs a newer aiohttp than Rasa 3.6 pins; long-polling reaches
    # the same socket.io handlers.
    await client.connect(url, transports=["polling"])
    await client.emit("session_request", {"session_id": session_id})
    return Widget(client, received, await asyncio.wait_for(confirmed.get(), 5))


async def test_a_reply_reaches_the_widget_in_the_shoppers_language(
    server: tuple[str, WebChatInput],
) -> None:
    url, _ = server
    widget = await connect(url)
    try:
        await widget.say("где мой заказ A-10234")
        reply = await asyncio.wait_for(widget.received.get(), 30)
    finally:
        await hang_up(widget.client)
    # Privacy on by default: details wait for the phone's last 4 digits; the
    # question is in Russian, like the shopper's message.
    assert "4 цифры" in reply["text"]


async def test_pushed_custom_json_arrives_as_the_dict_itself(
    server: tuple[str, WebChatInput],
) -> None:
    url, channel = server
    widget = await connect(url)
    try:
        output = channel.get_output_channel()
        assert isinstance(output, WebChatOutput)
        await output.send_custom_json(
            widget.session_id, {"easyflow_handoff": "active", "operator": "Anna"}
        )
        pushed = await asyncio.wait_for(widget.received.get(), 5)
    finally:
        await hang_up(widget.client)
    assert pushed == {"easyflow_handoff": "active", "operator": "Anna"}


async def test_a_message_without_a_session_is_ignored(
    server: tuple[str, WebChatInput],
) -> None:
    url, _ = server
    client = socketio.AsyncClient()
    received: asyncio.Queue[Any] = asyncio.Queue()
    client.on("bot_uttered", received.put_nowait)
    await client.connect(url, transports=["polling"])
    try:
        # No session_request: whatever session the message names, it is dropped.
        await client.emit("user_uttered", {"message": "привет"})
        await client.emit(
            "user_uttered",
            {"message": "привет", "session_id": SessionIds(SECRET.encode()).issue()},
        )
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(received.get(), 2)
    finally:
        await hang_up(client)


async def test_another_channels_conversation_cannot_be_joined_or_written(
    server: tuple[str, WebChatInput], agent: Agent
) -> None:
    url, channel = server
    target = f"telegram:{uuid.uuid4().int % 10**9}"  # a Telegram conversation id
    widget = await connect(url, target)
    try:
        assert widget.session_id != target
        assert channel.sessions.verify(widget.session_id)
        await widget.say("привет", target)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(widget.received.get(), 2)
    finally:
        await hang_up(widget.client)
    assert await agent.tracker_store.retrieve(target) is None


async def push_through_other_replica(
    agent: Agent, credentials: dict[str, Any], text: str
) -> asyncio.Queue[Any]:
    async with (
        serving(agent, credentials) as (url_a, _),
        serving(agent, credentials) as (_, replica_b),
    ):
        widget = await connect(url_a)
        try:
            output = replica_b.get_output_channel()
            assert isinstance(output, WebChatOutput)
            await asyncio.sleep(0.5)  # replica A's Redis listener subscribes
            await output.send_text_message(widget.session_id, text)
            await asyncio.sleep(2)
        finally:
            await hang_up(widget.client)
    return widget.received


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


async def user_events(agent: Agent, sender_id: str) -> list[UserUttered]:
    tracker = await agent.tracker_store.retrieve(sender_id)
    events = [] if tracker is None else tracker.events
    return [e for e in events if isinstance(e, UserUttered)]


async def test_the_server_issues_the_session_and_keeps_it_on_reconnect(
    server: tuple[str, WebChatInput],
) -> None:
    """The widget's flow: a first visit gets a signed id, a reload presents it."""
    url, channel = server
    first = await connect(url)
    await hang_up(first.client)
    again = await connect(url, first.session_id)
    await hang_up(again.client)

    assert first.session_id.startswith("webchat:")
    assert channel.sessions.verify(first.session_id)
    assert again.session_id == first.session_id


@pytest.mark.parametrize(
    "presented",
    [
        uuid.uuid4().hex,  # what older widgets made themselves
        "telegram:123",
        "rest:shopper",
        "webchat:" + "0" * 32 + "." + "0" * 32,
        {"nested": "object"},
    ],
)
async def test_an_id_the_server_did_not_issue_gets_a_fresh_one(
    server: tuple[str, WebChatInput], presented: Any
) -> None:
    url, channel = server
    widget = await connect(url, presented)
    await hang_up(widget.client)

    assert widget.session_id != presented
    assert channel.sessions.verify(widget.session_id)


async def test_a_forged_session_id_does_not_join_another_sessions_room(
    server: tuple[str, WebChatInput],
) -> None:
    """An attacker who knows a shopper's conversation token but not its signature
    (or signs with another key) joins no room: the operator's reply to the shopper
    reaches the shopper only."""
    url, channel = server
    shopper = await connect(url)
    token = shopper.session_id.removeprefix("webchat:").split(".")[0]
    forged = [
        f"webchat:{token}." + "f" * 32,
        SessionIds(b"another-key-0123456789").issue(),
        f"webchat:{token}",
        shopper.session_id.upper(),
    ]
    attackers = [await connect(url, presented) for presented in forged]
    try:
        assert shopper.session_id not in {a.session_id for a in attackers}
        output = channel.get_output_channel()
        assert isinstance(output, WebChatOutput)
        await output.send_text_message(shopper.session_id, "Анна: ваш заказ у курьера")
        pushed = await asyncio.wait_for(shopper.received.get(), 5)
        await asyncio.sleep(1)
        assert all(a.received.empty() for a in attackers)
    finally:
        for widget in (shopper, *attackers):
            await hang_up(widget.client)
    assert pushed["text"] == "Анна: ваш заказ у курьера"


async def test_a_message_naming_another_session_is_not_written_there(
    agent: Agent, server: tuple[str, WebChatInput]
) -> None:
    """Knowing a session id is not enough to write into it from another socket that
    was confirmed in its own session."""
    url, _ = server
    shopper = await connect(url)
    attacker = await connect(url)
    try:
        await shopper.say("привет")
        await asyncio.wait_for(shopper.received.get(), 30)
        await attacker.say("хочу отменить заказ A-10234", shopper.session_id)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(attacker.received.get(), 3)
    finally:
        await hang_up(shopper.client)
        await hang_up(attacker.client)
    assert [e.text for e in await user_events(agent, shopper.session_id)] == ["привет"]
    assert await user_events(agent, attacker.session_id) == []


def test_the_key_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    settings = ChannelSettings(data_dir=tmp_path)

    first, second = key_from(None, settings), key_from(None, settings)

    assert first == second and len(first) >= 32
    assert (tmp_path / SECRET_FILE).stat().st_mode & 0o077 == 0
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_FILE]


def test_replicas_sharing_the_rasa_token_share_sessions(tmp_path: Path) -> None:
    settings = ChannelSettings(rasa_token="a-long-shared-rasa-token", data_dir=tmp_path)
    issued = SessionIds(key_from(None, settings)).issue()

    assert SessionIds(key_from(None, settings)).verify(issued)
    other = ChannelSettings(rasa_token="another-rasa-token-000", data_dir=tmp_path)
    assert not SessionIds(key_from(None, other)).verify(issued)
    assert list(tmp_path.iterdir()) == []  # nothing generated when derived
    assert key_from("s" * 16, settings) == b"s" * 16  # an explicit secret wins


def test_a_short_secret_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EASYFLOW_WEBCHAT_SECRET", "short")
    credentials = {k: v for k, v in CREDENTIALS.items() if k != "session_secret"}

    with pytest.raises(ConfigError, match="EASYFLOW_WEBCHAT_SECRET"):
        WebChatInput.from_credentials(credentials)


EXPO_TOKEN = "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]"


@pytest.fixture
async def expo(emulator_factory: Any) -> Emulator:
    """Expo's push service: one ticket per message, in order."""

    def tickets(call: Any) -> dict[str, Any]:
        return {"data": [{"status": "ok", "id": "t-1"} for _ in call.json]}

    return await emulator_factory(tickets)


@pytest.fixture
async def push_server(
    agent: Agent, expo: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[str, WebChatInput]]:
    monkeypatch.delenv("EASYFLOW_REDIS_URL", raising=False)
    monkeypatch.setenv("EASYFLOW_EXPO_PUSH_URL", expo.url)
    monkeypatch.setenv("EASYFLOW_DATA_DIR", str(tmp_path))
    async with serving(agent, CREDENTIALS) as running:
        yield running


async def register(url: str, body: Any) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/webhooks/socketio/push", json=body) as answer,
    ):
        return answer.status


async def test_only_a_session_the_server_issued_registers_a_device(
    push_server: tuple[str, WebChatInput],
) -> None:
    url, _ = push_server
    widget = await connect(url)
    await hang_up(widget.client)
    good = {"session_id": widget.session_id, "token": EXPO_TOKEN, "platform": "ios"}
    forged = SessionIds(b"another-key-0123456789").issue()

    assert await register(url, {**good, "session_id": forged}) == 403
    assert await register(url, {**good, "session_id": "telegram:1"}) == 403
    assert await register(url, {**good, "token": "not-a-token"}) == 400
    assert await register(url, {**good, "platform": "web"}) == 400
    assert await register(url, [good]) == 400
    assert await register(url, good) == 204


async def test_a_proactive_message_is_pushed_to_the_registered_device(
    push_server: tuple[str, WebChatInput], expo: Emulator
) -> None:
    url, channel = push_server
    widget = await connect(url)
    try:
        body = {"session_id": widget.session_id, "token": EXPO_TOKEN}
        assert await register(url, {**body, "platform": "android"}) == 204
        # The reply to the shopper's own message is not pushed: the app has it.
        await widget.say("привет")
        await asyncio.wait_for(widget.received.get(), 30)
        assert expo.calls == []
        # An operator's reply through output_channel=latest is.
        output = channel.get_output_channel()
        assert output is not None
        await output.send_text_message(widget.session_id, "Анна: заказ у курьера")
        pushed = await asyncio.wait_for(widget.received.get(), 5)
    finally:
        await hang_up(widget.client)
    assert pushed["text"] == "Анна: заказ у курьера"
    (call,) = expo.calls
    assert call.path == "/--/api/v2/push/send"
    assert call.json == [
        {
            "to": EXPO_TOKEN,
            "title": "",
            "body": "Анна: заказ у курьера",
            "data": {"session_id": widget.session_id},
        }
    ]


async def test_a_device_expo_says_is_gone_is_forgotten(
    push_server: tuple[str, WebChatInput], expo: Emulator
) -> None:
    url, channel = push_server
    widget = await connect(url)
    await hang_up(widget.client)
    body = {"session_id": widget.session_id, "token": EXPO_TOKEN, "platform": "ios"}
    assert await register(url, body) == 204
    gone = {
        "status": "error",
        "message": "not a registered push notification recipient",
        "details": {"error": "DeviceNotRegistered"},
    }
    expo.fail_next(200, {"data": [gone]})
    output = channel.get_output_channel()
    assert output is not None

    await output.send_text_message(widget.session_id, "Оплата получена")
    await output.send_text_message(widget.session_id, "Заказ передан курьеру")

    assert len(expo.calls) == 1  # the second message found no device to push to
