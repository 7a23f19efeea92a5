"""Turns that cannot loop, conversations that cannot die (bot/dialogue/turn_guard.py).

The trained agent with the real action server. Before the guard, an off-topic
message inside the order form made RulePolicy's core fallback answer ten times
in one turn, and every later message of that conversation got no reply at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from rasa.core.agent import Agent
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from tests.servers import action_server, agent_for

MAX_BOT_MESSAGES = 3


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    with action_server(tmp_path_factory.mktemp("turn-guard")) as url:
        agent = agent_for(url)
        yield agent


def _turn(agent: Agent, sender: str, text: str) -> list[str]:
    replies = asyncio.run(agent.handle_text(text, sender_id=sender)) or []
    return [r.get("text") or "" for r in replies]


def _last_turn_events(agent: Agent, sender: str) -> list:
    tracker = asyncio.run(agent.tracker_store.retrieve(sender))
    assert tracker is not None
    events = list(tracker.events)
    last_user = max(i for i, e in enumerate(events) if isinstance(e, UserUttered))
    return events[last_user + 1 :]


def _last_action(agent: Agent, sender: str) -> str | None:
    tracker = asyncio.run(agent.tracker_store.retrieve(sender))
    assert tracker is not None
    return tracker.latest_action_name


def test_off_topic_message_in_the_form_gets_one_answer_and_the_question(
    agent: Agent,
) -> None:
    sender = "guard-dodo"
    assert "номер заказа" in "\n".join(_turn(agent, sender, "хочу отменить заказ"))

    texts = _turn(agent, sender, "где мой заказ из Додо? жду пиццу уже час")

    assert 1 <= len(texts) <= MAX_BOT_MESSAGES, texts
    assert len(set(texts)) == len(texts), texts
    assert "номер заказа" in texts[-1]  # the form asks again, once
    events = _last_turn_events(agent, sender)
    actions = [e.action_name for e in events if isinstance(e, ActionExecuted)]
    assert actions[-1] == ACTION_LISTEN_NAME
    assert len(actions) == len(set(actions)), actions


def test_the_conversation_goes_on_after_an_off_topic_message(agent: Agent) -> None:
    sender = "guard-then-human"
    _turn(agent, sender, "хочу отменить заказ")
    _turn(agent, sender, "где мой заказ из Додо? жду пиццу уже час")

    assert "оператор" in "\n".join(_turn(agent, sender, "позовите оператора"))


def test_the_same_order_number_still_completes_the_form(agent: Agent) -> None:
    sender = "guard-then-number"
    _turn(agent, sender, "where is my order")
    _turn(agent, sender, "is the pizza place open tonight")

    asked = "\n".join(_turn(agent, sender, "A-10234"))
    assert "last 4 digits" in asked  # order privacy: the form went on
    assert "A-10234" in "\n".join(_turn(agent, sender, "6199"))


def test_a_conversation_left_dead_by_the_loop_answers_again(agent: Agent) -> None:
    """Ten actions after the last action_listen: Rasa's own count stops forever."""
    sender = "guard-dead"
    _turn(agent, sender, "привет")
    tracker = asyncio.run(agent.tracker_store.retrieve(sender))
    assert tracker is not None
    tracker.update(UserUttered("где мой заказ из Додо?", {"name": "order_status"}))
    for _ in range(10):
        tracker.update(ActionExecuted("action_llm_fallback"))
        tracker.update(BotUttered("то же самое"))
    asyncio.run(agent.tracker_store.save(tracker))

    texts = _turn(agent, sender, "позовите оператора")

    assert "оператор" in "\n".join(texts), texts
    assert _last_action(agent, sender) == ACTION_LISTEN_NAME


def test_every_turn_of_a_topic_switching_conversation_is_bounded(
    agent: Agent,
) -> None:
    sender = "guard-switches"
    messages = [
        "хочу вернуть товар",
        "какая сегодня погода в москве",
        "сколько стоит доставка",
        "промокод на такси",
        "ты бот?",
        "how do I cancel my streaming subscription",
        "48213307-0051-1",
    ]
    for message in messages:
        texts = _turn(agent, sender, message)
        assert 1 <= len(texts) <= MAX_BOT_MESSAGES, (message, texts)
        assert len(set(texts)) == len(texts), (message, texts)
        assert _last_action(agent, sender) == ACTION_LISTEN_NAME, message


def test_an_ordinary_turn_is_not_touched(agent: Agent) -> None:
    asked = _turn(agent, "guard-plain", "где мой заказ A-10234")
    texts = _turn(agent, "guard-plain", "6199")  # the phone's last 4 digits

    assert len(asked) == 1 and "4 цифры" in asked[0], asked
    assert len(texts) == 1 and "A-10234 в пути" in texts[0], texts
