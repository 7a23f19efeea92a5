"""Tiny models built by the tests themselves, and the server run as a process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from easyflow_llm.model import LocalModel, load_model  # sets HF_HUB_OFFLINE first

sys.path.insert(0, str(Path(__file__).parent))

from tiny_model import build_tiny_model

LLM_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-trained"))


@pytest.fixture(scope="session")
def untrained_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random weights, end token suppressed: it runs to any limit or deadline."""
    return build_tiny_model(
        tmp_path_factory.mktemp("tiny-untrained"), steps=0, endless=True
    )


@pytest.fixture(scope="session")
def trained(trained_dir: Path) -> LocalModel:
    return load_model(trained_dir, threads=1)


@pytest.fixture(scope="session")
def answers(trained_dir: Path) -> list[str]:
    return json.loads((trained_dir / "answers.json").read_text())


@dataclass
class RunningServer:
    url: str  # the OpenAI base URL, .../v1
    process: subprocess.Popen[bytes]
    log: Path

    def logs(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model_dir: Path, log: Path, **env: str) -> Iterator[RunningServer]:
    """``python -m easyflow_llm`` on a free loopback port, until /health answers."""
    port = free_port()
    variables = {
        **os.environ,
        "EASYFLOW_LOCAL_MODEL_DIR": str(model_dir),
        "EASYFLOW_LOCAL_PORT": str(port),
        # one thread: tiny matrices, a busy 2-core machine (README "Threads")
        "EASYFLOW_LOCAL_THREADS": "1",
        **env,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "easyflow_llm"],
            cwd=LLM_ROOT,
            env=variables,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = RunningServer(f"http://127.0.0.1:{port}/v1", process, log)
    try:
        deadline = time.monotonic() + 180  # torch's import alone is slow when busy
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited at start:\n{server.logs()}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/health", timeout=2
                ):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the server did not start:\n{server.logs()}")
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def server(
    trained_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    log = tmp_path_factory.mktemp("server") / "server.log"
    yield from start_server(trained_dir, log, EASYFLOW_LOCAL_API_KEY="test-key")


@pytest.fixture(scope="session")
def slow_server(
    untrained_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """Generation is cut at 1 s, and one completion at most waits its turn."""
    log = tmp_path_factory.mktemp("slow-server") / "server.log"
    yield from start_server(
        untrained_dir,
        log,
        EASYFLOW_LOCAL_MAX_TIME_S="1.0",
        EASYFLOW_LOCAL_MAX_TOKENS="3000",
        EASYFLOW_LOCAL_MAX_QUEUE="1",
    )
