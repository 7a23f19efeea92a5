"""Settings validation, development bootstrap, CLI, metrics and static files.

These run on a fresh SQLite file each, which the app itself migrates."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect

from easyflow_api.__main__ import main
from easyflow_api.core.config import ConfigError, Settings
from easyflow_api.core.logging import JsonFormatter
from tests.conftest import app_client, login, login_admin, make_settings

STRONG = "s" * 48


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'api.db'}"


def test_production_refuses_missing_or_weak_secret(monkeypatch) -> None:
    monkeypatch.delenv("EASYFLOW_API_SECRET", raising=False)
    with pytest.raises(ConfigError, match="EASYFLOW_API_SECRET"):
        Settings(env="production")
    for weak in ("change-me", "secret", "short-but-random-7f3a"):
        with pytest.raises(ConfigError, match="EASYFLOW_API_SECRET"):
            Settings(env="production", api_secret=weak)
    with pytest.raises(ConfigError, match="EASYFLOW_ADMIN_PASSWORD"):
        Settings(env="production", api_secret=STRONG, admin_password="admin")
    ok = Settings(env="production", api_secret=STRONG, admin_password="a-strong-one-42")
    assert ok.bootstrap_admin_password == "a-strong-one-42"
    assert (
        Settings(env="production", api_secret=STRONG).bootstrap_admin_password is None
    )


def test_production_app_and_cli_refuse_to_start(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("EASYFLOW_ENV", "production")
    monkeypatch.delenv("EASYFLOW_API_SECRET", raising=False)
    monkeypatch.setenv("EASYFLOW_DATA_DIR", str(tmp_path))
    assert main(["migrate"]) == 2
    assert "EASYFLOW_API_SECRET" in capsys.readouterr().err
    monkeypatch.setenv("EASYFLOW_API_INGEST_INTERVAL_S", "soon")
    assert main(["migrate"]) == 2
    assert "EASYFLOW_API_INGEST_INTERVAL_S" in capsys.readouterr().err
    monkeypatch.delenv("EASYFLOW_API_INGEST_INTERVAL_S")
    from easyflow_api.core.config import get_settings

    get_settings.cache_clear()
    try:
        with (
            pytest.raises(ConfigError, match="EASYFLOW_API_SECRET"),
            app_client(None),
        ):
            pass
    finally:
        get_settings.cache_clear()


def test_development_secret_and_default_admin(tmp_path: Path, caplog, capsys) -> None:
    settings = make_settings(
        _sqlite(tmp_path), tmp_path, api_secret=None, admin_password=None
    )
    with (
        caplog.at_level(logging.WARNING),
        app_client(settings) as client,
    ):
        headers = login(client, "admin", "admin")
        assert client.get("/api/auth/me", headers=headers).status_code == 200
    printed = capsys.readouterr().out
    # where the password is, never the password (tests/test_auth_sessions.py)
    assert "development default documented in api/README.md" in printed
    assert "admin / admin" not in printed
    assert any(
        r.getMessage() == "auth.bootstrap_admin.created" and not hasattr(r, "password")
        for r in caplog.records
    )
    secret_file = tmp_path / "api_secret"
    assert len(secret_file.read_text()) >= 48
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
    # the persisted secret survives a restart: the old token still works
    with app_client(settings) as client:
        assert client.get("/api/auth/me", headers=headers).status_code == 200
    inspector = inspect(create_engine(_sqlite(tmp_path)))
    assert "alembic_version" in inspector.get_table_names()
    assert {"conversations", "events", "handoffs", "payments"} <= set(
        inspector.get_table_names()
    )


def test_cli_create_user(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("EASYFLOW_ENV", "development")
    monkeypatch.setenv("EASYFLOW_API_DATABASE_URL", _sqlite(tmp_path))
    monkeypatch.setenv("EASYFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EASYFLOW_NEW_USER_PASSWORD", "operator-pass-1")
    assert main(["create-user", "olga", "--role", "operator"]) == 0
    assert main(["create-user", "olga", "--role", "operator"]) == 1
    assert "created operator olga" in capsys.readouterr().out
    settings = make_settings(_sqlite(tmp_path), tmp_path)
    with app_client(settings) as client:
        headers = login(client, "olga", "operator-pass-1")
        assert client.get("/api/auth/me", headers=headers).json()["role"] == "operator"


def test_metrics(tmp_path: Path) -> None:
    settings = make_settings(_sqlite(tmp_path), tmp_path)
    with app_client(settings) as client:
        client.get("/health")
        client.get("/api/conversations/5")
        body = client.get("/metrics").text
        assert (
            'easyflow_api_requests_total{method="GET",route="/health",status="200"}'
            in body
        )
        assert (
            'easyflow_api_requests_total{method="GET",'
            'route="/api/conversations/{conversation_id}",status="401"}' in body
        )
        assert "easyflow_api_request_latency_seconds_bucket" in body
        assert "easyflow_ingest_lag_seconds" in body
    protected = make_settings(_sqlite(tmp_path), tmp_path, api_metrics_token="m-token")
    with app_client(protected) as client:
        assert client.get("/metrics").status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer m-token"})
        assert ok.status_code == 200 and "easyflow_api_requests_total" in ok.text


def test_settings_report_names_only(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_TOKEN", "123:very-secret-token")
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", "hook-secret")
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_secret")
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("EASYFLOW_LLM_BACKEND", "openai")
    monkeypatch.delenv("EASYFLOW_LLM_BASE_URL", raising=False)
    settings = make_settings(_sqlite(tmp_path), tmp_path)
    with app_client(settings) as client:
        response = client.get("/api/settings", headers=login_admin(client))
    body = response.json()
    assert {"name": "telegram", "configured": True} in body["channels"]
    assert {"name": "stripe", "configured": False} in body["payments"]
    assert body["llm"] == {"answerer": "openai", "configured": False}
    assert body["secrets"]["TELEGRAM_TOKEN"] == "present"
    assert body["secrets"]["STRIPE_WEBHOOK_SECRET"] == "absent"
    for secret in ("very-secret-token", "hook-secret", "sk_test_secret"):
        assert secret not in response.text


def test_json_logs() -> None:
    record = logging.makeLogRecord(
        {"name": "x", "levelname": "INFO", "msg": "ingest.sql.batch", "stored": 3}
    )
    line = JsonFormatter().format(record)
    import json

    parsed = json.loads(line)
    assert parsed["event"] == "ingest.sql.batch" and parsed["stored"] == 3
    assert parsed["time"].endswith("Z") and parsed["level"] == "info"


def test_static_dashboard_widget_and_demo(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "widget").mkdir()
    (dist / "demo").mkdir()
    (dist / "index.html").write_text("<html>dashboard</html>")
    (dist / "assets" / "app.js").write_text("console.log(1)")
    (dist / "widget" / "easyflow-widget.js").write_text("/* widget */")
    (dist / "demo" / "index.html").write_text("<html>demo shop</html>")
    (tmp_path / "secret.txt").write_text("do not serve")
    settings = make_settings(_sqlite(tmp_path), tmp_path, api_dashboard_dir=dist)
    with app_client(settings) as client:
        assert client.get("/").text == "<html>dashboard</html>"
        assert client.get("/conversations/12").text == "<html>dashboard</html>"
        assert client.get("/assets/app.js").text == "console.log(1)"
        assert client.get("/assets/missing.js").status_code == 404
        widget = client.get("/widget/easyflow-widget.js")
        assert widget.text == "/* widget */"
        assert "javascript" in widget.headers["content-type"]
        assert client.get("/demo").text == "<html>demo shop</html>"
        assert client.get("/widget/../secret.txt").status_code == 404
        assert client.get("/widget/%2e%2e/secret.txt").status_code == 404
        assert client.get("/%2e%2e/secret.txt").status_code == 404
        assert client.get("/api/nothing-here").status_code == 404
        assert client.get("/api/nothing-here").json() == {"detail": "not found"}
        assert client.get("/docs").status_code == 200
        assert (
            client.get("/openapi.json").json()["info"]["title"].startswith("Easy Flow")
        )
    without = make_settings(_sqlite(tmp_path), tmp_path)
    with app_client(without) as client:
        assert client.get("/").status_code == 404
        assert client.get("/demo").status_code == 404


def test_cli_seed_demo(tmp_path: Path, monkeypatch, capsys) -> None:
    import sqlite3

    monkeypatch.setenv("EASYFLOW_ENV", "development")
    monkeypatch.setenv("EASYFLOW_API_DATABASE_URL", _sqlite(tmp_path))
    monkeypatch.setenv("EASYFLOW_DATA_DIR", str(tmp_path))
    assert main(["seed-demo", "--base-day", "2026-03-10"]) == 0
    assert main(["seed-demo", "--base-day", "2026-03-10"]) == 0
    out = capsys.readouterr().out
    assert "seeded 161 demo events" in out and "seeded 0 demo events" in out
    settings = make_settings(_sqlite(tmp_path), tmp_path)
    with app_client(settings) as client:
        admin = login_admin(client)
        overview = client.get("/api/analytics/overview", headers=admin).json()
    assert overview["conversations"] == 10 and overview["messages"] == 23

    broker = tmp_path / "rasa-events.db"
    assert (
        main(["seed-demo", "--base-day", "2026-03-10", "--events-db", str(broker)]) == 0
    )
    with sqlite3.connect(broker) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (161,)


def _preflight(client: TestClient, origin: str):
    return client.options(
        "/api/auth/me",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )


def test_cors_origins_come_from_the_settings(tmp_path: Path) -> None:
    settings = make_settings(
        _sqlite(tmp_path),
        tmp_path,
        api_cors_origins=" https://shop.example ,https://admin.example,",
    )
    assert settings.cors_origins == ["https://shop.example", "https://admin.example"]
    with app_client(settings) as client:
        allowed = _preflight(client, "https://admin.example")
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://admin.example"
        refused = _preflight(client, "https://evil.example")
        assert "access-control-allow-origin" not in refused.headers
    closed = make_settings(_sqlite(tmp_path), tmp_path)
    with app_client(closed) as client:
        response = _preflight(client, "https://shop.example")
        assert "access-control-allow-origin" not in response.headers


def test_cors_origins_from_the_environment_go_through_settings(
    tmp_path: Path, monkeypatch
) -> None:
    from easyflow_api.core.config import get_settings

    monkeypatch.setenv("EASYFLOW_ENV", "development")
    monkeypatch.setenv("EASYFLOW_API_DATABASE_URL", _sqlite(tmp_path))
    monkeypatch.setenv("EASYFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EASYFLOW_API_INGEST", "none")
    monkeypatch.setenv("EASYFLOW_API_CORS_ORIGINS", "https://shop.example")
    get_settings.cache_clear()
    try:
        with app_client(None) as client:
            response = _preflight(client, "https://shop.example")
            assert (
                response.headers["access-control-allow-origin"]
                == "https://shop.example"
            )
        # an invalid environment opens no origin and the app refuses to start
        monkeypatch.setenv("EASYFLOW_API_INGEST_INTERVAL_S", "soon")
        get_settings.cache_clear()
        with (
            pytest.raises(ConfigError, match="EASYFLOW_API_INGEST_INTERVAL_S"),
            app_client(None),
        ):
            pass
    finally:
        get_settings.cache_clear()


def test_only_the_settings_module_reads_the_environment() -> None:
    import ast

    package = Path(__file__).resolve().parents[1] / "easyflow_api"
    readers = set()
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            reads = (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
                and node.attr in ("environ", "getenv", "environb")
            ) or (
                isinstance(node, ast.ImportFrom)
                and node.module == "os"
                and any(a.name in ("environ", "getenv") for a in node.names)
            )
            if reads:
                readers.add(str(path.relative_to(package)))
    assert readers == {"core/config.py"}
