"""Shared fixtures: a migrated database per backend (SQLite file and a uniquely
named PostgreSQL database on the local server), the app (`client`, or
`make_client(**settings)` / `app_client(settings)` for other settings), logins
(`admin`, `login_admin`, `login`, `add_user`) and a loopback emulator of Rasa's
HTTP API."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import psycopg2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from easyflow_api.core.config import Settings
from easyflow_api.db import Database
from easyflow_api.main import create_app
from easyflow_api.models import Base

POSTGRES_ADMIN_DSN = os.environ.get(
    "EASYFLOW_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BASE_DAY = date(2026, 3, 10)
TEST_SECRET = "test-secret-" + "x" * 40
ADMIN_PASSWORD = "admin-password-1"
TEST_SECRETS_KEY = "dGVzdC1zZWNyZXRzLWtleS0zMi1ieXRlcy1sb25nISE"
MakeClient = Callable[..., TestClient]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "api.db"
        yield f"sqlite:///{path}"
        return
    name = f"easyflow_api_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(POSTGRES_ADMIN_DSN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def migrated(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def db(migrated: Database) -> Database:
    """The migrated database, emptied before the test."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with migrated.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
    return migrated


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any


@dataclass
class RasaEmulator:
    """Loopback stand-in for Rasa's HTTP API and the action server's /health."""

    url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    fail_with: int | None = None


@contextmanager
def start_rasa_emulator() -> Iterator[RasaEmulator]:
    emulator = RasaEmulator()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            emulator.requests.append(
                RecordedRequest("GET", parsed.path, parse_qs(parsed.query), None)
            )
            self._answer(200, {"status": "ok", "version": "3.6.21"})

        def do_POST(self) -> None:
            parsed = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            emulator.requests.append(
                RecordedRequest("POST", parsed.path, parse_qs(parsed.query), body)
            )
            if emulator.fail_with:
                self._answer(emulator.fail_with, {"message": "emulated failure"})
                return
            self._answer(200, {"tracker": {"sender_id": "x"}, "messages": []})

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    emulator.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield emulator
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def rasa() -> Iterator[RasaEmulator]:
    with start_rasa_emulator() as emulator:
        yield emulator


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "development",
        "api_database_url": database_url,
        "data_dir": data_dir,
        "api_ingest": "none",
        "api_secret": TEST_SECRET,
        "admin_user": "admin",
        "admin_password": ADMIN_PASSWORD,
        "rasa_url": "http://127.0.0.1:9",
        "action_server_url": "http://127.0.0.1:9",
        "api_metrics_token": None,
        "api_dashboard_dir": data_dir / "no-dashboard",
        "api_http_timeout_s": 3.0,
        # Production refuses to start without one (tests/test_integrations.py
        # passes None to use the development key file).
        "secrets_key": TEST_SECRETS_KEY,
    }
    values.update(overrides)
    return Settings(**values)


def database_url_of(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def app_client(settings: Settings | None) -> TestClient:
    """A client of the app with these settings (None: from the environment);
    enter it with `with` to run the app's start-up."""
    return TestClient(create_app(settings, configure_logs=False))


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    return make_settings(database_url_of(db), tmp_path)


@pytest.fixture
def make_client(db: Database, tmp_path: Path) -> MakeClient:
    """Builds a client of the app on the test database with settings overrides."""

    def build(**overrides: Any) -> TestClient:
        return app_client(make_settings(database_url_of(db), tmp_path, **overrides))

    return build


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with app_client(settings) as test_client:
        yield test_client


def login(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post(
        "/api/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def login_admin(client: TestClient) -> dict[str, str]:
    """Headers of the bootstrap admin that make_settings configures."""
    return login(client, "admin", ADMIN_PASSWORD)


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    return login_admin(client)


def add_user(
    client: TestClient, admin: dict[str, str], username: str, role: str
) -> dict[str, str]:
    password = f"{username}-password"
    response = client.post(
        "/api/users",
        headers=admin,
        json={"username": username, "password": password, "role": role},
    )
    assert response.status_code == 201, response.text
    return login(client, username, password)
