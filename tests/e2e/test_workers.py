"""Two Rasa workers on one port with the project's own endpoints.yml.

``EASYFLOW_RASA_WORKERS=2`` (deploy/local/run.sh) sets ``SANIC_WORKERS``; Rasa
allows it only with a lock store other processes can see, which the embedded
``bot.stores.local_lock_store.SQLiteLockStore`` is. Messages of one conversation sent at
the same moment land on different workers; each must still be answered, and the
conversation must hold whole turns, one after the other.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from bench.processes import children, process
from bench.serving import OUR_LAUNCHER, our_endpoints, rasa_run_args
from tests.emulators import free_port
from tests.servers import ACTION_TOKEN, MODEL, ROOT, action_server, wait_until_up

ORDERS = ["A-10234", "A-10240", "A-10236", "A-10235"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """Rasa with two workers and the repo's endpoints.yml (files moved to a temp
    folder), in its own process group so the workers stop with it."""
    assert MODEL.exists(), "train the model first: make train"
    data = tmp_path_factory.mktemp("workers")
    # The turns' order is what is measured here, so the order lookup answers at
    # once (order privacy's digit question is tested in test_rest_webhook.py).
    with action_server(data, env={"EASYFLOW_ORDER_PRIVACY": "none"}) as action_url:
        endpoints = our_endpoints(data, urlparse(action_url).port or 0)
        lock_store = yaml.safe_load(endpoints.read_text("utf-8"))["lock_store"]
        assert lock_store["type"] == "bot.stores.local_lock_store.SQLiteLockStore"
        assert lock_store["db"] == str(data / "locks.db")
        port = free_port()
        args = rasa_run_args(MODEL, port, endpoints)
        env = {
            **os.environ,
            "SANIC_WORKERS": "2",
            "EASYFLOW_ACTION_TOKEN": ACTION_TOKEN,
        }
        with process(args, ROOT, data / "rasa.log", env) as rasa:
            wait_until_up(f"http://127.0.0.1:{port}/status", rasa, 300)
            yield f"http://127.0.0.1:{port}", rasa.pid


def _say(url: str, sender: str, text: str) -> str:
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return "\n".join(m.get("text", "") for m in json.loads(response.read()))


def test_rasa_starts_two_worker_processes(
    server: tuple[str, int], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Sanic forks both workers at once, so one missing here has died at
    start-up (it did when both created the event broker's table)."""
    _, pid = server
    log = tmp_path_factory.getbasetemp() / "workers0" / "rasa.log"
    tail = log.read_text("utf-8", "replace")[-4000:] if log.exists() else ""
    assert len(children(pid)) >= 2, tail


def test_one_conversations_simultaneous_messages_become_whole_turns(
    server: tuple[str, int],
) -> None:
    url, _ = server
    messages = [f"где мой заказ {order}" for order in ORDERS]
    with ThreadPoolExecutor(len(messages) + 4) as pool:
        # Other shoppers keep both workers busy meanwhile.
        noise = [pool.submit(_say, url, f"other-{i}", "привет") for i in range(4)]
        replies = list(pool.map(lambda text: _say(url, "same", text), messages))
        assert all(future.result() for future in noise)
    for order, reply in zip(ORDERS, replies, strict=True):
        assert order in reply, (order, reply)

    # The REST channel keeps its conversations under rest:<sender> (connectors/rest.py).
    tracker_url = f"{url}/conversations/rest:same/tracker"
    with urllib.request.urlopen(tracker_url, timeout=30) as r:
        events = json.loads(r.read())["events"]
    turns: list[tuple[str, str]] = []
    for event in events:
        if event["event"] == "user":
            turns.append((event["text"], ""))
        elif event["event"] == "bot" and turns:
            text, answer = turns[-1]
            turns[-1] = (text, answer + (event.get("text") or ""))
    assert sorted(text for text, _ in turns) == sorted(messages)
    for text, answer in turns:  # each answer follows its own question
        assert text.rsplit(" ", 1)[1] in answer, (text, answer)


def test_the_launchers_workers_load_the_model_one_after_the_other(
    tmp_path: Path,
) -> None:
    """Through bot.rasa_run (as deploy/local/run.sh starts Rasa), Sanic's forked
    workers load in turn (bot/load_in_turn.py): the second starts loading after
    the first has loaded, and both then serve."""
    with action_server(tmp_path, env={"EASYFLOW_ORDER_PRIVACY": "none"}) as action_url:
        endpoints = our_endpoints(tmp_path, urlparse(action_url).port or 0)
        port = free_port()
        args = rasa_run_args(MODEL, port, endpoints, OUR_LAUNCHER)
        env = {
            **os.environ,
            "SANIC_WORKERS": "2",
            "EASYFLOW_ACTION_TOKEN": ACTION_TOKEN,
            "EASYFLOW_RASA_TOKEN": "workers-test-token",
        }
        log = tmp_path / "rasa.log"
        with process(args, ROOT, log, env) as rasa:
            deadline = time.monotonic() + 300
            while len(LOADED.findall(log.read_text("utf-8", "replace"))) < 2:
                assert rasa.poll() is None, log.read_text("utf-8", "replace")[-4000:]
                assert time.monotonic() < deadline, "the workers did not both load"
                time.sleep(0.3)
            text = log.read_text("utf-8", "replace")
            loading = {int(p): float(at) for p, _, at in LOADING.findall(text)}
            loaded = {int(p): float(at) for p, at in LOADED.findall(text)}
            assert set(loading) == set(loaded) and len(loading) == 2, text[-4000:]
            first, second = sorted(loading, key=loading.__getitem__)
            assert loading[second] >= loaded[first]  # one after the other
            assert all(held == "True" for _, held, _ in LOADING.findall(text))
            url = f"http://127.0.0.1:{port}"
            assert "Здравствуйте" in _say(url, "in-turn", "привет")


LOADING = re.compile(
    r"load_in_turn\.loading pid=(\d+) waited_s=\S+ held=(\w+) at=(\S+)"
)
LOADED = re.compile(r"load_in_turn\.loaded pid=(\d+) at=(\S+)")
