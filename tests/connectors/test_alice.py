"""Alice connector: Yandex Dialogs requests posted to the real app and agent."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from rasa.core.agent import Agent, load_agent
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.events import UserUttered
from rasa.utils.endpoints import EndpointConfig

from actions.integrations.demo_store import demo_phone
from connectors.alice import AliceInput
from connectors.alice_deadline import STILL_WORKING
from connectors.alice_replies import MAX_TEXT, AliceOutput, render
from connectors.base import ConfigError
from connectors.dedupe import MemoryDedupe
from tests.connectors.conftest import MODEL, free_port, rasa_app
from tests.servers import action_endpoint

# The demo order's phone digits: its buyer's answer to the privacy check.
LAST4 = re.sub(r"\D", "", demo_phone("A-10234"))[-4:]

SKILL_ID = "3ad36498-f5rd-4079-a14b-788652932056"
URL = "/webhooks/alice/webhook"
SLOW_ACTION_S = 2.0


def new_session_id() -> str:
    raw = uuid.uuid4().hex
    return f"{raw[:8]}-{raw[8:16]}-{raw[16:24]}-{raw[24:29]}"


def alice_request(
    text: str = "",
    *,
    session_id: str,
    message_id: int = 0,
    new: bool = False,
    skill_id: str | None = SKILL_ID,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A request as Yandex Dialogs sends it (platform-protocols.md, section 5)."""
    if payload is None:
        request: dict[str, Any] = {
            "command": " ".join(text.lower().strip("?!.").split()),
            "original_utterance": text,
            "type": "SimpleUtterance",
            "markup": {"dangerous_context": False},
            "payload": {},
            "nlu": {"tokens": text.lower().split(), "entities": [], "intents": {}},
        }
    else:  # a press on a button we sent: title tokens and the button's payload
        request = {
            "nlu": {"tokens": ["да"], "entities": [], "intents": {}},
            "payload": payload,
            "type": "ButtonPressed",
        }
    session: dict[str, Any] = {
        "message_id": message_id,
        "session_id": session_id,
        "skill_id": skill_id,
        "user": {"user_id": "6C91DA5198D1758C6A9F63A7C5CDDF09359F683B13A18A151FBF4C"},
        "application": {"application_id": "47C73714B580ED2469056E71081159529FFC6"},
        "new": new,
    }
    if skill_id is None:
        del session["skill_id"]
    return {
        "meta": {
            "locale": "ru-RU",
            "timezone": "Europe/Moscow",
            "client_id": "ru.yandex.searchplugin/7.16 (none none; android 4.4.2)",
            "interfaces": {"screen": {}, "payments": {}, "account_linking": {}},
        },
        "session": session,
        "request": request,
        "state": {"session": {}, "user": {}, "application": {}},
        "version": "1.0",
    }


async def post(app: Any, body: Any) -> Any:
    raw = body if isinstance(body, bytes | str) else json.dumps(body)
    _, response = await app.asgi_client.post(
        URL, content=raw, headers={"Content-Type": "application/json"}
    )
    return response


@dataclass
class Dialog:
    """One Alice session: message ids count up from 0, the first one is new."""

    app: Any
    session_id: str = field(default_factory=new_session_id)
    message_id: int = -1

    async def say(self, text: str = "", **kwargs: Any) -> dict[str, Any]:
        self.message_id += 1
        body = alice_request(
            text,
            session_id=self.session_id,
            message_id=self.message_id,
            new=self.message_id == 0,
            **kwargs,
        )
        response = await post(self.app, body)
        assert response.status == 200, response.text
        return response.json

    @property
    def sender_id(self) -> str:
        return f"alice:{self.session_id}"


def channel(deadline_s: float = 2.5, dedupe: Any = None) -> AliceInput:
    return AliceInput(SKILL_ID, deadline_s=deadline_s, dedupe=dedupe or MemoryDedupe())


