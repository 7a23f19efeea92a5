"""The whole chain across processes: the action server's fallback service with
``EASYFLOW_LLM_BACKEND=local`` asks llm/'s model server (Python 3.11, torch) and
answers with what the model generated, or falls back to the extractive answer.

The server runs from ``llm/.venv`` (``bash llm/install.sh``) on a tiny model that
``llm/tests/tiny_model.py`` trains here; nothing is downloaded.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from openai import AsyncOpenAI

from actions.knowledge.prompts import NO_ANSWER, build_messages
from actions.knowledge.service import CircuitBreaker, FallbackService, invents_numbers
from actions.services import Services
from actions.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
LLM_ROOT = ROOT / "llm"
LLM_PYTHON = LLM_ROOT / ".venv" / "bin" / "python"
QUESTION = "у вас есть подарочная упаковка?"


def llm_python() -> Path:
    if not LLM_PYTHON.exists():
        pytest.fail(
            f"{LLM_PYTHON} is missing: these tests run the local model server from "
            "its own Python 3.11 environment; create it with `bash llm/install.sh`"
        )
    return LLM_PYTHON


def tiny_model(out: Path, *options: str) -> Path:
    subprocess.run(
        [llm_python(), "tests/tiny_model.py", str(out), *options],
        cwd=LLM_ROOT,
        check=True,
        timeout=600,
    )
    return out


def serve(model_dir: Path, log: Path, **env: str) -> Iterator[str]:
    """``python -m easyflow_llm`` from llm/.venv; yields its OpenAI base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    variables = {
        **os.environ,
        "EASYFLOW_LOCAL_MODEL_DIR": str(model_dir),
        "EASYFLOW_LOCAL_PORT": str(port),
        "EASYFLOW_LOCAL_THREADS": "1",  # tiny matrices on a busy machine
        **env,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [llm_python(), "-m", "easyflow_llm"],
            cwd=LLM_ROOT,
            env=variables,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180  # importing torch is slow on a busy box
        while True:
            if process.poll() is not None:
                pytest.fail(f"the llm server exited:\n{log.read_text()}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the llm server did not start:\n{log.read_text()}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("local-llm")
    model = tiny_model(folder / "model", "--steps", "150")
    # A fixed seed makes the server's sampling repeatable, so the test can ask
    # the same question itself and know what the model says.
    yield from serve(model, folder / "server.log", EASYFLOW_LOCAL_SEED="0")


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Random weights, end token suppressed, and a 50 ms generation deadline."""
    folder = tmp_path_factory.mktemp("slow-llm")
    model = tiny_model(folder / "model", "--steps", "0", "--endless")
    yield from serve(model, folder / "server.log", EASYFLOW_LOCAL_MAX_TIME_S="0.05")


def fallback_for(url: str) -> FallbackService:
    """The action server's own wiring (``Services.fallback``) for these settings."""
    settings = Settings.from_env(
        {
            "EASYFLOW_LLM_BACKEND": "local",
            "EASYFLOW_LLM_BASE_URL": url,
            # the chain, not latency, is under test; the machine may be busy
            "EASYFLOW_LLM_TIMEOUT_S": "60",
            "EASYFLOW_FALLBACK_BUDGET_S": "90",
        }
    )
    services = Services(settings, orders=None, payments=None, support=None)  # type: ignore[arg-type]
    return services.fallback


async def test_local_backend_answers_with_the_generated_text(local_server: str) -> None:
    fallback = fallback_for(local_server)
    assert fallback.llm is not None and fallback.llm.model == "local"
    passages = [hit.passage for hit in fallback.index.search(QUESTION, "ru", limit=3)]
    direct = await AsyncOpenAI(
        base_url=local_server, api_key="local", max_retries=0
    ).chat.completions.create(
        model="local",
        messages=build_messages(QUESTION, passages, [], "ru"),  # type: ignore[arg-type]
        temperature=fallback.llm.temperature,
        max_tokens=fallback.llm.max_tokens,
    )
    generated = (direct.choices[0].message.content or "").strip()
    assert generated, "the tiny model said nothing"

    answer = await fallback.answer(QUESTION, "ru")

    assert answer.sources[0].startswith("ru/gift_wrapping.md#")
    passages_text = " ".join(p.text for p in passages)
    if NO_ANSWER in generated:
        assert answer.text is None and answer.answerer == "local"
    elif invents_numbers(generated, passages_text):  # the guardrail drops it
        assert answer.answerer == "extractive" and answer.text
    else:
        assert answer.answerer == "local" and answer.text == generated


async def test_a_local_deadline_opens_the_breaker_and_extractive_answers(
    slow_server: str,
) -> None:
    with pytest.raises(openai.InternalServerError) as error:
        await AsyncOpenAI(
            base_url=slow_server, api_key="local", max_retries=0
        ).chat.completions.create(
            model="local",
            messages=[{"role": "user", "content": QUESTION}],
            max_tokens=300,
        )
    assert error.value.status_code == 504 and error.value.code == "deadline_exceeded"

    fallback = fallback_for(slow_server)
    fallback.breaker = CircuitBreaker(failures=1, open_s=60)
    answer = await fallback.answer(QUESTION, "ru")
    assert answer.answerer == "extractive" and answer.text
    assert not fallback.breaker.allow()  # the 504 counted as a failure
