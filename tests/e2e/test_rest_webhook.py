"""The running assistant over the REST channel: Rasa server + action server.

Needs the trained model (``make test`` trains it first). Both servers run as real
processes on free loopback ports with their own data directory, with the doors
of the embedded default (``deploy/local/tokens.sh``, as ``make run``): Rasa's HTTP
API only with its generated token and CORS for the dashboard's origin only, the
action server only for Rasa, which sends its token as a header.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from actions.integrations.demo_store import demo_phone
from tests.servers import embedded_rasa_api

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "easyflow.tar.gz"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


@dataclass
class Assistant:
    rasa_url: str
    actions: subprocess.Popen
    actions_url: str
    tokens: dict[str, str]
    api_origin: str
    log: Path

    def say(self, sender: str, message: str) -> list[dict]:
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": message}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def texts(self, sender: str, message: str) -> str:
        return "\n".join(m.get("text", "") for m in self.say(sender, message))


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    assert MODEL.exists(), "train the model first: make train"
    data = tmp_path_factory.mktemp("e2e")
    actions_port, rasa_port, api_port = _free_port(), _free_port(), _free_port()
    api_args, tokens = embedded_rasa_api(data, api_port)
    endpoints = data / "endpoints.yml"
    endpoints.write_text(
        f"""
action_endpoint:
  url: "http://127.0.0.1:{actions_port}/webhook"
  headers:
    Authorization: Bearer ${{EASYFLOW_ACTION_TOKEN}}
  enable_selective_domain: true
nlg:
  type: bot.dialogue.nlg.LanguageAwareNLG
  action_timeout_s: 5
tracker_store:
  type: SQL
  dialect: sqlite
  db: {data / "tracker.db"}
"""
    )
    env = {
        **os.environ,
        "EASYFLOW_DATA_DIR": str(data),
        "EASYFLOW_ACTIONS_PORT": str(actions_port),
        "EASYFLOW_ACTIONS_HOST": "127.0.0.1",
        "EASYFLOW_PUBLIC_URL": f"http://127.0.0.1:{actions_port}",
        "EASYFLOW_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        **tokens,
    }
    log_path = data / "servers.log"
    log = log_path.open("w")
    actions = subprocess.Popen(
        [sys.executable, "-m", "actions.server"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    rasa = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.rasa_run",  # the token from the environment, as run.sh does
            "run",
            "-m",
            str(MODEL),
            *api_args,
            "--interface",
            "127.0.0.1",
            "--port",
            str(rasa_port),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(ROOT / "credentials.yml"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait(f"http://127.0.0.1:{actions_port}/health", actions, 60)
        _wait(f"http://127.0.0.1:{rasa_port}/", rasa, 240)  # "/" needs no token
        yield Assistant(
            f"http://127.0.0.1:{rasa_port}",
            actions,
            f"http://127.0.0.1:{actions_port}",
            tokens,
            f"http://localhost:{api_port}",
            log_path,
        )
    finally:
        for process in (rasa, actions):
            process.send_signal(signal.SIGTERM)
        for process in (rasa, actions):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def last4(order_id: str) -> str:
    """The demo order's phone digits: what its buyer answers to the check."""
    return re.sub(r"\D", "", demo_phone(order_id))[-4:]


def test_order_status_in_russian(assistant: Assistant) -> None:
    asked = assistant.texts("ru-shopper", "где мой заказ A-10234")
    assert "последние 4 цифры телефона" in asked and "трек" not in asked
    reply = assistant.texts("ru-shopper", last4("A-10234"))
    assert "Заказ A-10234 в пути (" in reply and "трек-номер" in reply


def test_order_status_in_english(assistant: Assistant) -> None:
    asked = assistant.texts("en-shopper", "where is my order A-10234")
    assert "last 4 digits" in asked
    reply = assistant.texts("en-shopper", last4("A-10234"))
    assert "Order A-10234 is on its way (" in reply


def test_wrong_digits_get_the_coarse_state_only(assistant: Assistant) -> None:
    """A-10236 waits at a pickup point: its address is what an attacker wants."""
    assistant.texts("guesser", "где мой заказ A-10236")
    wrong = "0000" if last4("A-10236") != "0000" else "1111"
    replies = [assistant.texts("guesser", wrong) for _ in range(3)]
    assert "Цифры не совпадают" in replies[0]
    assert "Заказ A-10236 ждёт получателя в пункте выдачи." in replies[-1]
    assert "Позвать оператора?" in replies[-1]
    assert all("Арбат" not in reply and "SMS" not in reply for reply in replies)


def test_bad_number_is_re_asked_then_answered(assistant: Assistant) -> None:
    assert "номер заказа" in assistant.texts("retry", "где мой заказ")
    reply = assistant.texts("retry", "A-12")
    assert "не похоже на номер заказа" in reply and "Назовите" in reply
    assert "последние 4 цифры" in assistant.texts("retry", "A-10234")
    assert "в пути" in assistant.texts("retry", last4("A-10234"))


