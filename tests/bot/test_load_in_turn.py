"""bot/load_in_turn.py: Sanic's workers load the model one at a time."""

from __future__ import annotations

import asyncio
import fcntl
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot import load_in_turn
from tests.servers import ROOT

FORK = multiprocessing.get_context("fork")


def load_while_holding(path: str, seconds: float, times: Any) -> None:
    async def load() -> None:
        async with load_in_turn.turn(path) as held:
            started = time.monotonic()
            await asyncio.sleep(seconds)
            times.put((held, started, time.monotonic()))

    asyncio.run(load())


def test_two_workers_load_one_after_the_other(tmp_path: Path) -> None:
    path = str(tmp_path / "load.lock")
    times = FORK.Queue()
    workers = [
        FORK.Process(target=load_while_holding, args=(path, 0.4, times))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    (held_a, start_a, end_a), (held_b, start_b, end_b) = sorted(
        [times.get(timeout=5), times.get(timeout=5)], key=lambda t: t[1]
    )
    assert held_a and held_b
    assert start_b >= end_a  # the second began after the first was done


def hold_and_wait(path: str, ready: Any) -> None:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        ready.set()
        time.sleep(60)


async def test_a_worker_that_dies_while_loading_lets_the_next_load(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "load.lock")
    ready = FORK.Event()
    holder = FORK.Process(target=hold_and_wait, args=(path, ready))
    holder.start()
    try:
        assert ready.wait(10)
        os.kill(holder.pid, signal.SIGKILL)
        started = time.monotonic()
        async with load_in_turn.turn(path, wait_s=10) as held:
            assert held
        assert time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.join()


async def test_a_worker_waits_at_most_its_limit_then_loads_anyway(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "load.lock")
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # another open file: another holder
        started = time.monotonic()
        async with load_in_turn.turn(path, wait_s=0.3) as held:
            assert not held
        assert 0.3 <= time.monotonic() - started < 3


async def test_the_wrapped_load_gets_its_arguments_and_returns_its_result(
    tmp_path: Path,
) -> None:
    calls: list[tuple[Any, ...]] = []

    async def load(*args: Any, **kwargs: Any) -> str:
        calls.append((args, kwargs))
        return "agent"

    wrapped = load_in_turn.in_turn(load, str(tmp_path / "load.lock"))
    assert await wrapped("m.tar.gz", endpoints=None) == "agent"
    assert calls == [(("m.tar.gz",), {"endpoints": None})]


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["run", "-m", "x"], {}),
        (["run", "-m", "x"], {"SANIC_WORKERS": "1"}),
        (["run", "-m", "x"], {"SANIC_WORKERS": "two"}),
        (["shell"], {"SANIC_WORKERS": "2"}),
    ],
)
def test_one_worker_loads_as_rasa_does(argv: list[str], env: dict[str, str]) -> None:
    import rasa.core.agent

    before = rasa.core.agent.load_agent
    assert load_in_turn.install(argv, env) is None
    assert rasa.core.agent.load_agent is before


INSTALL = """
import os, sys
import rasa.core.agent
from bot import load_in_turn
rasa_load = rasa.core.agent.load_agent
path = load_in_turn.install(["run", "-m", "x"], {"SANIC_WORKERS": "2"})
assert rasa.core.agent.load_agent.__wrapped__ is rasa_load
child = os.fork()
if child == 0:
    sys.exit(0)  # a worker leaving runs the main process's exit hooks too
os.waitpid(child, 0)
print(path, os.path.exists(path))
"""


def test_with_workers_rasa_loads_in_turn_and_the_main_process_cleans_up() -> None:
    result = subprocess.run(
        [sys.executable, "-c", INSTALL],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    path, existed = result.stdout.split()
    assert existed == "True"  # a worker's exit left it for the others
    assert not Path(path).exists()  # the main process removed it
