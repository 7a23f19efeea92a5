"""WhatsApp connector against a Graph API emulator and the real agent."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage

from actions.integrations.demo_store import demo_phone
from common.http import PlatformClient, RetryPolicy
from common.security import hmac_sha256_hex
from connectors.dedupe import MemoryDedupe
from connectors.whatsapp import (
    MAX_BUTTON_TITLE,
    MAX_ROW_TITLE,
    MAX_TEXT,
    WhatsAppInput,
    WhatsAppOutput,
)
from tests.connectors.conftest import Call, Emulator, rasa_app

# The demo order's phone digits: its buyer's answer to the privacy check.
LAST4 = re.sub(r"\D", "", demo_phone("A-10234"))[-4:]

ACCESS_TOKEN = "EAAGtestACCESStokenZZZ"
APP_SECRET = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
VERIFY_TOKEN = "meatyhamhock-Verify_01"
PHONE_NUMBER_ID = "106540352242922"
API_VERSION = "v21.0"
MESSAGES = f"/{API_VERSION}/{PHONE_NUMBER_ID}/messages"
URL = "/webhooks/whatsapp/webhook"
_ids = itertools.count(1)
GREETING = (
    "Здравствуйте! Я помощник магазина Easy Flow. Подскажу, где заказ, помогу "
    "с отменой, возвратом, оплатой и доставкой, проверю наличие товара. Чем помочь?"
)


def graph_reply(call: Call) -> dict[str, Any]:
    to = (call.json or {}).get("to", "")
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": f"wamid.OUT{next(_ids)}"}],
    }


def wamid() -> str:
    return f"wamid.HBgLNzkxNjAwMDAwMDAVAgASGBQzQUFE{next(_ids):08d}AA="


def text_message(text: str, sender: str, message_id: str | None = None) -> dict:
    return {
        "from": sender,
        "id": message_id or wamid(),
        "timestamp": "1739321024",
        "type": "text",
        "text": {"body": text},
    }


def button_message(reply_id: str, sender: str, kind: str = "button_reply") -> dict:
    return {
        "context": {"from": "15550783881", "id": wamid()},
        "from": sender,
        "id": wamid(),
        "timestamp": "1739321030",
        "type": "interactive",
        "interactive": {"type": kind, kind: {"id": reply_id, "title": "Привет"}},
    }


def notification(*messages: dict[str, Any], **value: Any) -> dict[str, Any]:
    """A ``messages`` webhook notification, in one entry and one change."""
    senders = dict.fromkeys(m["from"] for m in messages)
    content = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": "15550783881",
            "phone_number_id": PHONE_NUMBER_ID,
        },
        "contacts": [{"profile": {"name": "Анна"}, "wa_id": s} for s in senders],
        "messages": list(messages),
        **value,
    }
    if not messages:
        del content["contacts"], content["messages"]
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [{"field": "messages", "value": content}],
            }
        ],
    }


@pytest.fixture
async def graph(emulator_factory: Any) -> Emulator:
    return await emulator_factory(graph_reply)


def channel(emulator: Emulator) -> WhatsAppInput:
    return WhatsAppInput(
        ACCESS_TOKEN,
        APP_SECRET,
        VERIFY_TOKEN,
        PHONE_NUMBER_ID,
        api_url=emulator.url,
        dedupe=MemoryDedupe(),
    )


def output(emulator: Emulator, retry: RetryPolicy | None = None) -> WhatsAppOutput:
    client = PlatformClient("whatsapp", emulator.url, retry=retry)
    return WhatsAppOutput(client, ACCESS_TOKEN, PHONE_NUMBER_ID, API_VERSION)


def sign(body: bytes) -> str:
    return "sha256=" + hmac_sha256_hex(APP_SECRET, body)


async def post(app: Any, payload: Any, signature: str | None = "sign") -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        signature = sign(body)
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    _, response = await app.asgi_client.post(URL, content=body, headers=headers)
    return response


def sent(emulator: Emulator) -> list[dict[str, Any]]:
    return [c.json for c in emulator.calls if c.path == MESSAGES]


def sent_texts(emulator: Emulator) -> list[str]:
    return [m["text"]["body"] for m in sent(emulator) if m["type"] == "text"]


async def test_verification_handshake_echoes_the_challenge(
    graph: Emulator, agent: Agent
) -> None:
    app = rasa_app(channel(graph), agent)
    query = {
        "hub.mode": "subscribe",
        "hub.challenge": "1158201444",
        "hub.verify_token": VERIFY_TOKEN,
    }
    _, response = await app.asgi_client.get(URL, params=query)
    assert response.status == 200
    assert response.text == "1158201444"
    assert response.content_type.startswith("text/plain")


@pytest.mark.parametrize(
    ("mode", "token"),
    [
        ("subscribe", "wrong-token"),
        ("subscribe", VERIFY_TOKEN + "x"),
        ("subscribe", None),
        ("unsubscribe", VERIFY_TOKEN),
        (None, VERIFY_TOKEN),
    ],
)
async def test_verification_with_a_bad_token_is_refused(
    graph: Emulator, agent: Agent, mode: str | None, token: str | None
) -> None:
    app = rasa_app(channel(graph), agent)
    query = {"hub.challenge": "1158201444"}
    if mode is not None:
        query["hub.mode"] = mode
    if token is not None:
        query["hub.verify_token"] = token
    _, response = await app.asgi_client.get(URL, params=query)
    assert response.status == 403
    assert "1158201444" not in response.text


async def test_message_gets_a_reply(graph: Emulator, agent: Agent) -> None:
    app = rasa_app(channel(graph), agent)
    response = await post(app, notification(text_message("привет", "79160000101")))
    assert response.status == 200
    (call,) = graph.calls
    assert call.method == "POST"
    assert call.path == MESSAGES
    assert call.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert call.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "79160000101",
        "type": "text",
        "text": {"body": GREETING},
    }


async def test_message_metadata_reaches_the_tracker(
    graph: Emulator, agent: Agent
) -> None:
    app = rasa_app(channel(graph), agent)
    message = text_message("привет", "79160000102")
    await post(app, notification(message))
    tracker = await agent.tracker_store.retrieve("whatsapp:79160000102")
    assert tracker is not None
    user = [e for e in tracker.events if e.type_name == "user"][-1]
    assert user.input_channel == "whatsapp"
    assert {
        "channel": "whatsapp",
        "display_name": "Анна",
        "phone_number_id": PHONE_NUMBER_ID,
        "message_id": message["id"],
    }.items() <= user.metadata.items()


@pytest.mark.parametrize("kind", ["button_reply", "list_reply"])
async def test_interactive_reply_sends_its_id(
    graph: Emulator, agent: Agent, kind: str
) -> None:
    app = rasa_app(channel(graph), agent)
    sender = "79160000103" if kind == "button_reply" else "79160000104"
    response = await post(app, notification(button_message("/greet", sender, kind)))
    assert response.status == 200
    assert sent_texts(graph) == [GREETING]


async def test_bot_buttons_become_reply_buttons(graph: Emulator, agent: Agent) -> None:
    app = rasa_app(channel(graph), agent)
    text = "курьер нахамил и опоздал на три часа"
    await post(app, notification(text_message(text, "79160000105")))
    interactive = [m["interactive"] for m in sent(graph) if m["type"] == "interactive"]
    assert [i["action"] for i in interactive] == [
        {
            "buttons": [
                {"type": "reply", "reply": {"id": "/affirm", "title": "Да"}},
                {"type": "reply", "reply": {"id": "/deny", "title": "Нет"}},
            ]
        }
    ]
    assert interactive[0]["type"] == "button"
    assert interactive[0]["body"]["text"]


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=",
        "sha256=" + "0" * 64,
        "sha1=" + hmac_sha256_hex(APP_SECRET, b"x"),
        "forged",
        "wrong-secret",
    ],
)
async def test_forged_or_missing_signature_is_refused(
    graph: Emulator, agent: Agent, signature: str | None
) -> None:
    app = rasa_app(channel(graph), agent)
    payload = notification(text_message("привет", "79160000106"))
    body = json.dumps(payload).encode()
    if signature == "wrong-secret":
        signature = "sha256=" + hmac_sha256_hex("another-app-secret", body)
    response = await post(app, body, signature=signature)
    assert response.status == 403
    assert graph.calls == []
    assert await agent.tracker_store.retrieve("whatsapp:79160000106") is None


async def test_signature_covers_the_raw_body(graph: Emulator, agent: Agent) -> None:
    app = rasa_app(channel(graph), agent)
    body = json.dumps(notification(text_message("привет", "79160000107"))).encode()
    tampered = body.replace(b"79160000107", b"79160000108")
    response = await post(app, tampered, signature=sign(body))
    assert response.status == 403
    assert graph.calls == []


async def test_the_same_message_twice_is_answered_once(
    graph: Emulator, agent: Agent
) -> None:
    app = rasa_app(channel(graph), agent)
    payload = notification(text_message("привет", "79160000109"))
    assert (await post(app, payload)).status == 200
    assert (await post(app, payload)).status == 200
    assert sent_texts(graph) == [GREETING]


async def test_a_batch_delivered_twice_is_answered_once_per_message(
    graph: Emulator, agent: Agent
) -> None:
    app = rasa_app(channel(graph), agent)
    first = text_message("привет", "79160000110")
    second = text_message("привет", "79160000111")
    repeated = dict(first)  # the same wamid twice inside one notification
    payload = notification(first, second, repeated)
    assert (await post(app, payload)).status == 200
    assert (await post(app, payload)).status == 200
    assert sorted(m["to"] for m in sent(graph)) == ["79160000110", "79160000111"]


async def test_a_batch_of_entries_and_changes_is_processed_in_order(
    graph: Emulator, agent: Agent
) -> None:
    app = rasa_app(channel(graph), agent)
    one = notification(text_message("привет", "79160000112"))
    two = notification(button_message("/greet", "79160000113"))
    one["entry"][0]["changes"].append(two["entry"][0]["changes"][0])
    one["entry"].append(notification(text_message("привет", "79160000114"))["entry"][0])
    assert (await post(app, one)).status == 200
    assert [m["to"] for m in sent(graph)] == [
        "79160000112",
        "79160000113",
        "79160000114",
    ]


async def test_rasa_failure_is_retried_by_meta(graph: Emulator, agent: Agent) -> None:
    app = rasa_app(channel(graph), agent)

    class FlakyAgent:
        failures = 1

        async def handle_message(self, message: UserMessage) -> Any:
            if self.failures:
                self.failures -= 1
                raise RuntimeError("tracker store is down")
            return await agent.handle_message(message)

    app.ctx.agent = FlakyAgent()
    payload = notification(text_message("привет", "79160000115"))
    assert (await post(app, payload)).status == 503
    assert graph.calls == []
    assert (await post(app, payload)).status == 200  # Meta's retry
    assert sent_texts(graph) == [GREETING]


@pytest.mark.parametrize(
    "body", [b"{not json", b"", b"[]", b'"entry"', json.dumps({"object": "x"})]
)
async def test_malformed_payload_is_a_client_error(
    graph: Emulator, agent: Agent, body: Any
) -> None:
    raw = body if isinstance(body, bytes) else body.encode()
    response = await post(rasa_app(channel(graph), agent), raw)
    assert response.status == 400
    assert graph.calls == []


async def test_status_updates_are_acknowledged(graph: Emulator, agent: Agent) -> None:
    statuses = [
        {
            "id": wamid(),
            "status": status,
            "timestamp": "1739321040",
            "recipient_id": "79160000116",
        }
        for status in ("sent", "delivered", "read")
    ]
    response = await post(
        rasa_app(channel(graph), agent), notification(statuses=statuses)
    )
    assert response.status == 200
    assert graph.calls == []


@pytest.mark.parametrize(
    "message",
    [
        {"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}},
        {"type": "unsupported", "errors": [{"code": 131051}]},
        {"type": "text", "text": {"body": "   "}},
    ],
)
async def test_kinds_the_bot_does_not_answer_are_acknowledged(
    graph: Emulator, agent: Agent, message: dict[str, Any]
) -> None:
    item = {"from": "79160000117", "id": wamid(), "timestamp": "1", **message}
    response = await post(rasa_app(channel(graph), agent), notification(item))
    assert response.status == 200
    assert graph.calls == []


async def test_messages_to_another_business_number_are_not_answered(
    graph: Emulator, agent: Agent
) -> None:
    payload = notification(text_message("привет", "79160000118"))
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    response = await post(rasa_app(channel(graph), agent), payload)
    assert response.status == 200
    assert graph.calls == []


async def test_long_reply_is_split_at_sentences(graph: Emulator) -> None:
    sentence = "Это длинное предложение про доставку заказа по всей России. "
    await output(graph).send_text_message("whatsapp:79160000119", sentence * 100)
    parts = sent_texts(graph)
    assert len(parts) == 2
    assert all(len(part) <= MAX_TEXT for part in parts)
    assert all(part.endswith(".") for part in parts)
    assert " ".join(parts) == (sentence * 100).strip()


def buttons(count: int) -> list[dict[str, str]]:
    return [
        {"title": f"Вариант номер {n} с длинным названием", "payload": f"/choose_{n}"}
        for n in range(1, count + 1)
    ]


async def test_three_buttons_become_reply_buttons(graph: Emulator) -> None:
    await output(graph).send_text_with_buttons(
        "whatsapp:79160000120", "Что сделать с заказом?", buttons(3)
    )
    (call,) = graph.calls
    assert call.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "79160000120",
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Что сделать с заказом?"},
            "action": {
                "buttons": [
                    {
                        "type": "reply",
                        "reply": {
                            "id": f"/choose_{n}",
                            "title": f"Вариант номер {n} с длинным названием"[
                                :MAX_BUTTON_TITLE
                            ],
                        },
                    }
                    for n in (1, 2, 3)
                ]
            },
        },
    }
    titles = [
        b["reply"]["title"] for b in call.json["interactive"]["action"]["buttons"]
    ]
    assert all(len(title) <= 20 for title in titles)


async def test_five_buttons_become_a_list(graph: Emulator) -> None:
    await output(graph).send_text_with_buttons(
        "whatsapp:79160000121", "Выберите пункт выдачи", buttons(5)
    )
    (call,) = graph.calls
    interactive = call.json["interactive"]
    assert call.json["type"] == "interactive"
    assert interactive["type"] == "list"
    assert interactive["body"] == {"text": "Выберите пункт выдачи"}
    action = interactive["action"]
    assert 0 < len(action["button"]) <= 20
    (section,) = action["sections"]
    assert 0 < len(section["title"]) <= 24
    assert section["rows"] == [
        {
            "id": f"/choose_{n}",
            "title": f"Вариант номер {n} с длинным названием"[:MAX_ROW_TITLE],
        }
        for n in range(1, 6)
    ]
    assert all(len(row["title"]) <= 24 for row in section["rows"])


async def test_twelve_buttons_become_numbered_text(graph: Emulator) -> None:
    await output(graph).send_text_with_buttons(
        "whatsapp:79160000122", "Выберите город:", buttons(12)
    )
    (call,) = graph.calls
    assert call.json["type"] == "text"
    lines = call.json["text"]["body"].split("\n")
    assert lines[0] == "Выберите город:"
    assert lines[2:] == [
        f"{n}. Вариант номер {n} с длинным названием" for n in range(1, 13)
    ]


async def test_long_text_with_buttons_keeps_the_body_within_limits(
    graph: Emulator,
) -> None:
    sentence = "Курьер приедет завтра с десяти до шести вечера. "
    await output(graph).send_text_with_buttons(
        "whatsapp:79160000123", sentence * 40, buttons(2)
    )
    *texts, last = sent(graph)
    assert [m["type"] for m in texts] == ["text"] * len(texts)
    assert last["type"] == "interactive"
    assert len(last["interactive"]["body"]["text"]) <= 1024
    bodies = [m["text"]["body"] for m in texts] + [last["interactive"]["body"]["text"]]
    assert " ".join(bodies) == (sentence * 40).strip()


async def test_image_is_sent_by_link(graph: Emulator) -> None:
    link = "https://shop.example/img/a-10234.jpg"
    await output(graph).send_image_url("whatsapp:79160000124", link)
    (call,) = graph.calls
    assert call.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "79160000124",
        "type": "image",
        "image": {"link": link},
    }


async def test_custom_json_is_the_message_object(graph: Emulator) -> None:
    location = {
        "type": "location",
        "location": {"latitude": 55.75, "longitude": 37.62, "name": "Пункт выдачи"},
    }
    await output(graph).send_custom_json("whatsapp:79160000125", location)
    (call,) = graph.calls
    assert call.json == {
        "messaging_product": "whatsapp",
        "to": "79160000125",
        **location,
    }


async def test_rate_limit_is_retried(graph: Emulator) -> None:
    graph.fail_next(
        429,
        {
            "error": {
                "message": "(#4) Application request limit reached",
                "type": "OAuthException",
                "code": 4,
                "fbtrace_id": "Az8or2yhqkZfEZ",
            }
        },
        {"Retry-After": "0"},
    )
    await output(graph, RetryPolicy(base_delay_s=0)).send_text_message(
        "whatsapp:79160000126", "привет"
    )
    assert len(graph.calls) == 2
    assert graph.calls[1].json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "79160000126",
        "type": "text",
        "text": {"body": "привет"},
    }


async def test_graph_errors_are_logged_and_do_not_stop_the_reply(
    graph: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    graph.fail_next(
        400,
        {
            "error": {
                "message": "(#131047) Re-engagement message",
                "type": "OAuthException",
                "code": 131047,
            }
        },
    )
    sentence = "Это длинное предложение про доставку заказа по всей России. "
    await output(graph).send_text_message("whatsapp:79160000127", sentence * 100)
    assert len(graph.calls) == 2  # the refused part is not retried; the next is sent
    failures = [r for r in caplog.records if r.getMessage() == "whatsapp.send.failed"]
    assert failures and "131047" in failures[0].body  # type: ignore[attr-defined]


def test_credentials_are_required() -> None:
    from connectors.base import ConfigError

    with pytest.raises(ConfigError, match="whatsapp.app_secret"):
        WhatsAppInput.from_credentials(
            {"access_token": "t", "verify_token": "v", "phone_number_id": "1"}
        )
    built = WhatsAppInput.from_credentials(
        {
            "access_token": "t",
            "app_secret": "s",
            "verify_token": "v",
            "phone_number_id": "1",
        }
    )
    assert (built.api_url, built.api_version) == (
        "https://graph.facebook.com",
        "v21.0",
    )


async def test_order_status_conversation(graph: Emulator, agent: Agent) -> None:
    app = rasa_app(channel(graph), agent)
    await post(app, notification(text_message("где мой заказ", "79160000128")))
    assert "номер заказа" in sent_texts(graph)[-1]
    await post(app, notification(text_message("A-10234", "79160000128")))
    # Not the order's phone: the shopper confirms its last four digits.
    assert "последние 4 цифры" in sent_texts(graph)[-1]
    await post(app, notification(text_message(LAST4, "79160000128")))
    assert "Заказ A-10234 в пути (" in sent_texts(graph)[-1]
