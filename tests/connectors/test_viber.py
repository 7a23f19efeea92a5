"""Viber connector against a Viber REST API emulator and the real agent."""

from __future__ import annotations

import itertools
import json
import logging
import re
from typing import Any

import pytest
from rasa.core.agent import Agent

from actions.integrations.demo_store import demo_phone
from common.http import PlatformClient, RetryPolicy
from common.security import hmac_sha256_hex
from connectors.base import ConfigError
from connectors.dedupe import MemoryDedupe
from connectors.viber import MAX_TEXT, ViberInput, ViberOutput, api_error
from tests.connectors.conftest import Call, Emulator, rasa_app

# The demo order's phone digits: its buyer's answer to the privacy check.
LAST4 = re.sub(r"\D", "", demo_phone("A-10234"))[-4:]

AUTH_TOKEN = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f"
NAME = "Easy Flow"
URL = "/webhooks/viber/webhook"
SEND = "/pa/send_message"
SIGN = object()  # sign the body with AUTH_TOKEN
_tokens = itertools.count(4912661846655238145)


def viber_reply(call: Call) -> dict[str, Any]:
    return {
        "status": 0,
        "status_message": "ok",
        "message_token": 5741311803571721087,
        "chat_hostname": "SN-CHAT-05_",
    }


def text_event(text: str, user: str, token: int | None = None) -> dict[str, Any]:
    return {
        "event": "message",
        "timestamp": 1457764197627,
        "chat_hostname": "SN-CHAT-01_",
        "message_token": token or next(_tokens),
        "sender": {
            "id": user,
            "name": "Анна",
            "avatar": "https://avatar.example.com/a.jpg",
            "country": "RU",
            "language": "ru",
            "api_version": 10,
        },
        "message": {"type": "text", "text": text, "tracking_data": "flow=support"},
        "silent": False,
    }


@pytest.fixture
async def viber(emulator_factory: Any) -> Emulator:
    return await emulator_factory(viber_reply)


def channel(emulator: Emulator) -> ViberInput:
    return ViberInput(AUTH_TOKEN, NAME, api_url=emulator.url, dedupe=MemoryDedupe())


def output(emulator: Emulator, retry: RetryPolicy | None = None) -> ViberOutput:
    client = PlatformClient("viber", emulator.url, retry=retry, body_error=api_error)
    return ViberOutput(client, AUTH_TOKEN, NAME, None)


async def post(app: Any, event: Any, signature: Any = SIGN) -> Any:
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    headers = {"Content-Type": "application/json"}
    if signature is SIGN:
        signature = hmac_sha256_hex(AUTH_TOKEN, body)
    if signature is not None:
        headers["X-Viber-Content-Signature"] = signature
    _, response = await app.asgi_client.post(URL, content=body, headers=headers)
    return response


def sent_texts(emulator: Emulator) -> list[str]:
    return [
        c.json["text"]
        for c in emulator.calls
        if c.path == SEND and c.json["type"] == "text"
    ]


async def test_message_gets_a_reply(viber: Emulator, agent: Agent) -> None:
    user = "vb-user-0001+/A=="
    response = await post(rasa_app(channel(viber), agent), text_event("привет", user))
    assert response.status == 200
    assert response.body == b""
    (call,) = viber.calls
    assert call.path == SEND
    assert call.headers["X-Viber-Auth-Token"] == AUTH_TOKEN
    assert call.json["text"].startswith("Здравствуйте!")
    assert call.json == {
        "receiver": user,
        "sender": {"name": NAME},
        "type": "text",
        "text": call.json["text"],
    }


async def test_button_press_sends_its_action_body(
    viber: Emulator, agent: Agent
) -> None:
    app = rasa_app(channel(viber), agent)
    assert (await post(app, text_event("/greet", "vb-user-0002=="))).status == 200
    assert sent_texts(viber)[0].startswith("Здравствуйте!")


async def test_buttons_become_a_reply_keyboard(viber: Emulator, agent: Agent) -> None:
    app = rasa_app(channel(viber), agent)
    await post(app, text_event("курьер нахамил и опоздал на три часа", "vb-user-0003"))
    keyboards = [c.json["keyboard"] for c in viber.calls if "keyboard" in c.json]
    assert keyboards == [
        {
            "Type": "keyboard",
            "DefaultHeight": False,
            "Buttons": [
                {
                    "Columns": 6,
                    "Rows": 1,
                    "ActionType": "reply",
                    "ActionBody": "/affirm",
                    "Text": "Да",
                },
                {
                    "Columns": 6,
                    "Rows": 1,
                    "ActionType": "reply",
                    "ActionBody": "/deny",
                    "Text": "Нет",
                },
            ],
        }
    ]


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "0" * 64,
        "not-hex",
        hmac_sha256_hex("another-bot-token", b"{}"),
        hmac_sha256_hex(AUTH_TOKEN, b"a different body"),
    ],
)
async def test_forged_or_missing_signature_is_refused(
    viber: Emulator, agent: Agent, signature: str | None
) -> None:
    app = rasa_app(channel(viber), agent)
    response = await post(app, text_event("привет", "vb-user-0004"), signature)
    assert response.status == 403
    assert viber.calls == []


async def test_the_same_message_twice_is_answered_once(
    viber: Emulator, agent: Agent
) -> None:
    app = rasa_app(channel(viber), agent)
    event = text_event("привет", "vb-user-0005")
    assert (await post(app, event)).status == 200
    assert (await post(app, event)).status == 200
    assert len(sent_texts(viber)) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        json.dumps({"message": {"type": "text", "text": "hi"}}).encode(),
        json.dumps(
            {**text_event("привет", "vb-user-0006"), "message_token": None}
        ).encode(),
    ],
)
async def test_malformed_payload_is_a_client_error(
    viber: Emulator, agent: Agent, body: bytes
) -> None:
    response = await post(rasa_app(channel(viber), agent), body)
    assert response.status == 400
    assert viber.calls == []


