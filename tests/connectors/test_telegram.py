"""Telegram connector against a Telegram Bot API emulator and the real agent."""

from __future__ import annotations

import itertools
import json
import re
import uuid
from typing import Any

import pytest
from rasa.core.agent import Agent

from actions.integrations.demo_store import demo_phone
from common.http import PlatformClient, RetryPolicy
from connectors.dedupe import MemoryDedupe, RedisDedupe
from connectors.telegram import MAX_TEXT, TelegramInput, TelegramOutput
from tests.connectors.conftest import Call, Emulator, rasa_app

# The demo order's phone digits: its buyer's answer to the privacy check.
LAST4 = re.sub(r"\D", "", demo_phone("A-10234"))[-4:]

TOKEN = "7000000001:AAHtestTOKENtestTOKENtestTOKEN"
SECRET = "s3cret-Token_for-tests"
URL = "/webhooks/telegram/webhook"
_ids = itertools.count(912345000)


def telegram_reply(call: Call) -> dict[str, Any]:
    return {"ok": True, "result": {"message_id": 1, "date": 1718000010}}


def text_update(text: str, chat: int, update_id: int | None = None) -> dict[str, Any]:
    return {
        "update_id": update_id or next(_ids),
        "message": {
            "message_id": 101,
            "from": {
                "id": chat,
                "is_bot": False,
                "first_name": "Анна",
                "language_code": "ru",
            },
            "chat": {"id": chat, "first_name": "Анна", "type": "private"},
            "date": 1718000000,
            "text": text,
        },
    }


def button_update(data: str, chat: int) -> dict[str, Any]:
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": "4382bfdwdsb323b2d9",
            "from": {"id": chat, "is_bot": False, "first_name": "Анна"},
            "message": {
                "message_id": 102,
                "chat": {"id": chat, "type": "private"},
                "date": 1718000005,
                "text": "Выберите действие",
            },
            "chat_instance": "-8023456789012345678",
            "data": data,
        },
    }


@pytest.fixture
async def telegram(emulator_factory: Any) -> Emulator:
    return await emulator_factory(telegram_reply)


def channel(emulator: Emulator, dedupe: Any = None) -> TelegramInput:
    return TelegramInput(
        TOKEN, SECRET, api_url=emulator.url, dedupe=dedupe or MemoryDedupe()
    )


async def post(app: Any, update: Any, secret: str | None = SECRET) -> Any:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = update if isinstance(update, bytes | str) else json.dumps(update)
    _, response = await app.asgi_client.post(URL, content=body, headers=headers)
    return response


def sent_texts(emulator: Emulator) -> list[str]:
    return [c.json["text"] for c in emulator.calls if c.path.endswith("/sendMessage")]


async def test_message_gets_a_reply(telegram: Emulator, agent: Agent) -> None:
    app = rasa_app(channel(telegram), agent)
    response = await post(app, text_update("привет", chat=555000111))
    assert response.status == 200
    (call,) = telegram.calls
    assert call.path == f"/bot{TOKEN}/sendMessage"
    assert call.json["chat_id"] == 555000111
    assert call.json["text"].startswith("Здравствуйте!")


async def test_button_press_sends_its_payload_and_stops_the_spinner(
    telegram: Emulator, agent: Agent
) -> None:
    app = rasa_app(channel(telegram), agent)
    assert (await post(app, button_update("/greet", chat=555000112))).status == 200
    assert sent_texts(telegram)[0].startswith("Здравствуйте!")
    assert telegram.calls[-1].path.endswith("/answerCallbackQuery")
    assert telegram.calls[-1].json == {"callback_query_id": "4382bfdwdsb323b2d9"}


async def test_buttons_become_an_inline_keyboard(
    telegram: Emulator, agent: Agent
) -> None:
    app = rasa_app(channel(telegram), agent)
    await post(app, text_update("курьер нахамил и опоздал на три часа", chat=555000113))
    keyboards = [
        c.json["reply_markup"] for c in telegram.calls if "reply_markup" in c.json
    ]
    assert keyboards == [
        {
            "inline_keyboard": [
                [{"text": "Да", "callback_data": "/affirm"}],
                [{"text": "Нет", "callback_data": "/deny"}],
            ]
        }
    ]


