"""Wildberries customer questions against a feedbacks-api emulator on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from actions.integrations.wildberries_questions import (
    QuestionsError,
    WildberriesQuestions,
    WildberriesQuestionsConfig,
)
from actions.settings import SettingsError
from common.http import RetryPolicy
from common.settings import Reader
from tests.emulators import Emulator
from tests.marketplace_emulators import WildberriesQuestionsApi, wb_question

TOKEN = "wb-feedbacks-token"
Factory = Callable[[Any], Awaitable[Emulator]]


@pytest.fixture
def api() -> WildberriesQuestionsApi:
    questions = WildberriesQuestionsApi(TOKEN)
    questions.questions = [
        wb_question("q-old", "Есть ли 43 размер?", "2025-01-20T10:00:00Z"),
        wb_question("q-new", "Маломерят?", "2025-01-27T11:38:21.202143857Z"),
    ]
    answered = wb_question("q-done", "Какая подошва?", "2025-01-25T09:00:00Z")
    answered["answer"] = {"text": "Резина", "editable": True}
    questions.questions.append(answered)
    return questions


@pytest.fixture
async def emulator(emulator_factory: Factory, api: WildberriesQuestionsApi) -> Emulator:
    return await emulator_factory(api)


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[WildberriesQuestions]:
    questions = WildberriesQuestions(
        TOKEN, emulator.url, retry=RetryPolicy(max_attempts=3, base_delay_s=0.01)
    )
    yield questions
    await questions.close()


async def test_lists_unanswered_questions_newest_first(
    emulator: Emulator, client: WildberriesQuestions
) -> None:
    questions = await client.unanswered(take=50)
    assert [q.question_id for q in questions] == ["q-new", "q-old"]
    newest = questions[0]
    assert (newest.text, newest.nm_id, newest.product_name, newest.answer) == (
        "Маломерят?", 224747484, "Кроссовки Aero", None
    )  # fmt: skip
    assert newest.created_at is not None and newest.created_at.year == 2025
    (call,) = emulator.calls
    assert (call.method, call.path) == ("GET", "/api/v1/questions")
    assert call.query == {
        "isAnswered": "false", "take": "50", "skip": "0", "order": "dateDesc"
    }  # fmt: skip
    assert call.headers["Authorization"] == TOKEN
    assert [q.question_id for q in await client.unanswered(take=1, skip=1)] == ["q-old"]


async def test_answering_publishes_a_nested_answer(
    api: WildberriesQuestionsApi, emulator: Emulator, client: WildberriesQuestions
) -> None:
    await client.answer("q-new", "  Нет, в размер.  ")
    call = emulator.calls[-1]
    assert (call.method, call.json) == (
        "PATCH", {"id": "q-new", "answer": {"text": "Нет, в размер."}, "state": "wbRu"}
    )  # fmt: skip
    assert [q.question_id for q in await client.unanswered()] == ["q-old"]
    assert api.questions[1]["answer"]["text"] == "Нет, в размер."


async def test_unknown_question_and_bad_input(client: WildberriesQuestions) -> None:
    with pytest.raises(QuestionsError, match="404"):
        await client.answer("q-missing", "Да")
    with pytest.raises(ValueError):
        await client.answer("q-new", "   ")
    with pytest.raises(ValueError):
        await client.unanswered(take=10_001)


async def test_wrong_token_and_error_envelope(
    emulator: Emulator, client: WildberriesQuestions
) -> None:
    wrong = WildberriesQuestions("other", emulator.url)
    with pytest.raises(QuestionsError, match="401"):
        await wrong.unanswered()
    await wrong.close()
    emulator.fail_next(200, {"data": None, "error": True,
                             "errorText": "Внутренняя ошибка"})  # fmt: skip
    with pytest.raises(QuestionsError):
        await client.unanswered()


async def test_rate_limit_is_retried_after_the_header(
    emulator: Emulator, client: WildberriesQuestions
) -> None:
    emulator.fail_next(
        429,
        {"title": "too many requests", "status": 429},
        {"X-Ratelimit-Retry": "0.05", "X-Ratelimit-Remaining": "0"},
    )
    assert len(await client.unanswered()) == 2
    assert len(emulator.calls) == 2


def test_settings() -> None:
    with pytest.raises(SettingsError, match="WB_FEEDBACKS_TOKEN"):
        WildberriesQuestions.from_config(
            WildberriesQuestionsConfig.from_env(Reader({}))
        )
    built = WildberriesQuestions.from_config(
        WildberriesQuestionsConfig.from_env(
            Reader({"WB_API_TOKEN": "marketplace-and-questions"})
        )
    )
    assert built.token == "marketplace-and-questions"
    assert built.client.base_url == "https://feedbacks-api.wildberries.ru"
    own_env = {"WB_API_TOKEN": "a", "WB_FEEDBACKS_TOKEN": "b",
               "WB_FEEDBACKS_URL": "http://127.0.0.1:9"}  # fmt: skip
    own = WildberriesQuestions.from_config(
        WildberriesQuestionsConfig.from_env(Reader(own_env))
    )
    assert (own.token, own.client.base_url) == ("b", "http://127.0.0.1:9")