def still_working_text(agent: Agent, language: str | None = None) -> str:
    for variation in agent.domain.responses[STILL_WORKING]:
        conditions = variation.get("condition") or []
        if [c.get("value") for c in conditions] == ([language] if language else []):
            return variation["text"]
    raise AssertionError(f"{STILL_WORKING} has no variation for {language}")


async def user_texts(agent: Agent, sender_id: str) -> list[str]:
    tracker = await agent.tracker_store.retrieve(sender_id)
    if tracker is None:
        return []
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


async def test_new_session_is_greeted_from_the_domain(agent: Agent) -> None:
    dialog = Dialog(rasa_app(channel(), agent))
    reply = await dialog.say("")
    assert reply["version"] == "1.0"
    assert reply["response"]["text"].startswith("Здравствуйте!")
    assert reply["response"]["tts"] == reply["response"]["text"]
    assert reply["response"]["end_session"] is False
    assert await user_texts(agent, dialog.sender_id) == ["/greet"]


async def test_text_gets_reply_text_and_tts(agent: Agent) -> None:
    dialog = Dialog(rasa_app(channel(), agent))
    await dialog.say("")
    reply = await dialog.say("как можно оплатить?")
    assert reply["response"]["text"]
    assert reply["response"]["tts"]
    assert "http" not in reply["response"]["tts"]
    assert reply["response"]["end_session"] is False


async def test_links_are_not_spoken(agent: Agent, monkeypatch: Any) -> None:
    monkeypatch.setitem(
        agent.nlg.responses,
        "utter_greet",
        [{"text": "Правила возврата: https://shop.example/returns — там всё."}],
    )
    reply = await Dialog(rasa_app(channel(), agent)).say("")
    assert reply["response"]["text"] == (
        "Правила возврата: https://shop.example/returns — там всё."
    )
    assert reply["response"]["tts"] == "Правила возврата: — там всё."


async def test_channel_variations_apply(agent: Agent, monkeypatch: Any) -> None:
    greetings = [
        {"text": "Здравствуйте! Напишите, чем помочь."},
        {"text": "Здравствуйте! Скажите, чем помочь.", "channel": "alice"},
    ]
    monkeypatch.setitem(agent.nlg.responses, "utter_greet", greetings)
    reply = await Dialog(rasa_app(channel(), agent)).say("")
    assert reply["response"]["text"] == "Здравствуйте! Скажите, чем помочь."


async def test_buttons_become_suggest_chips_and_a_press_sends_the_payload(
    agent: Agent,
) -> None:
    dialog = Dialog(rasa_app(channel(), agent))
    await dialog.say("")
    reply = await dialog.say("курьер нахамил и опоздал на три часа")
    assert reply["response"]["buttons"] == [
        {"title": "Да", "payload": {"payload": "/affirm"}, "hide": True},
        {"title": "Нет", "payload": {"payload": "/deny"}, "hide": True},
    ]
    await dialog.say(payload={"payload": "/affirm"})
    assert (await user_texts(agent, dialog.sender_id))[-1] == "/affirm"


async def test_button_press_with_our_payload_reaches_rasa(agent: Agent) -> None:
    dialog = Dialog(rasa_app(channel(), agent))
    await dialog.say("где мой заказ")
    reply = await dialog.say(payload={"payload": "/greet"})
    assert reply["response"]["text"].startswith("Здравствуйте!")


@pytest.mark.parametrize("skill_id", [None, "", "wrong-skill", SKILL_ID + "x"])
async def test_wrong_or_missing_skill_id_is_refused(
    agent: Agent, skill_id: str | None
) -> None:
    session_id = new_session_id()
    body = alice_request("привет", session_id=session_id, skill_id=skill_id)
    response = await post(rasa_app(channel(), agent), body)
    assert response.status == 403
    assert await user_texts(agent, f"alice:{session_id}") == []


