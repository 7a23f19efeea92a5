"""VK connector against a VK API emulator and the real agent."""

from __future__ import annotations

import itertools
import json
import logging
import re
import uuid
from typing import Any

import pytest
from rasa.core.agent import Agent

from actions.integrations.demo_store import demo_phone
from common.http import PlatformClient, RetryPolicy
from connectors.base import ConfigError
from connectors.dedupe import MemoryDedupe
from connectors.vk import MAX_TEXT, VKInput, VKOutput, api_error
from tests.connectors.conftest import Call, Emulator, rasa_app

# The demo order's phone digits: its buyer's answer to the privacy check.
LAST4 = re.sub(r"\D", "", demo_phone("A-10234"))[-4:]

TOKEN = "vk1.a.community-token-for-tests"
SECRET = "vk-Secret_key-for-tests"
CONFIRMATION = "1f2e3d4c"
GROUP = 218000000
URL = "/webhooks/vk/webhook"
SEND = "/method/messages.send"
_message_ids = itertools.count(3001)


def vk_reply(call: Call) -> dict[str, Any]:
    return {"response": 101}


def message_event(
    text: str,
    peer: int,
    payload: str | None = None,
    event_id: str | None = None,
    secret: str | None = SECRET,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "date": 1718000000,
        "from_id": peer,
        "id": next(_message_ids),
        "out": 0,
        "peer_id": peer,
        "text": text,
        "conversation_message_id": 17,
        "attachments": [],
        "random_id": 0,
        "important": False,
        "is_hidden": False,
        "fwd_messages": [],
    }
    if payload is not None:
        message["payload"] = payload
    event: dict[str, Any] = {
        "type": "message_new",
        "event_id": event_id or uuid.uuid4().hex,
        "v": "5.199",
        "group_id": GROUP,
        "object": {
            "message": message,
            "client_info": {
                "button_actions": ["text", "vkpay", "open_app", "location"],
                "keyboard": True,
                "inline_keyboard": True,
                "carousel": True,
                "lang_id": 0,
            },
        },
    }
    if secret is not None:
        event["secret"] = secret
    return event


@pytest.fixture
async def vk(emulator_factory: Any) -> Emulator:
    return await emulator_factory(vk_reply)


def channel(emulator: Emulator) -> VKInput:
    return VKInput(
        TOKEN,
        SECRET,
        CONFIRMATION,
        GROUP,
        api_url=emulator.url,
        dedupe=MemoryDedupe(),
    )


def output(emulator: Emulator, retry: RetryPolicy | None = None) -> VKOutput:
    client = PlatformClient("vk", emulator.url, retry=retry, body_error=api_error)
    return VKOutput(client, TOKEN)


async def post(app: Any, event: Any) -> Any:
    body = event if isinstance(event, bytes | str) else json.dumps(event)
    _, response = await app.asgi_client.post(
        URL, content=body, headers={"Content-Type": "application/json"}
    )
    return response


def sent_texts(emulator: Emulator) -> list[str]:
    return [c.form["message"] for c in emulator.calls if c.path == SEND]


async def test_message_gets_a_reply(vk: Emulator, agent: Agent) -> None:
    event = message_event("привет", peer=700000101)
    response = await post(rasa_app(channel(vk), agent), event)
    assert response.status == 200
    assert response.text == "ok"
    (call,) = vk.calls
    assert call.path == SEND
    assert call.form["message"].startswith("Здравствуйте!")
    # random_id is the first one an output answering this event derives
    answering = output(vk).for_delivery(f"vk:{GROUP}:{event['event_id']}")
    assert call.form == {
        "peer_id": "700000101",
        "random_id": str(answering.random_id(700000101)),
        "message": call.form["message"],
        "access_token": TOKEN,
        "v": "5.199",
    }


async def test_button_press_sends_its_payload(vk: Emulator, agent: Agent) -> None:
    app = rasa_app(channel(vk), agent)
    press = message_event("Да", peer=700000102, payload='{"command":"/greet"}')
    assert (await post(app, press)).status == 200
    assert sent_texts(vk)[0].startswith("Здравствуйте!")


async def test_start_button_greets(vk: Emulator, agent: Agent) -> None:
    start = message_event("Начать", peer=700000103, payload='{"command":"start"}')
    assert (await post(rasa_app(channel(vk), agent), start)).status == 200
    assert sent_texts(vk)[0].startswith("Здравствуйте!")


