"""The action server as a process: start-up checks, and its doors attacked.

Deny by default (``actions/access.py``): every spelling of an action route answers
401 without the token, the public allow-list answers without it, and the token
works as a bearer header (and, for one release, as ``?token=``).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import stat
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest
from prometheus_client.parser import text_string_to_metric_families

from actions.proactive.notifier import RasaNotifier
from actions.proactive.queue import NoticeQueue
from tests.servers import action_server

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "door-test-token-7f3a"
# An action call rasa-sdk would run if it got past the door.
CALL = json.dumps(
    {
        "next_action": "action_handle_order_request",
        "sender_id": "intruder",
        "tracker": {"sender_id": "intruder", "slots": {}, "events": []},
        "domain": {},
    }
).encode()
# Every way found to reach the action routes without the exact path ``/webhook``:
# Sanic routes a trailing (or doubled trailing) slash to the same handler; the
# others must not slip through a path comparison either, whatever Sanic does.
ACTION_SPELLINGS = [
    ("POST", "/webhook"),
    ("POST", "/webhook/"),
    ("POST", "/webhook//"),
    ("POST", "//webhook"),
    ("POST", "/WEBHOOK"),
    ("POST", "/Webhook/"),
    ("POST", "/%77ebhook"),
    ("POST", "/webhook%2F"),
    ("POST", "/%2Fwebhook"),
    ("POST", "/./webhook"),
    ("POST", "/webhook?x=1"),
    ("POST", "/webhook/?next_action=action_listen"),
    ("POST", "/webhook;token=x"),
    ("GET", "/actions"),
    ("GET", "/actions/"),
    ("GET", "//actions"),
    ("GET", "/ACTIONS"),
    ("GET", "/actions?token="),
    ("GET", "/no-such-route"),
]


def _request(
    base: str,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> tuple[int, bytes]:
    """Sends ``path`` exactly as written (urllib would normalise it)."""
    address = urlparse(base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.request(
            method,
            path,
            body=body if body is not None else (CALL if method == "POST" else None),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The action server with a configured token; yields its base URL."""
    data = tmp_path_factory.mktemp("doors")
    with action_server(data, env={"EASYFLOW_ACTION_TOKEN": TOKEN}) as webhook:
        yield webhook.removesuffix("/webhook")


def test_invalid_setting_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "EASYFLOW_DATA_DIR": str(tmp_path),
        "EASYFLOW_RETURN_WINDOW_DAYS": "two weeks",
    }
    result = subprocess.run(
        [sys.executable, "-m", "actions.server"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "EASYFLOW_RETURN_WINDOW_DAYS" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "demo_store.sqlite").exists()


@pytest.mark.parametrize(("method", "path"), ACTION_SPELLINGS)
def test_every_spelling_without_the_token_is_refused(
    server: str, method: str, path: str
) -> None:
    status, body = _request(server, method, path)
    assert status == 401, (path, body)
    assert json.loads(body) == {"error": "unauthorized"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": "Bearer"},
        {"X-Token": TOKEN},
    ],
)
def test_a_wrong_or_misplaced_token_is_refused(
    server: str, headers: dict[str, str]
) -> None:
    for path in ("/webhook", "/webhook/", "/actions"):
        assert _request(server, "POST", path, headers)[0] == 401, (path, headers)
    assert _request(server, "POST", "/webhook?token=wrong-token")[0] == 401


@pytest.mark.parametrize("path", ["/webhook", "/webhook/", "/webhook//"])
def test_the_bearer_token_reaches_the_action(server: str, path: str) -> None:
    """Past the door rasa-sdk answers: an empty tracker has no order to look up,
    so the action runs and asks for the order number."""
    status, body = _request(server, "POST", path, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, body
    assert "events" in json.loads(body)


def test_the_query_token_still_works_for_one_release(server: str) -> None:
    status, body = _request(server, "GET", f"/actions?token={TOKEN}")
    assert status == 200, body
    names = {action["name"] for action in json.loads(body)}
    assert "action_handle_order_request" in names


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/health", 200),
        ("GET", "/health/", 200),
        ("GET", "/ready", 200),  # action_server() waited for it
        ("GET", "/metrics", 200),
        ("GET", "/pay/no-such-payment", 404),
        ("POST", "/pay/no-such-payment", 404),
        ("POST", "/payments/demo/webhook", 404),  # the demo provider has none
        ("POST", "/payments/nobody/webhook", 404),
        # A payment id "../webhook" for the pay page, never the action route.
        ("POST", "/pay/..%2Fwebhook", 404),
    ],
)
def test_public_routes_answer_without_the_token(
    server: str, method: str, path: str, expected: int
) -> None:
    status, body = _request(server, method, path, body=b"{}")
    assert status == expected, (path, body)