@pytest.mark.parametrize(
    "event",
    [
        {
            "event": "webhook",
            "timestamp": 1457764197627,
            "chat_hostname": "SN-CHAT-01_",
            "message_token": 241256543215,
        },
        {
            "event": "conversation_started",
            "timestamp": 1457764197627,
            "type": "open",
            "context": "ad-campaign",
            "user": {"id": "vb-user-0007", "name": "Анна", "language": "ru"},
            "message_token": 4912661846655238145,
            "subscribed": False,
        },
        {
            "event": "subscribed",
            "timestamp": 1457764197627,
            "user": {"id": "vb-user-0007", "name": "Анна"},
            "message_token": 4912661846655238146,
        },
        {
            "event": "delivered",
            "timestamp": 1457764197627,
            "message_token": 4912661846655238147,
            "user_id": "vb-user-0007",
        },
        {"event": "client_status", "timestamp": 1457764197627},
        {
            **text_event("", "vb-user-0007"),
            "message": {"type": "text", "text": "   "},
        },
    ],
)
async def test_events_the_bot_does_not_answer_are_acknowledged(
    viber: Emulator, agent: Agent, event: dict[str, Any]
) -> None:
    response = await post(rasa_app(channel(viber), agent), event)
    assert response.status == 200
    assert response.body == b""  # no welcome message for conversation_started
    assert viber.calls == []


async def test_long_reply_is_split_at_sentences(viber: Emulator) -> None:
    sentence = "Это длинное предложение про доставку заказа по всей России. "
    await output(viber).send_text_message("viber:vb-user-0008", sentence * 200)
    parts = sent_texts(viber)
    assert len(parts) == 2
    assert all(len(part) <= MAX_TEXT for part in parts)
    assert all(part.endswith(".") for part in parts)
    assert " ".join(parts) == (sentence * 200).strip()


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, {"status": 12, "status_message": "Too many requests"}),
        (429, {"status_message": "Too many requests"}),
    ],
)
async def test_rate_limit_is_retried(viber: Emulator, status: int, body: Any) -> None:
    viber.fail_next(status, body)
    await output(viber, RetryPolicy(base_delay_s=0)).send_text_message(
        "viber:vb-user-0009", "привет"
    )
    assert len(viber.calls) == 2
    assert viber.calls[1].json == {
        "receiver": "vb-user-0009",
        "sender": {"name": NAME},
        "type": "text",
        "text": "привет",
    }


async def test_other_statuses_are_logged_not_retried(
    viber: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    viber.fail_next(200, {"status": 6, "status_message": "receiverNotSubscribed"})
    with caplog.at_level(logging.ERROR):
        await output(viber, RetryPolicy(base_delay_s=0)).send_text_message(
            "viber:vb-user-0010", "привет"
        )
    assert len(viber.calls) == 1
    assert "viber.send.failed" in caplog.messages


async def test_pictures_links_and_custom_json(viber: Emulator) -> None:
    client = PlatformClient("viber", viber.url, body_error=api_error)
    out = ViberOutput(client, AUTH_TOKEN, NAME, "https://shop.example/bot.png")
    await out.send_image_url("viber:vb-user-0011", "https://shop.example/p/1.jpg")
    await out.send_custom_json(
        "viber:vb-user-0011", {"type": "sticker", "sticker_id": 46105}
    )
    await out.send_text_with_buttons(
        "viber:vb-user-0011", "", [{"title": "Сайт", "url": "https://shop.example"}]
    )
    picture, sticker, link = (call.json for call in viber.calls)
    sender = {"name": NAME, "avatar": "https://shop.example/bot.png"}
    assert picture == {
        "receiver": "vb-user-0011",
        "sender": sender,
        "type": "picture",
        "text": "",
        "media": "https://shop.example/p/1.jpg",
    }
    assert sticker == {
        "receiver": "vb-user-0011",
        "sender": sender,
        "type": "sticker",
        "sticker_id": 46105,
    }
    assert link["text"] == "…"
    assert link["keyboard"]["Buttons"][0]["ActionType"] == "open-url"
    assert link["keyboard"]["Buttons"][0]["ActionBody"] == "https://shop.example"


def test_credentials_are_validated() -> None:
    credentials = {"auth_token": AUTH_TOKEN, "name": NAME}
    assert ViberInput.from_credentials(credentials).sender_name == NAME
    with pytest.raises(ConfigError, match=r"viber\.auth_token"):
        ViberInput.from_credentials({**credentials, "auth_token": " "})
    with pytest.raises(ConfigError, match=r"viber\.name"):
        ViberInput.from_credentials({**credentials, "name": "x" * 29})


async def test_order_status_conversation(viber: Emulator, agent: Agent) -> None:
    app = rasa_app(channel(viber), agent)
    await post(app, text_event("где мой заказ", "vb-user-0012"))
    assert "номер заказа" in sent_texts(viber)[-1]
    await post(app, text_event("A-10234", "vb-user-0012"))
    assert "последние 4 цифры" in sent_texts(viber)[-1]  # order privacy
    await post(app, text_event(LAST4, "vb-user-0012"))
    *_, status, offer = sent_texts(viber)
    assert "Заказ A-10234 в пути (" in status
    assert "Сообщать вам, когда статус заказа A-10234 изменится?" in offer
