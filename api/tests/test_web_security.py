"""Security headers on the API, the dashboard, the docs and the demo page;
the demo cannot be pointed at another Rasa in production; CSV exports do not
carry formulas; transcript reads and exports are audited."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from easyflow_api.core.config import REPO_ROOT
from easyflow_api.core.csvsafe import neutralise
from easyflow_api.core.headers import API_CSP, DASHBOARD_CSP
from easyflow_api.db import Database
from easyflow_api.seed import ConversationScript, load_demo
from easyflow_api.services.projection import Projector
from tests.conftest import (
    BASE_DAY,
    TEST_SECRET,
    MakeClient,
    add_user,
    login_admin,
)

DEMO_PAGE = REPO_ROOT / "dashboard" / "demo" / "index.html"
STRONG = "Correct-Horse-Battery-42"


def _csp(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def _assert_common(response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert _csp(response)["frame-ancestors"] == "frame-ancestors 'none'"


@pytest.fixture
def site(db: Database, tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(
        '<!doctype html><script type="module" src="/assets/app.js"></script>'
    )
    (dist / "assets" / "app.js").write_text("console.log(1)")
    (dist / "widget").mkdir()
    (dist / "widget" / "easyflow-widget.js").write_text("window.EasyFlow={}")
    return dist


def _app(make_client: MakeClient, site: Path, **extra) -> TestClient:
    return make_client(
        api_dashboard_dir=site,
        api_demo_page=DEMO_PAGE,
        rasa_url="http://rasa:5005",
        api_widget_rasa_url="https://chat.shop.example",
        **extra,
    )


def test_headers_on_api_dashboard_and_docs(
    db: Database, make_client: MakeClient, site: Path
) -> None:
    with _app(make_client, site) as client:
        for path in ("/health", "/api/auth/me", "/openapi.json", "/api/nope"):
            response = client.get(path)
            _assert_common(response)
            assert response.headers["content-security-policy"] == API_CSP, path
        for path in ("/", "/operator", "/assets/app.js"):
            response = client.get(path)
            assert response.status_code == 200
            _assert_common(response)
            assert response.headers["content-security-policy"] == DASHBOARD_CSP
            policy = _csp(response)
            assert "'unsafe-inline'" not in policy["script-src"]
            assert "'unsafe-inline'" not in policy["style-src"]
            assert policy["connect-src"] == "connect-src 'self'"
        widget = client.get("/widget/easyflow-widget.js")
        _assert_common(widget)
        assert widget.headers["content-type"].startswith("text/javascript")
        docs = client.get("/docs")
        _assert_common(docs)
        assert "https://cdn.jsdelivr.net" in _csp(docs)["script-src"]
        assert client.post("/api/auth/login", json={}).headers["x-frame-options"]


def test_demo_page_uses_the_configured_rasa(
    db: Database, make_client: MakeClient, site: Path
) -> None:
    with _app(make_client, site) as client:
        page = client.get("/demo")
        assert page.status_code == 200
        _assert_common(page)
        assert 'data-rasa-url="https://chat.shop.example"' in page.text
        policy = _csp(page)
        assert policy["connect-src"] == (
            "connect-src 'self' https://chat.shop.example wss://chat.shop.example"
        )
        # the inline script runs by nonce, and only it
        nonce = re.search(r"'nonce-([^']+)'", policy["script-src"]).group(1)
        inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page.text)
        assert inline == [f' nonce="{nonce}"']
        assert "unsafe-inline" not in policy["script-src"]
        assert 'get("rasa")' not in page.text  # no client-side override left
        again = client.get("/demo")
        assert _csp(again)["script-src"] != policy["script-src"]  # fresh nonce
        assert page.headers["cache-control"] == "no-store"


def test_demo_rasa_parameter_in_development(
    db: Database, make_client: MakeClient, site: Path
) -> None:
    with _app(make_client, site) as client:
        other = client.get("/demo", params={"rasa": "http://127.0.0.1:7005/"})
        assert 'data-rasa-url="http://127.0.0.1:7005"' in other.text
        assert "ws://127.0.0.1:7005" in _csp(other)["connect-src"]
        for bad in (
            "javascript:alert(1)",
            "//evil.example",
            "http://user:pw@evil.example",
            "ftp://evil.example",
            "http://a.example;script-src 'unsafe-inline' */",
        ):
            page = client.get("/demo", params={"rasa": bad})
            assert 'data-rasa-url="https://chat.shop.example"' in page.text, bad
            assert "unsafe-inline" not in _csp(page)["script-src"]
            assert _csp(page)["connect-src"].endswith("wss://chat.shop.example")
        quoted = client.get(
            "/demo", params={"rasa": 'http://x.example/"><script>alert(1)</script>'}
        )
        assert "<script>alert(1)" not in quoted.text
        assert "&quot;&gt;&lt;script&gt;" in quoted.text


def test_demo_rasa_parameter_is_ignored_in_production(
    db: Database, make_client: MakeClient, site: Path
) -> None:
    with _app(
        make_client,
        site,
        env="production",
        api_secret=TEST_SECRET,
        admin_password=STRONG,
    ) as client:
        page = client.get("/demo", params={"rasa": "https://evil.example"})
        assert page.status_code == 200
        assert "evil.example" not in page.text
        assert "evil.example" not in page.headers["content-security-policy"]
        assert 'data-rasa-url="https://chat.shop.example"' in page.text


# --- CSV --------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_cells_get_a_quote(start: str) -> None:
    assert neutralise(f"{start}cmd|' /C calc'!A0") == f"'{start}cmd|' /C calc'!A0"


def test_plain_cells_and_numbers_are_unchanged() -> None:
    for value in ("telegram", "2026-03-10", "", "a=b", 3, -2, 0.5, None):
        assert neutralise(value) == value


def test_export_neutralises_formulas_from_event_data(
    db: Database, client: TestClient, admin
) -> None:
    """Channel names come from events; one shaped like a formula stays text."""
    evil = ['=HYPERLINK("http://x.example")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\ry"]
    projector = Projector(0.6)
    with db.session() as session:
        for n, channel in enumerate(evil):
            script = ConversationScript(f"evil-{n}", time.time() - 60, channel)
            script.turn("привет", "greet", 0.99, reply="Здравствуйте!")
            for event in script.events:
                projector.apply(session, event, "sql")
        session.commit()
    response = client.get("/api/analytics/export.csv", headers=admin)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    channels = sorted(r["channel"] for r in rows)
    assert channels == sorted("'" + c for c in evil)
    assert all(
        not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        for row in rows
        for cell in row.values()
    )


# --- audit of transcript reads and exports ----------------------------------------


def test_transcript_reads_and_exports_are_audited(
    db: Database, make_client: MakeClient, site: Path
) -> None:
    load_demo(db, BASE_DAY, 0.6)
    with _app(make_client, site) as client:
        admin = login_admin(client)
        olga = add_user(client, admin, "olga", "operator")
        ann = add_user(client, admin, "ann", "analyst")
        before = time.time()
        conversation = client.get("/api/conversations", headers=olga).json()["items"][0]
        assert (
            client.get(
                f"/api/conversations/{conversation['id']}", headers=olga
            ).status_code
            == 200
        )
        handoff = client.get("/api/handoffs", headers=olga).json()[0]
        assert (
            client.get(f"/api/handoffs/{handoff['id']}", headers=olga).status_code
            == 200
        )
        assert (
            client.get(
                "/api/analytics/export.csv?start=2026-03-09&channel=vk", headers=ann
            ).status_code
            == 200
        )
        assert client.get("/api/inbox/export", headers=ann).status_code == 200

        entries = client.get("/api/audit?limit=10", headers=admin).json()
        by_action = {e["action"]: e for e in entries}
        read = by_action["conversation.read"]
        assert (read["actor"], read["target"]) == ("olga", str(conversation["id"]))
        assert read["detail"] == {"sender_id": conversation["sender_id"]}
        handoff_read = by_action["handoff.read"]
        assert (handoff_read["actor"], handoff_read["target"]) == (
            "olga",
            str(handoff["id"]),
        )
        export = by_action["analytics.export"]
        assert export["actor"] == "ann"
        assert export["detail"] == {
            "start": "2026-03-09",
            "end": None,
            "channel": "vk",
            "rows": 1,
        }
        assert by_action["inbox.export"]["actor"] == "ann"
        for entry in (read, handoff_read, export, by_action["inbox.export"]):
            at = datetime.fromisoformat(entry["at"].replace("Z", "+00:00"))
            assert before - 1 <= at.timestamp() <= time.time() + 1