async def test_ping_is_answered_at_once_without_rasa(
    agent: Agent, monkeypatch: Any
) -> None:
    async def must_not_run(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("ping reached Rasa")

    monkeypatch.setattr(agent, "handle_message", must_not_run)
    session_id = new_session_id()
    body = alice_request("ping", session_id=session_id, new=True)
    body["request"]["command"] = ""  # as Yandex's check sends it
    started = time.monotonic()
    response = await post(rasa_app(channel(), agent), body)
    assert time.monotonic() - started < 0.5
    assert response.status == 200
    assert response.json["response"]["text"]
    assert response.json["response"]["end_session"] is False


async def test_a_retry_is_processed_once_and_gets_the_same_response(
    agent: Agent,
) -> None:
    app = rasa_app(channel(), agent)
    session_id = new_session_id()
    body = alice_request("привет", session_id=session_id, new=True)
    first, second = await post(app, body), await post(app, body)
    assert first.status == second.status == 200
    assert second.json == first.json
    assert first.json["response"]["text"].startswith("Здравствуйте!")
    assert await user_texts(agent, f"alice:{session_id}") == ["привет"]


async def test_a_retry_claimed_elsewhere_is_acknowledged(agent: Agent) -> None:
    dedupe = MemoryDedupe()
    session_id = new_session_id()
    await dedupe.claim(f"alice:{session_id}:0")  # e.g. by another replica
    body = alice_request("привет", session_id=session_id, new=True)
    response = await post(rasa_app(channel(dedupe=dedupe), agent), body)
    assert response.status == 200
    assert response.json["response"]["text"] == still_working_text(agent)
    assert await user_texts(agent, f"alice:{session_id}") == []


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        json.dumps({"session": {"skill_id": SKILL_ID}}),
        json.dumps(
            {
                "session": {"skill_id": SKILL_ID, "session_id": "s-1"},
                "request": {"type": "SimpleUtterance", "original_utterance": "hi"},
            }
        ),
    ],
)
async def test_malformed_request_is_a_client_error(agent: Agent, body: Any) -> None:
    response = await post(rasa_app(channel(), agent), body)
    assert response.status == 400


async def test_goodbye_ends_the_session(agent: Agent) -> None:
    dialog = Dialog(rasa_app(channel(), agent))
    await dialog.say("")
    reply = await dialog.say("пока")
    assert reply["response"]["text"].startswith("Всего доброго!")
    assert reply["response"]["end_session"] is True


async def test_long_text_is_cut_at_a_sentence(agent: Agent, monkeypatch: Any) -> None:
    sentence = "Это длинное предложение про доставку заказа по всей России."
    long_text = " ".join([sentence] * 40)
    monkeypatch.setitem(agent.nlg.responses, "utter_greet", [{"text": long_text}])
    reply = await Dialog(rasa_app(channel(), agent)).say("")
    text, tts = reply["response"]["text"], reply["response"]["tts"]
    assert len(long_text) > MAX_TEXT
    assert MAX_TEXT - len(sentence) <= len(text) <= MAX_TEXT
    assert long_text.startswith(text) and text.endswith(".")
    assert len(tts) <= 1024 and tts.endswith(".")


async def test_order_status_conversation(agent: Agent) -> None:
    dialog = Dialog(rasa_app(channel(), agent))
    await dialog.say("")
    assert "номер заказа" in (await dialog.say("где мой заказ"))["response"]["text"]
    assert "последние 4 цифры" in (await dialog.say("A-10234"))["response"]["text"]
    reply = await dialog.say(LAST4)
    assert "Заказ A-10234 в пути" in reply["response"]["text"]
    assert "Заказ A-10234 в пути" in reply["response"]["tts"]


@dataclass
class SlowActions:
    """Forwards to the real action server after ``delay_s``; records actions."""

    target: str
    delay_s: float = SLOW_ACTION_S
    actions: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.actions.append(json.loads(body).get("next_action", ""))
        await asyncio.sleep(self.delay_s)
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                self.target,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "Authorization": request.headers.get("Authorization", ""),
                },
            ) as answer,
        ):
            return web.Response(
                body=await answer.read(),
                status=answer.status,
                content_type="application/json",
            )


