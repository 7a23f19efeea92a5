"""Authentication, API keys, roles, the login rate limit and the audit log."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient
from sqlalchemy import select, text

from easyflow_api.core.security import create_access_token
from easyflow_api.db import Database
from easyflow_api.models import ApiKey, User
from tests.conftest import TEST_SECRET, add_user, login, login_admin

PUBLIC = {
    "/health",
    "/api/auth/login",
    "/metrics",
    "/api/public/shop",  # read-only, for the widget (test_shop_settings.py)
    "/widget/{path:path}",
    "/demo",
    "/{path:path}",
}


def test_every_route_needs_authentication(client: TestClient) -> None:
    checked = 0
    for template, operations in client.app.openapi()["paths"].items():
        if template in PUBLIC:
            continue
        path = template.replace("{conversation_id}", "1").replace("{handoff_id}", "1")
        path = path.replace("{item_id}", "1").replace("{key_id}", "1")
        path = path.replace("{username}", "admin").replace("{tag}", "x")
        for method in operations:
            response = client.request(method, path)
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.json()["detail"]
            bad = client.request(method, path, headers={"Authorization": "Bearer nope"})
            assert bad.status_code == 401, (method, path)
            checked += 1
    assert checked >= 30
    assert client.get("/health").json() == {"status": "ok"}


def test_login_me_and_token_checks(client: TestClient, db: Database) -> None:
    headers = login_admin(client)
    assert client.get("/api/auth/me", headers=headers).json() == {
        "username": "admin",
        "role": "admin",
    }
    wrong = client.post("/api/auth/login", json={"username": "admin", "password": "x"})
    assert wrong.status_code == 401 and wrong.json() == {
        "detail": "invalid credentials"
    }
    nobody = client.post("/api/auth/login", json={"username": "ghost", "password": "x"})
    assert nobody.status_code == 401

    expired = create_access_token("admin", "admin", TEST_SECRET, ttl_minutes=-1)
    forged = create_access_token("admin", "admin", "another-secret-" + "y" * 30, 60)
    for token in (expired, forged, "a.b.c"):
        response = client.get(
            "/api/auth/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401

    with db.session() as session:
        stored = session.scalar(
            select(User.password_hash).where(User.username == "admin")
        )
    assert stored.startswith("$argon2id$") and "admin-password-1" not in stored


def test_disabled_user_loses_access(client: TestClient, admin) -> None:
    bob = add_user(client, admin, "bob", "analyst")
    assert client.get("/api/auth/me", headers=bob).status_code == 200
    disabled = client.patch("/api/users/bob", headers=admin, json={"is_active": False})
    assert disabled.json()["is_active"] is False
    assert client.get("/api/auth/me", headers=bob).status_code == 401
    relogin = client.post(
        "/api/auth/login", json={"username": "bob", "password": "bob-password"}
    )
    assert relogin.status_code == 401


def test_login_rate_limit(client: TestClient, settings) -> None:
    for _ in range(5):
        response = client.post(
            "/api/auth/login", json={"username": "admin", "password": "no"}
        )
        assert response.status_code == 401
    blocked = client.post(
        "/api/auth/login", json={"username": "admin", "password": "admin-password-1"}
    )
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 61
    # another client address is not blocked
    other = TestClient(client.app, client=("203.0.113.7", 40000))
    assert login_admin(other)
    # nor another username from the blocked address
    assert (
        client.post(
            "/api/auth/login", json={"username": "someone", "password": "no"}
        ).status_code
        == 401
    )


def test_api_keys(client: TestClient, admin, db: Database) -> None:
    created = client.post(
        "/api/api-keys", headers=admin, json={"name": "grafana", "role": "analyst"}
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("efk_") and len(key) > 40
    with db.session() as session:
        row = session.scalar(select(ApiKey))
        assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
        with db.engine.connect() as conn:
            dump = " ".join(
                str(r) for r in conn.execute(text("SELECT * FROM api_keys"))
            )
        assert key not in dump
    headers = {"X-API-Key": key}
    assert client.get("/api/analytics/overview", headers=headers).status_code == 200
    assert client.get("/api/auth/me", headers=headers).json() == {
        "username": "key:grafana",
        "role": "analyst",
    }
    assert client.get("/api/users", headers=headers).status_code == 403
    listed = client.get("/api/api-keys", headers=admin).json()
    assert listed[0]["prefix"] == key[:10] and "key" not in listed[0]
    assert (
        client.delete(
            f"/api/api-keys/{created.json()['id']}", headers=admin
        ).status_code
        == 204
    )
    assert client.get("/api/analytics/overview", headers=headers).status_code == 401
    assert (
        client.get("/api/auth/me", headers={"X-API-Key": "efk_guess"}).status_code
        == 401
    )


def test_user_admin_rules_and_audit(client: TestClient, admin) -> None:
    dup = client.post(
        "/api/users",
        headers=admin,
        json={"username": "admin", "password": "long-enough", "role": "admin"},
    )
    assert dup.status_code == 409
    short = client.post(
        "/api/users",
        headers=admin,
        json={"username": "x", "password": "short", "role": "admin"},
    )
    assert short.status_code == 422
    role = client.post(
        "/api/users",
        headers=admin,
        json={"username": "y", "password": "long-enough", "role": "root"},
    )
    assert role.status_code == 422
    assert (
        client.patch(
            "/api/users/admin", headers=admin, json={"role": "analyst"}
        ).status_code
        == 409
    )
    assert client.delete("/api/users/admin", headers=admin).status_code == 409
    add_user(client, admin, "carol", "operator")
    promoted = client.patch("/api/users/carol", headers=admin, json={"role": "admin"})
    assert promoted.json()["role"] == "admin"
    assert client.delete("/api/users/carol", headers=admin).status_code == 204
    assert client.delete("/api/users/carol", headers=admin).status_code == 404
    users = [u["username"] for u in client.get("/api/users", headers=admin).json()]
    assert users == ["admin"]

    entries = client.get("/api/audit?limit=50", headers=admin).json()
    actions = [(e["actor"], e["action"], e["target"]) for e in entries]
    assert ("admin", "user.delete", "carol") in actions
    assert ("admin", "user.update", "carol") in actions
    assert ("admin", "user.create", "carol") in actions
    assert ("carol", "auth.login", None) in actions
    update = next(e for e in entries if e["action"] == "user.update")
    assert update["detail"] == {"fields": ["role"]}
    only = client.get("/api/audit?action=user.delete", headers=admin)
    assert [e["target"] for e in only.json()] == ["carol"]
    assert only.headers["X-Total-Count"] == "1"


def test_password_change(client: TestClient, admin) -> None:
    add_user(client, admin, "dan", "analyst")
    client.patch("/api/users/dan", headers=admin, json={"password": "new-password-9"})
    assert (
        client.post(
            "/api/auth/login", json={"username": "dan", "password": "dan-password"}
        ).status_code
        == 401
    )
    assert login(client, "dan", "new-password-9")
