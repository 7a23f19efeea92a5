"""Photos and files shoppers sent, shown to readers: listed per conversation and
served inline, never as something the browser would run; each read audited. The
action server's side (``GET /attachments…`` with its bearer token) is tested
against the real server in tests/connectors/test_attachments.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from easyflow_api.db import Database
from easyflow_api.models import AuditEntry
from easyflow_api.seed import load_demo
from tests.conftest import BASE_DAY, MakeClient, add_user, login_admin

TOKEN = "action-token-for-the-api"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256))
PHOTO_ID = "F-00112233aabbccdd"
HTML_ID = "F-ffffffffffffffff"


class ActionServer:
    """The action server's attachment routes on loopback."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        self.url = ""
        self.sender_id = ""


@pytest.fixture
def actions() -> Iterator[ActionServer]:
    state = ActionServer()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            auth = self.headers.get("Authorization")
            state.requests.append((self.path, auth))
            if auth != f"Bearer {TOKEN}":
                self._answer(401, b"{}", "application/json")
                return
            url = urlsplit(self.path)
            if url.path == "/attachments":
                sender = parse_qs(url.query)["sender_id"][0]
                listed = [attachment(sender)] if sender == state.sender_id else []
                self._answer(200, json.dumps(listed).encode(), "application/json")
            elif url.path == f"/attachments/{PHOTO_ID}":
                self._answer(200, JPEG, "image/jpeg")
            elif url.path == f"/attachments/{HTML_ID}":
                self._answer(200, b"<script>alert(1)</script>", "text/html")
            else:
                self._answer(404, b"{}", "application/json")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


def attachment(sender_id: str) -> dict[str, Any]:
    return {
        "attachment_id": PHOTO_ID,
        "sender_id": sender_id,
        "channel": "telegram",
        "kind": "photo",
        "mime_type": "image/jpeg",
        "size": len(JPEG),
        "sha256": "0" * 64,
        "order_id": "A-10241",
        "return_id": "R-5",
        "created_at": "2026-12-06T10:00:00",
    }


@pytest.fixture
def api(
    make_client: MakeClient, actions: ActionServer, db: Database
) -> Iterator[TestClient]:
    load_demo(db, BASE_DAY, 0.2)
    with make_client(action_server_url=actions.url, action_token=TOKEN) as client:
        yield client


def first_conversation(api: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    return api.get("/api/conversations", headers=headers).json()["items"][0]


def test_an_analyst_sees_the_photo_on_its_return(
    api: TestClient, actions: ActionServer, db: Database
) -> None:
    analyst = add_user(api, login_admin(api), "ann", "analyst")
    conversation = first_conversation(api, analyst)
    actions.sender_id = conversation["sender_id"]

    listed = api.get(
        f"/api/conversations/{conversation['id']}/attachments", headers=analyst
    )
    photo = api.get(f"/api/attachments/{PHOTO_ID}", headers=analyst)

    assert listed.status_code == 200
    assert listed.json() == [
        {
            "id": PHOTO_ID,
            "kind": "photo",
            "channel": "telegram",
            "mime_type": "image/jpeg",
            "size": len(JPEG),
            "order_id": "A-10241",
            "return_id": "R-5",
            "created_at": "2026-12-06T10:00:00",
        }
    ]
    assert photo.status_code == 200 and photo.content == JPEG
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in photo.headers["content-security-policy"]
    assert photo.headers["cache-control"] == "private, no-store"
    assert all(auth == f"Bearer {TOKEN}" for _, auth in actions.requests)
    with db.session() as session:
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor == "ann")
        ).all()
    assert {"attachment.list", "attachment.read"} <= set(audited)


def test_who_may_look_and_what_is_refused(
    api: TestClient, actions: ActionServer
) -> None:
    admin = login_admin(api)
    conversation = first_conversation(api, admin)
    assert api.get(f"/api/attachments/{PHOTO_ID}").status_code == 401
    assert (
        api.get(f"/api/conversations/{conversation['id']}/attachments").status_code
        == 401
    )
    assert (
        api.get("/api/conversations/999999/attachments", headers=admin).status_code
        == 404
    )
    for bad in ("F-0011", "..%2F..%2Fetc%2Fpasswd", "F-00112233AABBCCDD", "x" * 300):
        assert api.get(f"/api/attachments/{bad}", headers=admin).status_code in (
            404,
            422,
        ), bad
    assert (
        api.get("/api/attachments/F-0000000000000000", headers=admin).status_code == 404
    )
    # Something the action server should never hold is not passed on to a browser.
    refused = api.get(f"/api/attachments/{HTML_ID}", headers=admin)
    assert refused.status_code == 502 and b"script" not in refused.content
    # Only well-formed ids ever reached the action server.
    assert all(path.startswith("/attachments") for path, _ in actions.requests)


def test_a_down_action_server_is_a_clear_502(make_client: MakeClient) -> None:
    with make_client(
        action_server_url="http://127.0.0.1:9", action_token=TOKEN
    ) as client:
        admin = login_admin(client)
        answer = client.get(f"/api/attachments/{PHOTO_ID}", headers=admin)
    assert answer.status_code == 502 and "unreachable" in answer.json()["detail"]