@pytest.fixture(scope="module")
def slow_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def slow_agent(slow_port: int, action_server: str) -> Agent:
    """The trained model with its action endpoint on the slow server."""
    endpoints = AvailableEndpoints(
        action=action_endpoint(f"http://127.0.0.1:{slow_port}/webhook"),
        nlg=EndpointConfig(
            type="bot.dialogue.nlg.LanguageAwareNLG", action_timeout_s=5
        ),
    )
    return asyncio.run(load_agent(model_path=str(MODEL), endpoints=endpoints))


@pytest.fixture
async def slow_actions(slow_port: int, action_server: str) -> AsyncIterator[Any]:
    slow = SlowActions(action_server)
    app = web.Application()
    app.router.add_post("/webhook", slow.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", slow_port).start()
    yield slow
    await runner.cleanup()


async def ask_until_answered(dialog: Dialog, text: str, waiting: str) -> str:
    """Asks again, as the "still working" reply suggests, until the answer comes."""
    for _ in range(15):
        await asyncio.sleep(1.0)
        reply = (await dialog.say(text))["response"]["text"]
        if reply != waiting:
            return reply
    raise AssertionError("the slow answer never came")


async def test_slow_turn_is_answered_in_time_and_delivered_next(
    slow_agent: Agent, slow_actions: SlowActions
) -> None:
    deadline_s = 1.0
    dialog = Dialog(rasa_app(channel(deadline_s=deadline_s), slow_agent))
    waiting = still_working_text(slow_agent)
    started = time.monotonic()
    reply = await dialog.say("где мой заказ A-10234")
    assert time.monotonic() - started < deadline_s + 0.3
    assert reply["response"]["text"] == waiting
    assert reply["response"]["end_session"] is False

    answer = await ask_until_answered(dialog, "где мой заказ A-10234", waiting)
    # The slow turn's answer: the order form's privacy check.
    assert "последние 4 цифры" in answer
    # The repeated questions were answered from the first turn, not processed.
    assert slow_actions.actions.count("validate_order_form") == 1
    texts = await user_texts(slow_agent, dialog.sender_id)
    assert texts == ["где мой заказ A-10234"]


async def test_slow_turn_in_english_gets_the_english_wording(
    slow_agent: Agent, slow_actions: SlowActions
) -> None:
    dialog = Dialog(rasa_app(channel(deadline_s=1.0), slow_agent))
    waiting = still_working_text(slow_agent, "en")
    reply = await dialog.say("where is my order A-10234")
    assert reply["response"]["text"] == waiting
    answer = await ask_until_answered(dialog, "where is my order A-10234", waiting)
    assert "last 4 digits" in answer


async def test_custom_json_sets_tts_and_ends_the_session() -> None:
    output = AliceOutput()
    await output.send_response(
        "alice:s-1",
        {"text": "Заказ 4512 отменён.", "utter_action": "utter_order_cancelled"},
    )
    await output.send_response(
        "alice:s-1",
        {"custom": {"tts": "Д+о свидания!", "end_session": True}, "text": None},
    )
    response = render(output.messages)["response"]
    assert response["text"] == "Заказ 4512 отменён."
    assert response["tts"] == "Заказ 4512 отменён. Д+о свидания!"
    assert response["end_session"] is True


def test_credentials() -> None:
    assert AliceInput.from_credentials({"skill_id": SKILL_ID}).deadline_s == 2.5
    assert AliceInput.from_credentials(
        {"skill_id": SKILL_ID, "deadline_s": "1.5"}
    ).deadline_s == pytest.approx(1.5)
    with pytest.raises(ConfigError, match="alice.skill_id"):
        AliceInput.from_credentials({"deadline_s": 2})
    with pytest.raises(ConfigError, match="alice.deadline_s"):
        AliceInput.from_credentials({"skill_id": SKILL_ID, "deadline_s": 5})