def test_without_a_configured_token_one_is_generated_and_required(
    tmp_path: Path,
) -> None:
    """The embedded default: no EASYFLOW_ACTION_TOKEN, yet no open door; the
    token lands in the data folder, readable by its owner only, and is kept."""
    token_file = tmp_path / "action_token"
    with action_server(tmp_path, env={"EASYFLOW_ACTION_TOKEN": ""}) as webhook:
        base = webhook.removesuffix("/webhook")
        token = token_file.read_text().strip()
        assert len(token) >= 32
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert _request(base, "POST", "/webhook/")[0] == 401
        assert (
            _request(base, "POST", "/webhook", {"Authorization": "Bearer "})[0] == 401
        )
        bearer = {"Authorization": f"Bearer {token}"}
        assert _request(base, "GET", "/actions", bearer)[0] == 200
    with action_server(tmp_path, env={"EASYFLOW_ACTION_TOKEN": ""}) as webhook:
        assert token_file.read_text().strip() == token
        base = webhook.removesuffix("/webhook")
        assert _request(base, "GET", "/actions", bearer)[0] == 200


def _call(action: str, text: str, slots: dict[str, str]) -> bytes:
    tracker = {
        "sender_id": "telegram:5",
        "slots": slots,
        "events": [],
        "latest_message": {"text": text, "intent": {"name": "x"}, "entities": []},
    }
    call = {"next_action": action, "sender_id": "telegram:5", "tracker": tracker}
    return json.dumps({**call, "domain": {}}).encode()


@pytest.mark.parametrize("multiprocess", [False, True])
def test_metrics_and_json_logs_after_real_action_calls(
    tmp_path: Path, multiprocess: bool
) -> None:
    """An order question, a knowledge question and an unknown action: the page
    parses with prometheus-client's parser and counts them (in multiprocess mode
    read back from the samples folder); every log line is JSON, and the lines
    logged inside a call carry its sender, action and order."""
    env = {"EASYFLOW_ACTION_TOKEN": TOKEN}
    samples = tmp_path / "metrics"
    if multiprocess:
        samples.mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(samples)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    order = _call("action_handle_order_request", "где A-10234", {"order_id": "A-10234"})
    question = _call("action_llm_fallback", "как вернуть товар?", {})
    with action_server(tmp_path, env=env) as webhook:
        base = webhook.removesuffix("/webhook")
        assert _request(base, "POST", "/webhook", bearer, order)[0] == 200
        assert _request(base, "POST", "/webhook", bearer, question)[0] == 200
        unknown = _call("action_no_such_thing", "x", {})
        assert _request(base, "POST", "/webhook", bearer, unknown)[0] == 404
        status, page = _request(base, "GET", "/metrics")
    assert status == 200
    assert bool(list(samples.glob("*.db"))) == multiprocess

    families = {f.name: f for f in text_string_to_metric_families(page.decode())}
    expected = {
        "easyflow_actions": "counter",
        "easyflow_action_latency_seconds": "histogram",
        "easyflow_llm_latency_seconds": "histogram",
        "easyflow_fallbacks": "counter",
    }
    if not multiprocess:  # the samples folder knows only metrics with samples
        expected["easyflow_action_errors"] = "counter"
    assert {name: family.type for name, family in families.items()} == expected
    values = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families.values()
        for sample in family.samples
    }
    assert (
        values[("easyflow_actions_total", (("action", "action_handle_order_request"),))]
        == 1
    )
    assert values[("easyflow_actions_total", (("action", "action_llm_fallback"),))] == 1
    assert not [key for key in values if "action_no_such_thing" in str(key)]
    assert values[("easyflow_fallbacks_total", (("answerer", "extractive"),))] == 1
    assert (
        values[("easyflow_llm_latency_seconds_count", (("answerer", "extractive"),))]
        == 1
    )
    assert not [key for key in values if key[0].startswith("easyflow_action_errors")]

    # From the first line logging prints on (a warning raised while modules are
    # imported comes before it is configured), every line is one JSON object.
    printed = (tmp_path / "actions.log").read_text().splitlines()
    first = next(n for n, line in enumerate(printed) if line.startswith("{"))
    lines = [json.loads(line) for line in printed[first:]]
    assert {line["process"] for line in lines} == {"actions"}
    withheld = next(
        line for line in lines if line["event"] == "privacy.details_withheld"
    )
    assert withheld["sender_id"] == "telegram:5"
    assert withheld["action"] == "action_handle_order_request"
    assert withheld["order_id"] == "A-10234"
    answered = next(line for line in lines if line["event"] == "fallback.answered")
    assert answered["action"] == "action_llm_fallback" and "order_id" not in answered
    started = next(line for line in lines if line["event"] == "actions.server.start")
    assert started["token"] == "configured" and "sender_id" not in started


