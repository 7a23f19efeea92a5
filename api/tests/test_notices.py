"""Failed proactive messages: listed for analysts and operators, tried again by
operators, each read and retry audited; the action server's side of the contract
(``GET /notices/failed``, ``POST /notices/<id>/retry`` with its bearer token) is
tested against the real server in tests/actions/test_server.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from easyflow_api.db import Database
from easyflow_api.models import AuditEntry
from tests.conftest import MakeClient, add_user, login_admin

TOKEN = "action-token-for-the-api"
FAILED = {
    "id": 3,
    "sender_id": "telegram:42",
    "order_id": "A-10234",
    "state": "failed",
    "attempts": 8,
    "last_error": "Rasa did not take the notice",
    "intent": "EXTERNAL_order_status_changed",
    "entities": {"order_id": "A-10234", "order_state": "shipped"},
    "created_at": "2026-12-06T10:00:00",
}


class ActionServer:
    """The action server's notice routes on loopback, holding one failed notice
    until it is tried again."""

    def __init__(self) -> None:
        self.failed = [dict(FAILED)]
        self.requests: list[tuple[str, str, str | None]] = []
        self.url = ""


@pytest.fixture
def actions() -> Iterator[ActionServer]:
    server_state = ActionServer()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: Any) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _authorised(self, method: str) -> bool:
            auth = self.headers.get("Authorization")
            server_state.requests.append((method, self.path, auth))
            if auth != f"Bearer {TOKEN}":
                self._answer(401, {"error": "unauthorized"})
                return False
            return True

        def do_GET(self) -> None:
            if self._authorised("GET") and self.path == "/notices/failed":
                self._answer(200, server_state.failed)

        def do_POST(self) -> None:
            if not self._authorised("POST"):
                return
            wanted = self.path.split("/")[2]
            match = [n for n in server_state.failed if str(n["id"]) == wanted]
            if not match:
                self._answer(404, {"error": "no failed notice"})
                return
            server_state.failed.remove(match[0])
            self._answer(200, {"id": match[0]["id"], "sent": True})

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server_state
    server.shutdown()
    server.server_close()


@pytest.fixture
def api(make_client: MakeClient, actions: ActionServer) -> Iterator[TestClient]:
    with make_client(action_server_url=actions.url, action_token=TOKEN) as client:
        yield client


def test_an_operator_sees_a_failed_update_and_tries_it_again(
    api: TestClient, actions: ActionServer, db: Database
) -> None:
    operator = add_user(api, login_admin(api), "olga", "operator")
    listed = api.get("/api/notices/failed", headers=operator)
    assert listed.status_code == 200
    assert listed.json() == [
        {
            "id": 3,
            "sender_id": "telegram:42",
            "order_id": "A-10234",
            "kind": "EXTERNAL_order_status_changed",
            "order_state": "shipped",
            "attempts": 8,
            "last_error": "Rasa did not take the notice",
            "created_at": "2026-12-06T10:00:00",
        }
    ]
    retried = api.post("/api/notices/3/retry", headers=operator)
    assert retried.status_code == 200 and retried.json() == {"id": 3, "sent": True}
    assert api.post("/api/notices/3/retry", headers=operator).status_code == 404
    assert api.get("/api/notices/failed", headers=operator).json() == []
    assert all(auth == f"Bearer {TOKEN}" for _, _, auth in actions.requests)
    with db.session() as session:
        actions_audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor == "olga")
        ).all()
    assert actions_audited.count("notice.retry") == 1
    assert "notice.list" in actions_audited


def test_who_may_read_and_retry(api: TestClient, actions: ActionServer) -> None:
    analyst = add_user(api, login_admin(api), "ann", "analyst")
    assert api.get("/api/notices/failed").status_code == 401
    assert api.get("/api/notices/failed", headers=analyst).status_code == 200
    assert api.post("/api/notices/3/retry", headers=analyst).status_code == 403
    assert api.post("/api/notices/0/retry", headers=login_admin(api)).status_code == 422
    assert actions.failed == [FAILED]  # nothing was tried


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"action_token": "wrong"}, "refused the api's token"),
        ({"action_token": None}, "EASYFLOW_ACTION_TOKEN is not set"),
        ({"action_server_url": "http://127.0.0.1:9"}, "unreachable"),
    ],
)
def test_a_misconfigured_or_down_action_server_is_a_clear_502(
    make_client: MakeClient,
    actions: ActionServer,
    overrides: dict[str, Any],
    message: str,
) -> None:
    settings = {"action_server_url": actions.url, "action_token": TOKEN, **overrides}
    with make_client(**settings) as client:
        admin = login_admin(client)
        listed = client.get("/api/notices/failed", headers=admin)
        retried = client.post("/api/notices/3/retry", headers=admin)
    assert listed.status_code == 502 and message in listed.json()["detail"]
    assert retried.status_code == 502
    assert actions.failed == [FAILED]
