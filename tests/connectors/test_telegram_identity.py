"""«Мои заказы» on Telegram: the shopper shares their own contact with the
request_contact button and sees their demo orders; a card of someone else's
number shows nothing (the Bot API emulator, the trained agent, the real action
server)."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from rasa.core.agent import Agent

from actions.integrations.demo_store import demo_phone
from tests.connectors import test_telegram as telegram
from tests.connectors.conftest import Emulator, rasa_app
from tests.connectors.test_media import telegram_update

_chats = itertools.count(557000100)
PHONE = re.sub(r"\D", "", demo_phone("A-10234"))  # the buyer of A-10234


@pytest.fixture
async def telegram_emulator(emulator_factory: Any) -> Emulator:
    return await emulator_factory(telegram.telegram_reply)


def contact(user_id: int, phone: str = PHONE) -> dict[str, Any]:
    return {
        "contact": {"phone_number": phone, "first_name": "Анна", "user_id": user_id}
    }


def sent(emulator: Emulator, chat: int) -> list[dict[str, Any]]:
    return [
        c.json
        for c in emulator.calls
        if c.path.endswith("/sendMessage") and c.json.get("chat_id") == chat
    ]


async def test_the_shopper_shares_their_number_and_sees_their_orders(
    telegram_emulator: Emulator, agent: Agent
) -> None:
    app = rasa_app(telegram.channel(telegram_emulator), agent)
    chat = next(_chats)

    await telegram.post(app, telegram_update(chat, text="мои заказы"))
    [asked] = sent(telegram_emulator, chat)
    assert "поделитесь номером" in asked["text"]
    [[button]] = asked["reply_markup"]["keyboard"]
    assert button["request_contact"] is True

    await telegram.post(app, telegram_update(chat, **contact(chat)))
    texts = [m["text"] for m in sent(telegram_emulator, chat)[1:]]
    assert texts[0] == "Спасибо, номер подтверждён."
    assert texts[1] == "Ваши последние заказы (1):"
    assert texts[2] == "Заказ A-10234 в пути."
    assert sent(telegram_emulator, chat)[1]["reply_markup"] == {"remove_keyboard": True}

    # The linked phone is a factor: the details come with no digit question.
    before = len(sent(telegram_emulator, chat))
    await telegram.post(app, telegram_update(chat, text="где заказ A-10234"))
    details = [m["text"] for m in sent(telegram_emulator, chat)[before:]]
    assert any("трек-номер" in t for t in details), details
    assert not any("4 цифры" in t for t in details)


async def test_someone_elses_number_shows_nothing(
    telegram_emulator: Emulator, agent: Agent
) -> None:
    app = rasa_app(telegram.channel(telegram_emulator), agent)
    owner, intruder = next(_chats), next(_chats)

    # The intruder forwards the owner's contact card (its user_id is the owner's).
    await telegram.post(app, telegram_update(intruder, **contact(owner)))
    await telegram.post(app, telegram_update(intruder, text="мои заказы"))
    texts = [m["text"] for m in sent(telegram_emulator, intruder)]
    assert texts[0].startswith("Это не ваш номер"), texts
    assert "поделитесь номером" in texts[1]
    assert not any("A-10234" in t for t in texts)
    # A contact with no user_id (typed into the address book) is no proof either.
    await telegram.post(
        app,
        telegram_update(intruder, contact={"phone_number": PHONE, "first_name": "А"}),
    )
    assert sent(telegram_emulator, intruder)[-1]["text"].startswith("Это не ваш номер")
