"""Photos, voice notes, stickers, files, locations and contacts on every messenger.

Recorded-style platform payloads (platform-protocols.md and the platforms' webhook
references) are posted to the real Sanic app with the trained agent behind it.
None is met with silence: each reaches Rasa as its caption or as the bare payload
``/shopper_sent_<kind>`` with the platform's media handle in the metadata, and the
shopper gets the reply for that kind (connectors/media.py, data/rules/media.yml).
The attacks: typed payloads with entities, another channel's media as text, and
``media`` metadata from a browser, are given no more than their words deserve.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.shared.core.events import BotUttered, UserUttered

from bot.dialogue import typed_payloads
from connectors import media
from tests.connectors import test_telegram as telegram
from tests.connectors import test_viber as viber
from tests.connectors import test_vk as vk
from tests.connectors import test_webchat as webchat
from tests.connectors import test_whatsapp as whatsapp
from tests.connectors.conftest import Emulator, rasa_app

_chats = itertools.count(556000100)

PHOTO_REPLY = "Спасибо за фото!"
FILE_REPLY = "Спасибо, файл получил!"
VOICE_REPLY = "Голосовые сообщения я пока не слушаю."
STICKER_REPLY = "😊 Чем могу помочь?"
LOCATION_REPLY = "Спасибо! Пункты выдачи"
# Someone else's contact card (its user_id is not the sender's) links nothing.
CONTACT_REPLY = "Это не ваш номер"
OFFER_HUMAN = "Хотите, позову оператора прямо сейчас?"


async def last_user(agent: Agent, sender_id: str) -> UserUttered:
    tracker = await agent.tracker_store.retrieve(sender_id)
    assert tracker is not None, sender_id
    return [e for e in tracker.events if isinstance(e, UserUttered)][-1]


async def bot_texts(agent: Agent, sender_id: str) -> list[str]:
    tracker = await agent.tracker_store.retrieve(sender_id)
    assert tracker is not None
    return [e.text for e in tracker.events if isinstance(e, BotUttered) and e.text]


# --- Telegram ---------------------------------------------------------------------


def telegram_update(chat: int, **content: Any) -> dict[str, Any]:
    return {
        "update_id": next(telegram._ids),
        "message": {
            "message_id": 201,
            "from": {
                "id": chat,
                "is_bot": False,
                "first_name": "Анна",
                "language_code": "ru",
            },
            "chat": {"id": chat, "first_name": "Анна", "type": "private"},
            "date": 1718000100,
            **content,
        },
    }


TELEGRAM_PHOTO = {
    "photo": [
        {
            "file_id": "AgACAgIAAxkBAAIBZ2ZsmallAAHk",
            "file_unique_id": "AQADs1",
            "file_size": 1370,
            "width": 90,
            "height": 67,
        },
        {
            "file_id": "AgACAgIAAxkBAAIBZ2ZmediumAAHk",
            "file_unique_id": "AQADs2",
            "file_size": 19827,
            "width": 320,
            "height": 240,
        },
        {
            "file_id": "AgACAgIAAxkBAAIBZ2ZlargeAAHk",
            "file_unique_id": "AQADs3",
            "file_size": 86311,
            "width": 1280,
            "height": 960,
        },
    ]
}
TELEGRAM_VOICE = {
    "voice": {
        "duration": 4,
        "mime_type": "audio/ogg",
        "file_id": "AwACAgIAAxkBAAIBaGZvoiceAAHk",
        "file_unique_id": "AgADv1",
        "file_size": 15360,
    }
}
TELEGRAM_STICKER = {
    "sticker": {
        "width": 512,
        "height": 512,
        "emoji": "😂",
        "set_name": "HotCherry",
        "is_animated": True,
        "is_video": False,
        "type": "regular",
        "thumbnail": {
            "file_id": "AAMCAgADGQEAAgFpZthumb",
            "file_unique_id": "AQADt0",
            "file_size": 5416,
            "width": 128,
            "height": 128,
        },
        "file_id": "CAACAgIAAxkBAAIBaWZstickerAAHk",
        "file_unique_id": "AgADs0",
        "file_size": 38913,
    }
}
TELEGRAM_DOCUMENT = {
    "document": {
        "file_name": "чек.pdf",
        "mime_type": "application/pdf",
        "file_id": "BQACAgIAAxkBAAIBamZdocAAHk",
        "file_unique_id": "AgADd1",
        "file_size": 48213,
    }
}
TELEGRAM_LOCATION = {"location": {"latitude": 55.751244, "longitude": 37.618423}}


@pytest.mark.parametrize(
    ("content", "intent", "replies", "expected"),
    [
        (
            TELEGRAM_PHOTO,
            "shopper_sent_photo",
            [PHOTO_REPLY, OFFER_HUMAN],
            {
                "kind": "photo",
                "channel": "telegram",
                "file_id": "AgACAgIAAxkBAAIBZ2ZlargeAAHk",  # the largest size
                "file_unique_id": "AQADs3",
                "size": 86311,
                "width": 1280,
                "height": 960,
            },
        ),
        (
            TELEGRAM_VOICE,
            "shopper_sent_voice",
            [VOICE_REPLY],
            {
                "kind": "voice",
                "channel": "telegram",
                "file_id": "AwACAgIAAxkBAAIBaGZvoiceAAHk",
                "file_unique_id": "AgADv1",
                "mime_type": "audio/ogg",
                "size": 15360,
                "duration": 4,
            },
        ),
        (
            TELEGRAM_STICKER,
            "shopper_sent_sticker",
            [STICKER_REPLY],
            {
                "kind": "sticker",
                "channel": "telegram",
                "file_id": "CAACAgIAAxkBAAIBaWZstickerAAHk",
                "file_unique_id": "AgADs0",
                "size": 38913,
                "width": 512,
                "height": 512,
                "emoji": "😂",
            },
        ),
        (
            TELEGRAM_DOCUMENT,
            "shopper_sent_document",
            [FILE_REPLY, OFFER_HUMAN],
            {
                "kind": "document",
                "channel": "telegram",
                "file_id": "BQACAgIAAxkBAAIBamZdocAAHk",
                "file_unique_id": "AgADd1",
                "mime_type": "application/pdf",
                "size": 48213,
                "file_name": "чек.pdf",
            },
        ),
        (
            TELEGRAM_LOCATION,
            "shopper_sent_location",
            [LOCATION_REPLY],
            {
                "kind": "location",
                "channel": "telegram",
                "latitude": 55.751244,
                "longitude": 37.618423,
            },
        ),
        (
            {
                "contact": {
                    "phone_number": "79161234567",
                    "first_name": "Анна",
                    "user_id": 556000999,
                }
            },
            "shopper_sent_contact",
            [CONTACT_REPLY],
            {
                "kind": "contact",
                "channel": "telegram",
                "phone_number": "79161234567",
                "user_id": 556000999,
                "first_name": "Анна",
                "own": False,
            },
        ),
    ],
    ids=["photo", "voice", "sticker", "document", "location", "contact"],
)
async def test_telegram_media_get_their_reply(
    emulator_factory: Any,
    agent: Agent,
    content: dict[str, Any],
    intent: str,
    replies: list[str],
    expected: dict[str, Any],
) -> None:
    emulator: Emulator = await emulator_factory(telegram.telegram_reply)
    app = rasa_app(telegram.channel(emulator), agent)
    chat = next(_chats)

    response = await telegram.post(app, telegram_update(chat, **content))

    assert response.status == 200
    sent = telegram.sent_texts(emulator)
    assert len(sent) == len(replies)
    for text, start in zip(sent, replies, strict=True):
        assert text.startswith(start), text
    user = await last_user(agent, f"telegram:{chat}")
    assert user.intent_name == intent
    assert user.text == f"/{intent}"
    assert user.entities == []
    assert user.metadata["media"] == [expected]


async def test_a_telegram_photo_with_a_caption_is_read_as_its_caption(
    telegram_emulator: Emulator, agent: Agent
) -> None:
    app = rasa_app(telegram.channel(telegram_emulator), agent)
    chat = next(_chats)
    update = telegram_update(chat, caption="где мой заказ A-10234", **TELEGRAM_PHOTO)

    assert (await telegram.post(app, update)).status == 200

    user = await last_user(agent, f"telegram:{chat}")
    assert user.text == "где мой заказ A-10234"
    assert user.intent_name == "order_status"
    assert user.metadata["media"][0]["file_id"] == "AgACAgIAAxkBAAIBZ2ZlargeAAHk"
    # Privacy on by default: the order question goes on with the digits.
    assert any("4 цифры" in t for t in telegram.sent_texts(telegram_emulator))


@pytest.mark.parametrize(
    ("content", "kind", "intent"),
    [
        (
            {
                "video": {
                    "duration": 7,
                    "width": 720,
                    "height": 1280,
                    "mime_type": "video/mp4",
                    "file_id": "BAACAgIAAxkBAAIBbGZvideoAAHk",
                    "file_unique_id": "AgADw1",
                    "file_size": 1834221,
                }
            },
            "video",
            "shopper_sent_document",
        ),
        (
            {
                "animation": {
                    "file_name": "cat.mp4",
                    "mime_type": "video/mp4",
                    "duration": 3,
                    "width": 320,
                    "height": 240,
                    "file_id": "CgACAgIAAxkBAAIBbWZgifAAHk",
                    "file_unique_id": "AgADg1",
                    "file_size": 99123,
                },
                "document": {
                    "file_name": "cat.mp4",
                    "mime_type": "video/mp4",
                    "file_id": "CgACAgIAAxkBAAIBbWZgifAAHk",
                    "file_unique_id": "AgADg1",
                    "file_size": 99123,
                },
            },
            "sticker",
            "shopper_sent_sticker",
        ),
        (
            {
                "document": {
                    "file_name": "IMG_2041.JPG",
                    "mime_type": "image/jpeg",
                    "file_id": "BQACAgIAAxkBAAIBbmZimgAAHk",
                    "file_unique_id": "AgADi1",
                    "file_size": 2481211,
                }
            },
            "photo",
            "shopper_sent_photo",
        ),
    ],
    ids=["video", "gif", "photo-as-file"],
)
async def test_telegram_video_gif_and_uncompressed_photo(
    telegram_emulator: Emulator,
    agent: Agent,
    content: dict[str, Any],
    kind: str,
    intent: str,
) -> None:
    app = rasa_app(telegram.channel(telegram_emulator), agent)
    chat = next(_chats)

    assert (await telegram.post(app, telegram_update(chat, **content))).status == 200

    user = await last_user(agent, f"telegram:{chat}")
    assert user.intent_name == intent
    assert [m["kind"] for m in user.metadata["media"]] == [kind]
    assert telegram.sent_texts(telegram_emulator)


@pytest.fixture
async def telegram_emulator(emulator_factory: Any) -> Emulator:
    return await emulator_factory(telegram.telegram_reply)


# --- VK ---------------------------------------------------------------------------

VK_PHOTO = {
    "type": "photo",
    "photo": {
        "album_id": -3,
        "date": 1718000100,
        "id": 457239017,
        "owner_id": 700200001,
        "access_key": "a1b2c3d4e5f6",
        "sizes": [
            {
                "height": 75,
                "type": "s",
                "width": 56,
                "url": "https://sun9-1.userapi.com/impg/s.jpg",
            },
            {
                "height": 1280,
                "type": "w",
                "width": 960,
                "url": "https://sun9-1.userapi.com/impg/w.jpg",
            },
            {
                "height": 604,
                "type": "x",
                "width": 453,
                "url": "https://sun9-1.userapi.com/impg/x.jpg",
            },
        ],
        "text": "",
        "has_tags": False,
    },
}
VK_AUDIO_MESSAGE = {
    "type": "audio_message",
    "audio_message": {
        "duration": 3,
        "id": 456239020,
        "link_mp3": "https://psv4.userapi.com/c1/u700200002/audiomsg/d1/a.mp3",
        "link_ogg": "https://psv4.userapi.com/c1/u700200002/audiomsg/d1/a.ogg",
        "owner_id": 700200002,
        "access_key": "9f8e7d6c5b",
        "waveform": [0, 3, 9, 14, 20, 17, 10, 4, 0],
    },
}


def vk_event(peer: int, *attachments: dict[str, Any], text: str = "") -> dict:
    event = vk.message_event(text, peer)
    event["object"]["message"]["attachments"] = list(attachments)
    return event


@pytest.mark.parametrize(
    ("attachment", "peer", "intent", "replies", "expected"),
    [
        (
            VK_PHOTO,
            700200001,
            "shopper_sent_photo",
            [PHOTO_REPLY, OFFER_HUMAN],
            {
                "kind": "photo",
                "channel": "vk",
                "file_id": "photo700200001_457239017_a1b2c3d4e5f6",
                "url": "https://sun9-1.userapi.com/impg/w.jpg",
                "vk_type": "photo",
                "width": 960,
                "height": 1280,
            },
        ),
        (
            VK_AUDIO_MESSAGE,
            700200002,
            "shopper_sent_voice",
            [VOICE_REPLY],
            {
                "kind": "voice",
                "channel": "vk",
                "file_id": "audio_message700200002_456239020_9f8e7d6c5b",
                "url": "https://psv4.userapi.com/c1/u700200002/audiomsg/d1/a.ogg",
                "vk_type": "audio_message",
                "duration": 3,
            },
        ),
    ],
    ids=["photo", "audio_message"],
)
async def test_vk_photo_and_voice_get_their_reply(
    emulator_factory: Any,
    agent: Agent,
    attachment: dict[str, Any],
    peer: int,
    intent: str,
    replies: list[str],
    expected: dict[str, Any],
) -> None:
    emulator: Emulator = await emulator_factory(vk.vk_reply)
    app = rasa_app(vk.channel(emulator), agent)

    response = await vk.post(app, vk_event(peer, attachment))

    assert response.status == 200
    assert response.text == "ok"
    sent = vk.sent_texts(emulator)
    assert len(sent) == len(replies)
    for text, start in zip(sent, replies, strict=True):
        assert text.startswith(start), text
    user = await last_user(agent, f"vk:{peer}")
    assert user.intent_name == intent
    assert user.metadata["media"] == [expected]


async def test_a_vk_photo_with_text_is_read_as_the_text(
    emulator_factory: Any, agent: Agent
) -> None:
    emulator: Emulator = await emulator_factory(vk.vk_reply)
    app = rasa_app(vk.channel(emulator), agent)
    peer = 700200003

    event = vk_event(peer, VK_PHOTO, text="пришла разбитая кружка, хочу вернуть")
    assert (await vk.post(app, event)).status == 200

    user = await last_user(agent, f"vk:{peer}")
    assert user.text == "пришла разбитая кружка, хочу вернуть"
    assert user.intent_name != "shopper_sent_photo"
    assert user.metadata["media"][0]["kind"] == "photo"
    assert vk.sent_texts(emulator)


# --- WhatsApp ---------------------------------------------------------------------


def wa_item(sender: str, kind: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "from": sender,
        "id": whatsapp.wamid(),
        "timestamp": "1739321100",
        "type": kind,
        kind: content,
    }


WA_IMAGE = {
    "mime_type": "image/jpeg",
    "sha256": "ldhFxpOOU4A0ZJ3iqhyN9pMxd7jRsmvJRdySRaaSZSo=",
    "id": "1013859600285441",
}
WA_VOICE = {
    "mime_type": "audio/ogg; codecs=opus",
    "sha256": "m0Cr6EF3fDz1xSB9eOmtyt2Ox71EqpbXMeJ4aGPOiQo=",
    "id": "1246701116458122",
    "voice": True,
}


@pytest.mark.parametrize(
    ("kind", "content", "phone", "intent", "replies", "expected"),
    [
        (
            "image",
            WA_IMAGE,
            "79160000201",
            "shopper_sent_photo",
            [PHOTO_REPLY, OFFER_HUMAN],
            {
                "kind": "photo",
                "channel": "whatsapp",
                "file_id": "1013859600285441",
                "mime_type": "image/jpeg",
                "sha256": "ldhFxpOOU4A0ZJ3iqhyN9pMxd7jRsmvJRdySRaaSZSo=",
            },
        ),
        (
            "audio",
            WA_VOICE,
            "79160000202",
            "shopper_sent_voice",
            [VOICE_REPLY],
            {
                "kind": "voice",
                "channel": "whatsapp",
                "file_id": "1246701116458122",
                "mime_type": "audio/ogg; codecs=opus",
                "sha256": "m0Cr6EF3fDz1xSB9eOmtyt2Ox71EqpbXMeJ4aGPOiQo=",
            },
        ),
    ],
    ids=["image", "voice"],
)
async def test_whatsapp_image_and_voice_get_their_reply(
    emulator_factory: Any,
    agent: Agent,
    kind: str,
    content: dict[str, Any],
    phone: str,
    intent: str,
    replies: list[str],
    expected: dict[str, Any],
) -> None:
    graph: Emulator = await emulator_factory(whatsapp.graph_reply)
    app = rasa_app(whatsapp.channel(graph), agent)

    payload = whatsapp.notification(wa_item(phone, kind, content))
    response = await whatsapp.post(app, payload)

    assert response.status == 200
    sent = whatsapp.sent(graph)
    texts = [
        m["text"]["body"] if m["type"] == "text" else m["interactive"]["body"]["text"]
        for m in sent
    ]
    assert len(texts) == len(replies)
    for text, start in zip(texts, replies, strict=True):
        assert text.startswith(start), text
    user = await last_user(agent, f"whatsapp:{phone}")
    assert user.intent_name == intent
    assert user.metadata["media"] == [expected]


async def test_a_whatsapp_image_caption_is_read_as_text(
    emulator_factory: Any, agent: Agent
) -> None:
    graph: Emulator = await emulator_factory(whatsapp.graph_reply)
    app = rasa_app(whatsapp.channel(graph), agent)
    phone = "79160000203"

    captioned = {**WA_IMAGE, "caption": "позовите оператора"}
    payload = whatsapp.notification(wa_item(phone, "image", captioned))
    assert (await whatsapp.post(app, payload)).status == 200

    user = await last_user(agent, f"whatsapp:{phone}")
    assert user.text == "позовите оператора"
    assert user.intent_name == "human_handoff"
    assert user.metadata["media"][0]["file_id"] == "1013859600285441"


# --- Viber ------------------------------------------------------------------------


async def test_a_viber_picture_gets_its_reply(
    emulator_factory: Any, agent: Agent
) -> None:
    emulator: Emulator = await emulator_factory(viber.viber_reply)
    app = rasa_app(viber.channel(emulator), agent)
    user_id = "vb-media-0001=="
    event = viber.text_event("", user_id)
    event["message"] = {
        "type": "picture",
        "text": "",
        "media": "https://dl-media.viber.com/1/share/2/long/vibes/image/0x0/95e0.jpg",
        "thumbnail": "https://dl-media.viber.com/1/share/2/long/vibes/thumb/95e0.jpg",
        "file_name": "photo.jpg",
        "size": 95012,
        "tracking_data": "flow=support",
    }

    response = await viber.post(app, event)

    assert response.status == 200
    sent = viber.sent_texts(emulator)
    assert len(sent) == 2
    assert sent[0].startswith(PHOTO_REPLY)
    assert sent[1].startswith(OFFER_HUMAN)
    user = await last_user(agent, f"viber:{user_id}")
    assert user.intent_name == "shopper_sent_photo"
    assert user.metadata["media"] == [
        {
            "kind": "photo",
            "channel": "viber",
            "url": "https://dl-media.viber.com/1/share/2/long/vibes/image/0x0/95e0.jpg",
            "size": 95012,
            "file_name": "photo.jpg",
        }
    ]


async def test_a_viber_sticker_gets_a_friendly_reply(
    emulator_factory: Any, agent: Agent
) -> None:
    emulator: Emulator = await emulator_factory(viber.viber_reply)
    app = rasa_app(viber.channel(emulator), agent)
    user_id = "vb-media-0002=="
    event = viber.text_event("", user_id)
    event["message"] = {"type": "sticker", "sticker_id": 46105}

    assert (await viber.post(app, event)).status == 200

    assert viber.sent_texts(emulator) == [STICKER_REPLY]
    user = await last_user(agent, f"viber:{user_id}")
    assert user.metadata["media"] == [
        {"kind": "sticker", "channel": "viber", "sticker_id": 46105}
    ]


# --- In a form --------------------------------------------------------------------


async def test_a_photo_while_the_bot_asks_which_product_is_not_the_product(
    telegram_emulator: Emulator, agent: Agent
) -> None:
    app = rasa_app(telegram.channel(telegram_emulator), agent)
    chat = next(_chats)
    await telegram.post(app, telegram.text_update("есть в наличии?", chat))
    asked = telegram.sent_texts(telegram_emulator)[-1]

    await telegram.post(app, telegram_update(chat, **TELEGRAM_PHOTO))

    tracker = await agent.tracker_store.retrieve(f"telegram:{chat}")
    assert tracker is not None
    assert tracker.get_slot("product") is None
    assert tracker.active_loop_name == "product_form"
    replies = telegram.sent_texts(telegram_emulator)
    assert replies[-2].startswith("Спасибо! Вложения и голосовые я пока не разбираю")
    assert replies[-1] == asked  # and the question again


# --- Attacks ----------------------------------------------------------------------


async def test_a_typed_media_payload_with_entities_is_text(
    telegram_emulator: Emulator, agent: Agent
) -> None:
    app = rasa_app(telegram.channel(telegram_emulator), agent)
    chat = next(_chats)
    typed = '/shopper_sent_photo{"x":1}'

    assert (await telegram.post(app, telegram.text_update(typed, chat))).status == 200

    user = await last_user(agent, f"telegram:{chat}")
    assert user.text == typed
    assert user.intent_name != "shopper_sent_photo"
    assert all(e.get("extractor") != "RegexMessageHandler" for e in user.entities)
    assert "media" not in user.metadata


async def test_a_typed_bare_media_payload_carries_no_media(
    telegram_emulator: Emulator, agent: Agent
) -> None:
    """Typing what a photo sends gets the photo's reply, as words would, and no
    file: nothing a later step could fetch."""
    app = rasa_app(telegram.channel(telegram_emulator), agent)
    chat = next(_chats)

    await telegram.post(app, telegram.text_update("/shopper_sent_photo", chat))

    user = await last_user(agent, f"telegram:{chat}")
    assert user.intent_name == "shopper_sent_photo"
    assert "media" not in user.metadata
    assert telegram.sent_texts(telegram_emulator)[0].startswith(PHOTO_REPLY)


@pytest.mark.parametrize(
    "typed",
    [
        json.dumps({"type": "image", "image": WA_IMAGE}),
        json.dumps(TELEGRAM_PHOTO),
        json.dumps({"attachments": [VK_PHOTO]}),
        "/shopper_sent_voice@0.9",
        '/shopper_sent_contact{"phone_number":"79161234567"}',
    ],
    ids=["whatsapp-image", "telegram-photo", "vk-photo", "confidence", "entities"],
)
async def test_another_channels_media_typed_as_text_is_text(
    telegram_emulator: Emulator, agent: Agent, typed: str
) -> None:
    app = rasa_app(telegram.channel(telegram_emulator), agent)
    chat = next(_chats)

    assert (await telegram.post(app, telegram.text_update(typed, chat))).status == 200

    user = await last_user(agent, f"telegram:{chat}")
    assert user.text == typed
    assert "media" not in user.metadata
    assert user.intent_name not in typed_payloads.MEDIA_INTENTS
    assert not user.entities or all(
        e.get("extractor") != "RegexMessageHandler" for e in user.entities
    )
    assert telegram.sent_texts(telegram_emulator)  # answered, as words


async def test_a_browser_cannot_attach_media_metadata(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EASYFLOW_REDIS_URL", raising=False)
    forged = [{"kind": "photo", "channel": "telegram", "file_id": "AgACstolen"}]
    async with webchat.serving(agent, webchat.CREDENTIALS) as (url, channel):
        widget = await webchat.connect(url)
        try:
            await widget.client.emit(
                "user_uttered",
                {
                    "message": "/shopper_sent_photo",
                    "session_id": widget.session_id,
                    channel.metadata_key: {"media": forged, "page": "/cart"},
                },
            )
            await asyncio.wait_for(widget.received.get(), 30)
        finally:
            await webchat.hang_up(widget.client)
        user = await last_user(agent, widget.session_id)
    assert user.intent_name == "shopper_sent_photo"
    assert "media" not in user.metadata
    assert user.metadata.get("page") == "/cart"


# --- Units ------------------------------------------------------------------------


def test_media_intents_are_bare_shopper_intents() -> None:
    assert media.MEDIA_INTENTS == typed_payloads.MEDIA_INTENTS
    assert typed_payloads.MEDIA_INTENTS <= typed_payloads.SHOPPER_INTENTS
    for kind in media.Kind:
        assert typed_payloads.screen(media.payload(kind), frozenset()).verdict == (
            "allowed"
        )
        assert typed_payloads.screen(
            media.payload(kind) + "{}", frozenset()
        ).verdict == ("refused")


def test_updates_without_text_or_media_are_still_ignored() -> None:
    channel = telegram.TelegramInput(telegram.TOKEN, telegram.SECRET)
    assert channel.parse(telegram_update(1, text="   ")) is None
    assert channel.parse(telegram_update(1, photo=[])) is None
    assert channel.parse(telegram_update(1, voice={"file_id": ""})) is None
    assert channel.parse(telegram_update(1, caption="   ")) is None
    unique = str(uuid.uuid4())
    assert channel.parse(telegram_update(1, poll={"id": unique})) is None


async def test_yes_after_a_photo_calls_an_operator(
    telegram_emulator: Emulator, agent: Agent
) -> None:
    app = rasa_app(telegram.channel(telegram_emulator), agent)
    chat = next(_chats)
    await telegram.post(app, telegram_update(chat, **TELEGRAM_PHOTO))
    assert telegram.sent_texts(telegram_emulator)[-1] == OFFER_HUMAN

    await telegram.post(app, telegram.button_update("/affirm", chat))

    assert "Передаю разговор оператору" in telegram.sent_texts(telegram_emulator)[-1]