async def test_buttons_become_an_inline_keyboard(vk: Emulator, agent: Agent) -> None:
    app = rasa_app(channel(vk), agent)
    await post(app, message_event("курьер нахамил и опоздал на три часа", 700000104))
    keyboards = [
        json.loads(c.form["keyboard"]) for c in vk.calls if "keyboard" in c.form
    ]
    assert keyboards == [
        {
            "inline": True,
            "buttons": [
                [
                    {
                        "action": {
                            "type": "text",
                            "label": "Да",
                            "payload": '{"command":"/affirm"}',
                        }
                    }
                ],
                [
                    {
                        "action": {
                            "type": "text",
                            "label": "Нет",
                            "payload": '{"command":"/deny"}',
                        }
                    }
                ],
            ],
        }
    ]


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x", 12345])
async def test_forged_or_missing_secret_is_refused(
    vk: Emulator, agent: Agent, secret: Any
) -> None:
    event = message_event("привет", peer=700000105, secret=None)
    if secret is not None:
        event["secret"] = secret
    response = await post(rasa_app(channel(vk), agent), event)
    assert response.status == 403
    assert vk.calls == []


async def test_confirmation_answers_the_confirmation_string(
    vk: Emulator, agent: Agent
) -> None:
    app = rasa_app(channel(vk), agent)
    for event in (
        {"type": "confirmation", "group_id": GROUP},
        {"type": "confirmation", "group_id": GROUP, "secret": SECRET},
    ):
        response = await post(app, event)
        assert response.status == 200
        assert response.text == CONFIRMATION
        assert response.headers["content-type"].startswith("text/plain")
    assert vk.calls == []


@pytest.mark.parametrize(
    "event",
    [
        {"type": "confirmation", "group_id": GROUP + 1},
        {"type": "confirmation", "group_id": GROUP, "secret": "wrong"},
        {"type": "message_new", "group_id": GROUP + 1, "secret": SECRET},
    ],
)
async def test_confirmation_needs_our_group_and_no_wrong_secret(
    vk: Emulator, agent: Agent, event: dict[str, Any]
) -> None:
    response = await post(rasa_app(channel(vk), agent), event)
    assert response.status == 403
    assert CONFIRMATION not in response.text


async def test_the_same_event_twice_is_answered_once(
    vk: Emulator, agent: Agent
) -> None:
    app = rasa_app(channel(vk), agent)
    event = message_event("привет", peer=700000106)
    for _ in range(2):
        response = await post(app, event)
        assert (response.status, response.text) == (200, "ok")
    assert len(sent_texts(vk)) == 1


async def test_without_event_id_the_message_id_dedupes(
    vk: Emulator, agent: Agent
) -> None:
    app = rasa_app(channel(vk), agent)
    event = message_event("привет", peer=700000107)
    del event["event_id"]
    assert (await post(app, event)).status == 200
    assert (await post(app, event)).status == 200
    assert len(sent_texts(vk)) == 1


@pytest.mark.parametrize(
    "body", [b"{not json", b"[]", json.dumps({"group_id": GROUP, "secret": SECRET})]
)
async def test_malformed_payload_is_a_client_error(
    vk: Emulator, agent: Agent, body: Any
) -> None:
    response = await post(rasa_app(channel(vk), agent), body)
    assert response.status == 400
    assert vk.calls == []


@pytest.mark.parametrize(
    "event",
    [
        {
            "type": "group_join",
            "event_id": "e1",
            "group_id": GROUP,
            "secret": SECRET,
            "object": {"user_id": 700000108, "join_type": "join"},
        },
        {"type": "message_typing_state", "group_id": GROUP, "secret": SECRET},
        message_event("", peer=700000108),  # a sticker or photo: no text
    ],
)
async def test_events_the_bot_does_not_answer_are_acknowledged(
    vk: Emulator, agent: Agent, event: dict[str, Any]
) -> None:
    response = await post(rasa_app(channel(vk), agent), event)
    assert (response.status, response.text) == (200, "ok")
    assert vk.calls == []


async def test_long_reply_is_split_at_sentences(vk: Emulator) -> None:
    sentence = "Это длинное предложение про доставку заказа по всей России. "
    await output(vk).send_text_message("vk:700000109", sentence * 100)
    parts = sent_texts(vk)
    assert len(parts) == 2
    assert all(len(part) <= MAX_TEXT for part in parts)
    assert all(part.endswith(".") for part in parts)
    assert " ".join(parts) == (sentence * 100).strip()
    assert len({call.form["random_id"] for call in vk.calls}) == 2


