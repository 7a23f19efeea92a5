"""Floods and oversized messages at the real channels (REST, Telegram, Alice) with
the trained agent: nothing over a limit reaches Rasa, the shopper is told once,
platforms get their 200 so they do not retry."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from rasa.core.agent import Agent

from connectors.alice import AliceInput
from connectors.dedupe import MemoryDedupe
from connectors.guard import MemoryRateCounter, ShopperGuard
from connectors.rest import StrictRestInput
from connectors.settings import ChannelSettings
from connectors.telegram import TelegramInput
from tests.connectors.conftest import Emulator, rasa_app
from tests.connectors.test_telegram import SECRET, TOKEN, post, telegram_reply
from tests.connectors.test_telegram import text_update as telegram_text

SLOW_DOWN_RU = "Вы пишете очень часто"
TOO_LONG_RU = "Сообщение слишком длинное"


def strict_guard(**settings: Any) -> ShopperGuard:
    values = {"sender_rate": 3, "ip_rate": 0, "max_message_chars": 500, **settings}
    return ShopperGuard(ChannelSettings(**values), MemoryRateCounter())


async def stored_user_texts(agent: Agent, sender: str) -> list[str]:
    tracker = await agent.tracker_store.retrieve(sender)
    if tracker is None:
        return []
    return [e.text for e in tracker.events if getattr(e, "type_name", "") == "user"]


@pytest.fixture
async def telegram(emulator_factory: Any) -> Emulator:
    return await emulator_factory(telegram_reply)


async def test_rest_flood_gets_429_and_never_reaches_rasa(agent: Agent) -> None:
    rest = StrictRestInput()
    rest.guard = strict_guard()
    app = rasa_app(rest, agent)
    sender = f"flood-{uuid.uuid4().hex[:8]}"
    statuses = []
    for n in range(5):
        _, response = await app.asgi_client.post(
            "/webhooks/rest/webhook", json={"sender": sender, "message": f"привет {n}"}
        )
        statuses.append(response.status)
    assert statuses == [200, 200, 200, 429, 429]
    assert response.json["error"] == "rate_limited"
    assert response.headers["Retry-After"] == "60"
    assert await stored_user_texts(agent, f"rest:{sender}") == [
        "привет 0",
        "привет 1",
        "привет 2",
    ]


async def test_rest_oversized_message_gets_413(agent: Agent) -> None:
    rest = StrictRestInput()
    rest.guard = strict_guard()
    app = rasa_app(rest, agent)
    sender = f"big-{uuid.uuid4().hex[:8]}"
    _, response = await app.asgi_client.post(
        "/webhooks/rest/webhook", json={"sender": sender, "message": "а" * 20_000}
    )
    assert response.status == 413
    assert response.json == {"error": "message_too_long", "max_chars": 500}
    assert await stored_user_texts(agent, f"rest:{sender}") == []


async def test_telegram_flood_gets_one_notice_and_200s(
    telegram: Emulator, agent: Agent
) -> None:
    channel = TelegramInput(
        TOKEN, SECRET, api_url=telegram.url, dedupe=MemoryDedupe(), guard=strict_guard()
    )
    app = rasa_app(channel, agent)
    chat = 555_100_000 + uuid.uuid4().int % 1000
    statuses = [
        (await post(app, telegram_text(f"привет {n}", chat=chat))).status
        for n in range(6)
    ]
    assert statuses == [200] * 6  # Telegram must not retry
    sent = [c.json["text"] for c in telegram.calls if c.path.endswith("/sendMessage")]
    assert sum(SLOW_DOWN_RU in text for text in sent) == 1
    assert len(await stored_user_texts(agent, f"telegram:{chat}")) == 3


async def test_telegram_oversized_message_is_answered_without_rasa(
    telegram: Emulator, agent: Agent
) -> None:
    channel = TelegramInput(
        TOKEN, SECRET, api_url=telegram.url, dedupe=MemoryDedupe(), guard=strict_guard()
    )
    app = rasa_app(channel, agent)
    chat = 555_200_000 + uuid.uuid4().int % 1000
    update = telegram_text("где мой заказ " * 100, chat=chat)
    assert (await post(app, update)).status == 200
    assert (await post(app, update)).status == 200  # Telegram's retry: told once
    sent = [c.json["text"] for c in telegram.calls if c.path.endswith("/sendMessage")]
    assert len(sent) == 1 and TOO_LONG_RU in sent[0]
    assert await stored_user_texts(agent, f"telegram:{chat}") == []


async def test_an_oversized_webhook_body_is_refused(
    telegram: Emulator, agent: Agent
) -> None:
    channel = TelegramInput(TOKEN, SECRET, api_url=telegram.url, dedupe=MemoryDedupe())
    app = rasa_app(channel, agent)
    body = json.dumps(telegram_text("x" * (2 * 1024 * 1024), chat=555_300_001))
    assert (await post(app, body)).status == 413
    assert telegram.calls == []


async def test_alice_flood_is_answered_in_words_not_silence(agent: Agent) -> None:
    skill = "3ad36498-f5rd-4079-a14b-788652932056"
    alice = AliceInput(skill, dedupe=MemoryDedupe(), guard=strict_guard())
    app = rasa_app(alice, agent)
    session = uuid.uuid4().hex
    replies = []
    for n in range(1, 6):
        request = {
            "meta": {"locale": "ru-RU"},
            "session": {
                "session_id": session,
                "message_id": n,
                "skill_id": skill,
                "new": n == 1,
                "application": {"application_id": "app"},
            },
            "request": {
                "command": f"привет {n}",
                "original_utterance": f"привет {n}",
                "type": "SimpleUtterance",
            },
            "version": "1.0",
        }
        _, response = await app.asgi_client.post(
            "/webhooks/alice/webhook", json=request
        )
        assert response.status == 200
        replies.append(response.json["response"]["text"])
    assert all(SLOW_DOWN_RU in text for text in replies[3:])
    assert len(await stored_user_texts(agent, f"alice:{session}")) == 3