def test_pay_in_the_dialog_then_the_order_is_paid(assistant: Assistant) -> None:
    assert "last 4 digits" in assistant.texts("payer", "pay for order A-10240")
    reply = assistant.texts("payer", last4("A-10240"))
    url = re.search(r"http://\S+/pay/\S+", reply)
    assert url, reply
    with urllib.request.urlopen(url.group(0), timeout=10) as page:
        assert "A-10240" in page.read().decode()
    pay = urllib.request.Request(url.group(0), data=b"", method="POST")
    with urllib.request.urlopen(pay, timeout=10) as page:
        assert 'id="status"' in page.read().decode()
    assert "is paid and being packed" in assistant.texts(
        "payer", "where is order A-10240"
    )


def _status(
    url: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_rasa_api_needs_its_token(assistant: Assistant) -> None:
    token = assistant.tokens["EASYFLOW_RASA_TOKEN"]
    tracker = f"{assistant.rasa_url}/conversations/x/tracker"
    assert _status(tracker)[0] == 401
    assert _status(f"{tracker}?token=wrong")[0] == 401
    assert _status(f"{tracker}?token={token}")[0] == 200
    assert _status(f"{assistant.rasa_url}/status")[0] == 401
    assert _status(f"{assistant.rasa_url}/status?token={token}")[0] == 200


def test_rasa_api_refuses_to_load_a_model_without_the_token(
    assistant: Assistant,
) -> None:
    """PUT /model from a URL would unpickle whatever the URL serves."""
    request = urllib.request.Request(
        f"{assistant.rasa_url}/model",
        data=json.dumps({"model_server": {"url": "http://evil.example/m"}}).encode(),
        headers={"Content-Type": "application/json"},
        method="PUT",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401


def test_rasa_cors_answers_only_the_dashboard_origin(assistant: Assistant) -> None:
    tracker = f"{assistant.rasa_url}/conversations/x/tracker"
    for origin, allowed in (
        ("http://evil.example", False),
        ("null", False),
        (assistant.api_origin, True),
    ):
        preflight = {
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
        }
        _, headers = _status(tracker, "OPTIONS", preflight)
        given = {k.lower(): v for k, v in headers.items()}
        assert ("access-control-allow-origin" in given) is allowed, (origin, given)
        if allowed:
            assert given["access-control-allow-origin"] == origin
        # Even a page that somehow holds the token may not read the answer.
        token = assistant.tokens["EASYFLOW_RASA_TOKEN"]
        status, headers = _status(
            f"{tracker}?token={token}", headers={"Origin": origin}
        )
        assert status == 200
        given = {k.lower(): v for k, v in headers.items()}
        assert ("access-control-allow-origin" in given) is allowed, (origin, given)


def test_the_action_server_answers_rasa_only(assistant: Assistant) -> None:
    """Turns above ran actions, so Rasa's header reached it; nobody else gets in."""
    for path in ("/webhook", "/webhook/", "/actions"):
        assert _status(assistant.actions_url + path, "POST")[0] == 401
    bearer = {"Authorization": f"Bearer {assistant.tokens['EASYFLOW_ACTION_TOKEN']}"}
    assert _status(assistant.actions_url + "/actions", headers=bearer)[0] == 200
    assert _status(assistant.actions_url + "/health")[0] == 200


def test_the_payment_notice_reaches_the_closed_api(assistant: Assistant) -> None:
    """The pay test above settled a payment: the action server told Rasa with its
    token (actions/proactive/notifier.py); without it Rasa would answer 401."""
    log = assistant.log.read_text()
    assert "payments.shopper_told" in log
    assert "payments.notify_failed" not in log


def test_action_server_down_gets_an_apology(assistant: Assistant) -> None:
    assistant.actions.send_signal(signal.SIGTERM)
    assistant.actions.wait(timeout=20)
    reply = assistant.texts("unlucky", "где мой заказ A-10234")
    assert "временный сбой" in reply


def test_no_process_shows_the_api_token_in_its_arguments(
    assistant: Assistant,
) -> None:
    """Found by the outside probe: `rasa run --auth-token …` put the token in
    /proc/<pid>/cmdline, which every local user can read."""
    token = assistant.tokens["EASYFLOW_RASA_TOKEN"].encode()
    shown = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if token in cmdline.read_bytes():
                shown.append(cmdline.parent.name)
        except OSError:  # the process ended meanwhile
            continue
    assert shown == []
    token_text = token.decode()
    assert _status(f"{assistant.rasa_url}/status")[0] == 401  # still closed
    assert _status(f"{assistant.rasa_url}/status?token={token_text}")[0] == 200