@pytest.mark.parametrize("secret", [None, "", "wrong-token", SECRET + "x"])
async def test_forged_or_missing_secret_is_refused(
    telegram: Emulator, agent: Agent, secret: str | None
) -> None:
    app = rasa_app(channel(telegram), agent)
    response = await post(app, text_update("привет", chat=555000114), secret=secret)
    assert response.status == 403
    assert telegram.calls == []


async def test_the_same_update_twice_is_answered_once(
    telegram: Emulator, agent: Agent
) -> None:
    app = rasa_app(channel(telegram), agent)
    update = text_update("привет", chat=555000115)
    assert (await post(app, update)).status == 200
    assert (await post(app, update)).status == 200
    assert len(sent_texts(telegram)) == 1


async def test_redis_dedupe_survives_a_restart(
    telegram: Emulator, agent: Agent
) -> None:
    namespace_token = f"{uuid.uuid4().int % 10**9}:AAHrestart"
    update = text_update("привет", chat=555000116)
    for _ in range(2):  # two processes, one after the other, sharing Redis
        dedupe = RedisDedupe("redis://127.0.0.1:6379/0", ttl_s=60)
        restarted = TelegramInput(
            namespace_token, SECRET, api_url=telegram.url, dedupe=dedupe
        )
        assert (await post(rasa_app(restarted, agent), update)).status == 200
        await dedupe.close()
    assert len(sent_texts(telegram)) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"{not json", 400), (b"[]", 400), (json.dumps({"message": {}}), 400)],
)
async def test_malformed_payload_is_a_client_error(
    telegram: Emulator, agent: Agent, body: Any, status: int
) -> None:
    response = await post(rasa_app(channel(telegram), agent), body)
    assert response.status == status
    assert telegram.calls == []


async def test_updates_the_bot_does_not_answer_are_acknowledged(
    telegram: Emulator, agent: Agent
) -> None:
    update = {"update_id": next(_ids), "my_chat_member": {"chat": {"id": 1}}}
    response = await post(rasa_app(channel(telegram), agent), update)
    assert response.status == 200
    assert telegram.calls == []


async def test_long_reply_is_split_at_sentences(telegram: Emulator) -> None:
    output = TelegramOutput(PlatformClient("telegram", telegram.url), TOKEN)
    sentence = "Это длинное предложение про доставку заказа по всей России. "
    await output.send_text_message("telegram:555000117", sentence * 100)
    parts = sent_texts(telegram)
    assert len(parts) == 2
    assert all(len(part) <= MAX_TEXT for part in parts)
    assert all(part.endswith(".") for part in parts)
    assert " ".join(parts) == (sentence * 100).strip()


async def test_rate_limit_is_retried(telegram: Emulator) -> None:
    telegram.fail_next(
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 0",
            "parameters": {"retry_after": 0},
        },
    )
    client = PlatformClient("telegram", telegram.url, retry=RetryPolicy(base_delay_s=0))
    await TelegramOutput(client, TOKEN).send_text_message(
        "telegram:555000118", "привет"
    )
    assert len(telegram.calls) == 2
    assert telegram.calls[1].json == {"chat_id": 555000118, "text": "привет"}


async def test_order_status_conversation(telegram: Emulator, agent: Agent) -> None:
    app = rasa_app(channel(telegram), agent)
    await post(app, text_update("где мой заказ", chat=555000119))
    assert "номер заказа" in sent_texts(telegram)[-1]
    await post(app, text_update("A-10234", chat=555000119))
    assert "последние 4 цифры" in sent_texts(telegram)[-1]  # order privacy
    await post(app, text_update(LAST4, chat=555000119))
    *_, status, offer = sent_texts(telegram)
    assert "Заказ A-10234 в пути (" in status
    assert "Сообщать вам, когда статус заказа A-10234 изменится?" in offer


async def test_wildberries_style_rate_limit_header_is_honoured(
    telegram: Emulator,
) -> None:
    telegram.fail_next(429, {"title": "too many requests"}, {"X-Ratelimit-Retry": "0"})
    client = PlatformClient("wb", telegram.url, retry=RetryPolicy(base_delay_s=5))
    await client.get("/api/v3/orders")  # would wait 5 s without the header
    assert len(telegram.calls) == 2