def test_compressed_and_malformed_calls_are_read_once_or_refused(
    tmp_path: Path,
) -> None:
    """The call is decoded once per request for the middlewares and the webhook:
    a deflate-compressed call (Rasa's ``compress`` option) and one that only
    Python's decoder reads (``NaN``, not orjson's) are answered and counted; a
    body that is not JSON gets 400 and counts nothing."""
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    compressed = zlib.compress(_call("action_llm_fallback", "как вернуть?", {}))
    with action_server(tmp_path, env={"EASYFLOW_ACTION_TOKEN": TOKEN}) as webhook:
        base = webhook.removesuffix("/webhook")
        deflate = {**bearer, "Content-Encoding": "deflate"}
        status, body = _request(base, "POST", "/webhook", deflate, compressed)
        assert status == 200 and json.loads(body)["responses"]
        lenient = _call("action_llm_fallback", "как вернуть?", {})
        lenient = lenient.replace(b"{", b'{"score": NaN, ', 1)
        status, body = _request(base, "POST", "/webhook", bearer, lenient)
        assert status == 200 and json.loads(body)["responses"]
        assert _request(base, "POST", "/webhook", bearer, b"{not json")[0] == 400
        page = _request(base, "GET", "/metrics")[1].decode()
    counted = [
        line for line in page.splitlines() if line.startswith("easyflow_actions")
    ]
    assert counted == ['easyflow_actions_total{action="action_llm_fallback"} 2.0']


def test_ready_answers_503_until_the_passages_are_embedded() -> None:
    from sanic import Sanic

    from actions.access import install_token_guard
    from actions.server import install_readiness

    app = Sanic("readiness-test")
    warmed = threading.Event()
    install_token_guard(app, TOKEN)
    install_readiness(app, warmed)

    _, warming = app.test_client.get("/ready")
    warmed.set()
    _, ready = app.test_client.get("/ready")

    assert (warming.status, warming.json) == (503, {"status": "warming"})
    assert (ready.status, ready.json) == (200, {"status": "ready"})


@pytest.mark.parametrize(
    ("method", "path"),
    [("OPTIONS", "/webhook"), ("GET", "/metrics"), ("GET", "/health")],
)
def test_no_web_page_may_read_the_action_server(
    server: str, method: str, path: str
) -> None:
    """Found by the outside probe: rasa-sdk allows every origin by default."""
    address = urlparse(server)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.request(
            method,
            path,
            headers={
                "Origin": "https://evil.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        answer = connection.getresponse()
        answer.read()
    finally:
        connection.close()
    assert answer.getheader("Access-Control-Allow-Origin") is None


def test_failed_notices_are_listed_only_with_the_token(server: str) -> None:
    assert _request(server, "GET", "/notices/failed")[0] == 401
    status, body = _request(
        server, "GET", "/notices/failed", {"Authorization": f"Bearer {TOKEN}"}
    )
    assert (status, json.loads(body)) == (200, [])


def test_a_failed_notice_is_tried_again_only_with_the_token(
    tmp_path: Path,
) -> None:
    """The dashboard's "try again" (api/), against the real action server: a
    notice that failed while Rasa was down goes out once Rasa is back."""
    rasa_calls: list[str] = []
    rasa = _rasa_stub(rasa_calls)
    try:
        queue = NoticeQueue(
            tmp_path / "notices.sqlite",
            RasaNotifier("http://127.0.0.1:9"),  # nothing listens: Rasa is down
            max_attempts=1,
        )

        async def fail_once() -> None:
            await queue.payment_received("telegram:42", "A-10240")
            await queue.notifier.close()

        asyncio.run(fail_once())
        env = {
            "EASYFLOW_ACTION_TOKEN": TOKEN,
            "EASYFLOW_RASA_URL": f"http://127.0.0.1:{rasa.server_port}",
        }
        with action_server(tmp_path, env=env) as webhook:
            server = webhook.removesuffix("/webhook")
            auth = {"Authorization": f"Bearer {TOKEN}"}
            status, body = _request(server, "GET", "/notices/failed", auth)
            [failed] = json.loads(body)
            assert (failed["order_id"], failed["attempts"]) == ("A-10240", 1)
            url = f"/notices/{failed['id']}/retry"
            assert _request(server, "POST", url)[0] == 401
            status, body = _request(server, "POST", url, auth)
            assert (status, json.loads(body)) == (
                200,
                {"id": failed["id"], "sent": True},
            )
            assert _request(server, "POST", url, auth)[0] == 404  # not failed now
            assert json.loads(_request(server, "GET", "/notices/failed", auth)[1]) == []
    finally:
        rasa.shutdown()
    assert rasa_calls == ["/conversations/telegram:42/trigger_intent"]


def _rasa_stub(calls: list[str]) -> ThreadingHTTPServer:
    """Rasa's trigger_intent answering 200, on a loopback port, in a thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            calls.append(self.path.split("?", 1)[0])
            body = b'{"tracker": {}, "messages": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_the_passage_warm_up_runs_behind_the_servers_own_work() -> None:
    from threadpoolctl import threadpool_info

    from actions.server import WARM_UP_NICE, background_priority

    def nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = nice()
    seen: dict[str, object] = {}

    def warm_up() -> None:
        with background_priority():
            seen["nice"] = nice()
            seen["blas"] = {
                lib["num_threads"]
                for lib in threadpool_info()
                if lib["user_api"] == "blas"
            }

    thread = threading.Thread(target=warm_up)
    thread.start()
    thread.join()
    assert seen["nice"] == min(19, before + WARM_UP_NICE)
    assert seen["blas"] == {1}
    assert nice() == before  # the server's own threads keep their priority
