"""Two Rasa workers on one port with the project's own endpoints.yml.

``EASYFLOW_RASA_WORKERS=2`` (deploy/local/run.sh) sets ``SANIC_WORKERS``; Rasa
allows it only with a lock store other processes can see, which the embedded
``bot.local_lock_store.SQLiteLockStore`` is. Messages of one conversation sent at
the same moment land on different workers; each must still be answered, and the
conversation must hold whole turns, one after the other.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_rest_webhook import MODEL, RASA, ROOT, _free_port, _wait

ORDERS = ["A-10234", "A-10240", "A-10236", "A-10235"]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    assert MODEL.exists(), "train the model first: make train"
    data = tmp_path_factory.mktemp("workers")
    actions_port, rasa_port = _free_port(), _free_port()
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text("utf-8"))
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{actions_port}/webhook"
    for key in ("tracker_store", "event_broker", "lock_store"):
        endpoints[key]["db"] = str(data / Path(endpoints[key]["db"]).name)
    assert endpoints["lock_store"]["type"] == "bot.local_lock_store.SQLiteLockStore"
    (data / "endpoints.yml").write_text(yaml.safe_dump(endpoints), "utf-8")
    env = {
        **os.environ,
        "EASYFLOW_DATA_DIR": str(data),
        "EASYFLOW_ACTIONS_PORT": str(actions_port),
        "EASYFLOW_ACTIONS_HOST": "127.0.0.1",
        "SANIC_WORKERS": "2",
    }
    log = (data / "servers.log").open("w")
    actions = subprocess.Popen(
        [sys.executable, "-m", "actions.server"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    rasa = subprocess.Popen(
        [
            *(str(RASA), "run", "-m", str(MODEL), "--enable-api"),
            *("--interface", "127.0.0.1", "--port", str(rasa_port)),
            *("--endpoints", str(data / "endpoints.yml")),
            *("--credentials", str(ROOT / "credentials.yml")),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the workers are its children: stop them together
    )
    try:
        _wait(f"http://127.0.0.1:{actions_port}/health", actions, 60)
        _wait(f"http://127.0.0.1:{rasa_port}/status", rasa, 300)
        yield f"http://127.0.0.1:{rasa_port}", rasa.pid
    finally:
        with suppress(ProcessLookupError):
            os.killpg(rasa.pid, signal.SIGTERM)
        actions.send_signal(signal.SIGTERM)
        for process in (rasa, actions):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        with suppress(ProcessLookupError):
            os.killpg(rasa.pid, signal.SIGKILL)
        log.close()


def _say(url: str, sender: str, text: str) -> str:
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return "\n".join(m.get("text", "") for m in json.loads(response.read()))


def test_rasa_starts_two_worker_processes(server: tuple[str, int]) -> None:
    _, pid = server
    assert len(_children(pid)) >= 2


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

    with urllib.request.urlopen(f"{url}/conversations/same/tracker", timeout=30) as r:
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