@pytest.mark.parametrize("code", [6, 10])
async def test_rate_limit_and_internal_errors_are_retried(
    vk: Emulator, code: int
) -> None:
    vk.fail_next(
        200,
        {
            "error": {
                "error_code": code,
                "error_msg": "Too many requests per second",
                "request_params": [{"key": "method", "value": "messages.send"}],
            }
        },
    )
    await output(vk, RetryPolicy(base_delay_s=0)).send_text_message(
        "vk:700000110", "привет"
    )
    assert len(vk.calls) == 2
    assert vk.calls[1].form == vk.calls[0].form  # same random_id: VK drops a repeat
    assert vk.calls[1].form["message"] == "привет"


async def test_other_api_errors_are_logged_not_retried(
    vk: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    vk.fail_next(
        200, {"error": {"error_code": 901, "error_msg": "Can't send messages"}}
    )
    with caplog.at_level(logging.ERROR):
        await output(vk, RetryPolicy(base_delay_s=0)).send_text_message(
            "vk:700000111", "привет"
        )
    assert len(vk.calls) == 1
    assert "vk.send.failed" in caplog.messages


async def test_random_ids_repeat_for_a_redelivered_event(vk: Emulator) -> None:
    first, again = (output(vk).for_delivery("vk:1:abc") for _ in range(2))
    ids = [first.random_id(5), first.random_id(5)]
    assert ids == [again.random_id(5), again.random_id(5)]
    assert ids[0] != ids[1]
    assert all(0 < i < 2**63 for i in ids)
    unbound = output(vk)
    assert unbound.random_id(5) != output(vk).random_id(5)


async def test_images_custom_json_and_long_labels(vk: Emulator) -> None:
    out = output(vk)
    await out.send_image_url("vk:700000112", "https://shop.example/p/1.jpg")
    await out.send_custom_json("vk:700000112", {"sticker_id": 9, "silent": True})
    await out.send_text_with_buttons(
        "vk:700000112",
        "",
        [
            {
                "title": "Очень длинное название кнопки про возврат товара",
                "payload": "/r",
            },
            {"title": "Сайт", "url": "https://shop.example"},
            {"title": "Длинный ответ", "payload": "/inform" + "x" * 300},
        ],
    )
    image, custom, buttons = (call.form for call in vk.calls)
    assert image["message"] == "https://shop.example/p/1.jpg"
    assert (custom["sticker_id"], custom["silent"], custom["peer_id"]) == (
        "9",
        "1",
        "700000112",
    )
    assert buttons["message"] == "…"
    rows = json.loads(buttons["keyboard"])["buttons"]
    long_label, link, no_payload = (row[0]["action"] for row in rows)
    assert len(long_label["label"]) == 40
    assert long_label["label"].endswith("…")
    assert link == {
        "type": "open_link",
        "link": "https://shop.example",
        "label": "Сайт",
    }
    assert no_payload == {"type": "text", "label": "Длинный ответ"}


def test_credentials_are_validated() -> None:
    credentials = {
        "token": TOKEN,
        "secret": SECRET,
        "confirmation": CONFIRMATION,
        "group_id": str(GROUP),
    }
    assert VKInput.from_credentials(credentials).group_id == GROUP
    with pytest.raises(ConfigError, match=r"vk\.confirmation"):
        VKInput.from_credentials({**credentials, "confirmation": ""})
    with pytest.raises(ConfigError, match=r"vk\.group_id"):
        VKInput.from_credentials({**credentials, "group_id": "club218000000"})


async def test_order_status_conversation(vk: Emulator, agent: Agent) -> None:
    app = rasa_app(channel(vk), agent)
    await post(app, message_event("где мой заказ", peer=700000113))
    assert "номер заказа" in sent_texts(vk)[-1]
    await post(app, message_event("A-10234", peer=700000113))
    assert "последние 4 цифры" in sent_texts(vk)[-1]  # order privacy
    await post(app, message_event(LAST4, peer=700000113))
    *_, status, offer = sent_texts(vk)
    assert "Заказ A-10234 в пути (" in status
    assert "Сообщать вам, когда статус заказа A-10234 изменится?" in offer
