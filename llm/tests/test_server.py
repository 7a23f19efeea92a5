"""The server as a process on loopback, called with the real ``openai`` client."""

from __future__ import annotations

import asyncio
import time

import httpx
import openai
import pytest
from conftest import RunningServer
from openai import AsyncOpenAI

from easyflow_llm.generation import GenerationRequest, generate
from easyflow_llm.model import LocalModel

QUESTION = [
    {"role": "system", "content": "You are the support assistant of an online shop."},
    {"role": "user", "content": "Сколько идёт доставка?"},
]


def client(
    server: RunningServer, key: str = "test-key", **kwargs: object
) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=server.url, api_key=key, max_retries=0, **kwargs)


async def test_chat_completion_is_what_the_model_generates(
    server: RunningServer, trained: LocalModel, answers: list[str]
) -> None:
    expected = generate(trained, GenerationRequest(QUESTION, max_tokens=40))
    completion = await client(server).chat.completions.create(
        model="local", messages=QUESTION, max_tokens=40, temperature=0
    )
    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    assert completion.model == "local"
    assert abs(completion.created - time.time()) < 60
    (choice,) = completion.choices
    assert choice.message.role == "assistant"
    assert choice.message.content == expected.text and expected.text in answers
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == expected.prompt_tokens
    assert completion.usage.completion_tokens == expected.completion_tokens
    assert completion.usage.total_tokens == (
        expected.prompt_tokens + expected.completion_tokens
    )


async def test_limits_and_stop_strings_pass_through(
    server: RunningServer, trained: LocalModel
) -> None:
    full = generate(trained, GenerationRequest(QUESTION, max_tokens=40)).text
    openai_client = client(server)
    short = await openai_client.chat.completions.create(
        model="local", messages=QUESTION, max_tokens=2, temperature=0
    )
    assert short.choices[0].finish_reason == "length"
    assert short.usage is not None and short.usage.completion_tokens == 2
    word = full.split()[1]
    stopped = await openai_client.chat.completions.create(
        model="local", messages=QUESTION, temperature=0, stop=f" {word}"
    )
    assert stopped.choices[0].message.content == full.split(f" {word}")[0]


async def test_models_and_health(server: RunningServer) -> None:
    models = await client(server).models.list()
    assert [m.id for m in models.data] == ["local"]
    async with httpx.AsyncClient() as http:
        health = await http.get(server.url.removesuffix("/v1") + "/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["model"] == "local"


async def test_the_api_key_is_required_when_set(server: RunningServer) -> None:
    with pytest.raises(openai.AuthenticationError) as error:
        await client(server, key="wrong").chat.completions.create(
            model="local", messages=QUESTION, max_tokens=2
        )
    assert error.value.status_code == 401
    assert error.value.code == "invalid_api_key"


async def test_bad_requests_get_openai_errors(server: RunningServer) -> None:
    openai_client = client(server)
    with pytest.raises(openai.NotFoundError, match="use 'local'"):
        await openai_client.chat.completions.create(
            model="gpt-4o", messages=QUESTION, max_tokens=2
        )
    with pytest.raises(openai.BadRequestError, match="stream"):
        await openai_client.chat.completions.create(
            model="local", messages=QUESTION, stream=True
        )
    with pytest.raises(openai.BadRequestError, match="messages"):
        await openai_client.chat.completions.create(model="local", messages=[])
    with pytest.raises(openai.BadRequestError) as error:
        await openai_client.chat.completions.create(
            model="local", messages=[{"role": "user", "content": "упаковка " * 5000}]
        )
    assert error.value.code == "context_length_exceeded"


async def test_an_expired_deadline_is_a_504_the_caller_counts_as_a_failure(
    slow_server: RunningServer,
) -> None:
    started = time.monotonic()
    with pytest.raises(openai.InternalServerError) as error:
        await client(slow_server).chat.completions.create(
            model="local", messages=QUESTION, max_tokens=3000, temperature=0
        )
    assert error.value.status_code == 504
    assert error.value.code == "deadline_exceeded"
    assert time.monotonic() - started < 4  # cut at 1 s, not 3000 tokens later


async def test_the_client_timeout_header_shortens_the_deadline(
    slow_server: RunningServer,
) -> None:
    started = time.monotonic()
    with pytest.raises(openai.InternalServerError) as error:
        await client(slow_server).chat.completions.create(
            model="local",
            messages=QUESTION,
            max_tokens=3000,
            extra_headers={"x-stainless-read-timeout": "0.2"},
        )
    assert error.value.status_code == 504
    assert time.monotonic() - started < 0.9 + 2  # well before the server's 1 s + slack


async def test_generation_runs_off_the_event_loop_one_at_a_time(
    slow_server: RunningServer,
) -> None:
    openai_client = client(slow_server)
    long = asyncio.create_task(
        openai_client.chat.completions.create(
            model="local", messages=QUESTION, max_tokens=3000
        )
    )
    async with httpx.AsyncClient() as http:
        base = slow_server.url.removesuffix("/v1")
        while (await http.get(f"{base}/health")).json()["queued"] == 0:
            await asyncio.sleep(0.02)
        started = time.monotonic()
        health = await http.get(f"{base}/health")
        assert health.json()["queued"] == 1  # generating now
        assert time.monotonic() - started < 0.5  # the loop is free meanwhile
    with pytest.raises(openai.InternalServerError) as busy:
        await openai_client.chat.completions.create(
            model="local", messages=QUESTION, max_tokens=5
        )
    assert busy.value.status_code == 503 and busy.value.code == "overloaded"
    with pytest.raises(openai.InternalServerError):
        await long  # its own 1 s deadline
