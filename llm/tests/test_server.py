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


def client(server: RunningServer, key: str = "test-key") -> AsyncOpenAI:
    """Use as ``async with client(server) as llm``: closed within the test."""
    return AsyncOpenAI(base_url=server.url, api_key=key, max_retries=0)


async def test_chat_completion_is_what_the_model_generates(
    server: RunningServer, trained: LocalModel, answers: list[str]
) -> None:
    expected = generate(trained, GenerationRequest(QUESTION, max_tokens=40))
    async with client(server) as llm:
        completion = await llm.chat.completions.create(
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
    word = full.split()[1]
    async with client(server) as llm:
        short = await llm.chat.completions.create(
            model="local", messages=QUESTION, max_tokens=2, temperature=0
        )
        stopped = await llm.chat.completions.create(
            model="local", messages=QUESTION, temperature=0, stop=f" {word}"
        )
    assert short.choices[0].finish_reason == "length"
    assert short.usage is not None and short.usage.completion_tokens == 2
    assert stopped.choices[0].message.content == full.split(f" {word}")[0]
    assert stopped.choices[0].finish_reason == "stop"


async def test_models_and_health(server: RunningServer) -> None:
    async with client(server) as llm:
        models = await llm.models.list()
    assert [m.id for m in models.data] == ["local"]
    async with httpx.AsyncClient() as http:
        health = await http.get(server.url.removesuffix("/v1") + "/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["model"] == "local"


async def test_the_api_key_is_required_when_set(server: RunningServer) -> None:
    async with client(server, key="wrong") as llm:
        with pytest.raises(openai.AuthenticationError) as error:
            await llm.chat.completions.create(
                model="local", messages=QUESTION, max_tokens=2
            )
        with pytest.raises(openai.AuthenticationError):
            await llm.models.list()
    assert error.value.status_code == 401
    assert error.value.code == "invalid_api_key"


async def test_bad_requests_get_openai_errors(server: RunningServer) -> None:
    async with client(server) as llm:
        with pytest.raises(openai.NotFoundError, match="use 'local'"):
            await llm.chat.completions.create(
                model="gpt-4o", messages=QUESTION, max_tokens=2
            )
        with pytest.raises(openai.BadRequestError, match="stream"):
            await llm.chat.completions.create(
                model="local", messages=QUESTION, stream=True
            )
        with pytest.raises(openai.BadRequestError, match="messages"):
            await llm.chat.completions.create(model="local", messages=[])
        with pytest.raises(openai.BadRequestError) as error:
            await llm.chat.completions.create(
                model="local",
                messages=[{"role": "user", "content": "упаковка " * 5000}],
            )
    assert error.value.code == "context_length_exceeded"


async def test_an_expired_deadline_is_a_504_the_caller_counts_as_a_failure(
    slow_server: RunningServer,
) -> None:
    started = time.monotonic()
    async with client(slow_server) as llm:
        with pytest.raises(openai.InternalServerError) as error:
            await llm.chat.completions.create(
                model="local", messages=QUESTION, max_tokens=3000, temperature=0
            )
    assert error.value.status_code == 504
    assert error.value.code == "deadline_exceeded"
    assert time.monotonic() - started < 4  # cut at 1 s, not 3000 tokens later


async def test_the_client_timeout_header_shortens_the_deadline(
    slow_server: RunningServer,
) -> None:
    async with client(slow_server) as llm:
        with pytest.raises(openai.InternalServerError) as error:
            await llm.chat.completions.create(
                model="local",
                messages=QUESTION,
                max_tokens=3000,
                timeout=30,  # the client waits; the header tells the server 0.2 s
                extra_headers={"x-stainless-read-timeout": "0.2"},
            )
    assert error.value.status_code == 504
    assert "(allowed: 0.20 s)" in error.value.message  # not the server's 1 s


async def test_generation_runs_off_the_event_loop_one_at_a_time(
    slow_server: RunningServer,
) -> None:
    async with client(slow_server) as llm, httpx.AsyncClient() as http:
        long = asyncio.create_task(
            llm.chat.completions.create(
                model="local", messages=QUESTION, max_tokens=3000
            )
        )
        base = slow_server.url.removesuffix("/v1")
        while (await http.get(f"{base}/health")).json()["queued"] == 0:
            await asyncio.sleep(0.02)
        started = time.monotonic()
        health = await http.get(f"{base}/health")
        assert health.json()["queued"] == 1  # generating now
        assert time.monotonic() - started < 0.5  # the loop is free meanwhile
        with pytest.raises(openai.InternalServerError) as busy:
            await llm.chat.completions.create(
                model="local", messages=QUESTION, max_tokens=5
            )
        assert busy.value.status_code == 503 and busy.value.code == "overloaded"
        with pytest.raises(openai.InternalServerError) as late:
            await long
        assert late.value.status_code == 504  # its own 1 s deadline
