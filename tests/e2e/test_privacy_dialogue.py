"""The digit question of order privacy, in real conversations (trained agent, real
action server): only a message with digits answers it, anything else reaches the
intent it is, and no wrong answer is counted for it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from rasa.core.agent import Agent

from tests.servers import action_server, agent_for


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    with action_server(tmp_path_factory.mktemp("privacy-dialogue")) as url:
        agent = agent_for(url)
        yield agent


def _turn(agent: Agent, sender: str, text: str) -> str:
    replies = asyncio.run(agent.handle_text(text, sender_id=sender)) or []
    return "\n".join(r.get("text") or "" for r in replies)


def _slot(agent: Agent, sender: str, name: str) -> object:
    tracker = asyncio.run(agent.tracker_store.retrieve(sender))
    assert tracker is not None
    return tracker.get_slot(name)


def test_a_human_can_be_asked_for_while_the_bot_waits_for_digits(
    agent: Agent,
) -> None:
    sender = "privacy-human"
    assert "4" in _turn(agent, sender, "где мой заказ A-10234")  # последние 4 цифры

    said = _turn(agent, sender, "позовите оператора")

    assert "оператор" in said
    assert "не совпадают" not in said  # not taken as a wrong answer
    assert not _slot(agent, sender, "order_id_attempts")


def test_a_knowledge_question_while_waiting_is_answered_then_digits_work(
    agent: Agent,
) -> None:
    sender = "privacy-question"
    _turn(agent, sender, "where is my order A-10234")

    said = _turn(agent, sender, "do you gift wrap orders?")

    assert "don't match" not in said.lower() and "do not match" not in said.lower()
    assert not _slot(agent, sender, "order_id_attempts")
    assert "A-10234" in _turn(agent, sender, "6199")  # the form goes on


def test_wrong_digits_are_still_a_wrong_answer(agent: Agent) -> None:
    sender = "privacy-wrong"
    _turn(agent, sender, "где мой заказ A-10234")

    _turn(agent, sender, "0000")

    assert _slot(agent, sender, "order_id_attempts") == 1
