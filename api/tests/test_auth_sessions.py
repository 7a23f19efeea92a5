"""Attacks on the login door: a limiter keyed by user and real client IP,
shared through Redis; tokens that die on logout and password change; the
production password policy; no password in the start-up log."""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from easyflow_api.core.config import ConfigError, Settings
from easyflow_api.core.logging import JsonFormatter
from easyflow_api.core.passwords import password_problems
from easyflow_api.db import Database
from tests.conftest import (
    TEST_SECRET,
    add_user,
    app_client,
    database_url_of,
    login,
    login_admin,
    make_settings,
)

REDIS_URL = os.environ.get("EASYFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
STRONG = "Correct-Horse-Battery-42"


def _fail(client: TestClient, username: str, headers: dict[str, str] | None = None):
    return client.post(
        "/api/auth/login",
        json={"username": username, "password": "wrong"},
        headers=headers or {},
    )


def _me(client: TestClient, headers: dict[str, str]) -> int:
    return client.get("/api/auth/me", headers=headers).status_code


# --- the limiter behind a proxy -------------------------------------------------


def test_behind_a_trusted_proxy_the_limit_is_per_real_client(
    db: Database, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url_of(db), tmp_path, api_trusted_proxies="10.0.0.0/8, 192.0.2.1"
    )
    with app_client(settings) as local:
        proxy = TestClient(local.app, client=("10.1.2.3", 50000))
        attacker = {"X-Forwarded-For": "198.51.100.66"}
        for _ in range(5):
            assert _fail(proxy, "admin", attacker).status_code == 401
        assert _fail(proxy, "admin", attacker).status_code == 429
        # the real admin, through the same proxy from another address, logs in
        ok = proxy.post(
            "/api/auth/login",
            json={"username": "admin", "password": "admin-password-1"},
            headers={"X-Forwarded-For": "203.0.113.10"},
        )
        assert ok.status_code == 200
        # the attacker cannot escape by prepending addresses of its own: the
        # proxy appends the address it saw, and that right-most one counts
        for fake in ("1.1.1.1", "2.2.2.2, 3.3.3.3"):
            spoofed = {"X-Forwarded-For": f"{fake}, 198.51.100.66"}
            assert _fail(proxy, "admin", spoofed).status_code == 429
        # two proxies in a chain: both are skipped
        chained = {"X-Forwarded-For": "198.51.100.66, 192.0.2.1"}
        assert _fail(proxy, "admin", chained).status_code == 429

        admin = login_admin(local)
        failures = local.get(
            "/api/audit?action=auth.login_failed&limit=100", headers=admin
        ).json()
        assert {f["detail"]["ip"] for f in failures} == {"198.51.100.66"}


def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    db: Database, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url_of(db), tmp_path, api_trusted_proxies="10.0.0.0/8"
    )
    with app_client(settings) as local:
        direct = TestClient(local.app, client=("203.0.113.99", 40000))
        for n in range(5):
            # a new made-up address each time does not buy new attempts
            header = {"X-Forwarded-For": f"198.51.100.{n}"}
            assert _fail(direct, "admin", header).status_code == 401
        assert (
            _fail(direct, "admin", {"X-Forwarded-For": "198.51.100.200"}).status_code
            == 429
        )


def test_untrusted_proxy_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="EASYFLOW_API_TRUSTED_PROXIES"):
        make_settings("sqlite://", tmp_path, api_trusted_proxies="10.0.0.0/8, nginx")


# --- the limiter shared through Redis ----------------------------------------------


@pytest.fixture
def redis_db() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # a real Redis is part of the test environment (README)
    yield client
    for key in client.scan_iter("easyflow:api:login:*"):
        client.delete(key)
    client.close()


def test_replicas_share_failures_through_redis(
    db: Database, tmp_path: Path, redis_db: redis.Redis
) -> None:
    """Five failures spread over two api replicas lock the pair; a restart
    (a third app) still sees them."""
    username = f"victim-{uuid.uuid4().hex[:8]}"
    settings = make_settings(database_url_of(db), tmp_path, redis_url=REDIS_URL)
    with (
        app_client(settings) as one,
        app_client(settings) as two,
    ):
        for replica in (one, two, one, two, one):
            assert _fail(replica, username).status_code == 401
        blocked = _fail(two, username)
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["Retry-After"]) <= 61
        # the key names neither the user nor the address, and expires
        keys = list(redis_db.scan_iter("easyflow:api:login:*"))
        assert len(keys) == 1 and username.encode() not in keys[0]
        assert 0 < redis_db.ttl(keys[0]) <= 61
        # another user from the same address is not affected
        assert _fail(one, f"{username}-other").status_code == 401
    with app_client(settings) as restarted:
        assert _fail(restarted, username).status_code == 429
        assert _me(restarted, login_admin(restarted)) == 200


def test_login_fails_closed_when_redis_is_down(db: Database, tmp_path: Path) -> None:
    settings = make_settings(
        database_url_of(db), tmp_path, redis_url="redis://127.0.0.1:1/0"
    )
    with app_client(settings) as client:
        response = client.post(
            "/api/auth/login",
            json={"username": "admin", "password": "admin-password-1"},
        )
        assert response.status_code == 503
        assert response.json() == {"detail": "login temporarily unavailable"}


# --- revocation -------------------------------------------------------------------


def test_logout_revokes_the_token_on_every_replica(
    db: Database, tmp_path: Path
) -> None:
    settings = make_settings(database_url_of(db), tmp_path)
    with (
        app_client(settings) as one,
        app_client(settings) as two,
    ):
        first = login_admin(one)
        second = login_admin(one)
        assert _me(two, first) == 200
        assert one.post("/api/auth/logout", headers=first).status_code == 204
        for replica in (one, two):
            refused = replica.get("/api/auth/me", headers=first)
            assert refused.status_code == 401
            assert refused.json() == {"detail": "token revoked"}
            assert (
                replica.get("/api/analytics/overview", headers=first).status_code == 401
            )
            assert _me(replica, second) == 200  # only that session ended
        assert one.post("/api/auth/logout", headers=first).status_code == 401
        audit = one.get("/api/audit?action=auth.logout", headers=second).json()
        assert [(a["actor"], a["action"]) for a in audit] == [("admin", "auth.logout")]
        key = one.post(
            "/api/api-keys", headers=second, json={"name": "ci", "role": "analyst"}
        ).json()["key"]
        assert (
            one.post("/api/auth/logout", headers={"X-API-Key": key}).status_code == 400
        )


def test_own_password_change_revokes_earlier_tokens(client: TestClient) -> None:
    laptop = login_admin(client)
    stolen = login_admin(client)
    wrong = client.post(
        "/api/auth/password",
        headers=laptop,
        json={"current_password": "guess", "new_password": "new-password-77"},
    )
    assert wrong.status_code == 403
    changed = client.post(
        "/api/auth/password",
        headers=laptop,
        json={
            "current_password": "admin-password-1",
            "new_password": "new-password-77",
        },
    )
    assert changed.status_code == 200, changed.text
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    for old in (laptop, stolen):
        assert client.get("/api/auth/me", headers=old).json() == {
            "detail": "token revoked"
        }
    assert _me(client, fresh) == 200
    assert _fail(client, "admin").status_code == 401
    relogin = client.post(
        "/api/auth/login", json={"username": "admin", "password": "admin-password-1"}
    )
    assert relogin.status_code == 401
    assert _me(client, login(client, "admin", "new-password-77")) == 200
    actions = [
        a["action"] for a in client.get("/api/audit?limit=20", headers=fresh).json()
    ]
    assert "auth.password_change" in actions
    assert "auth.password_change_failed" in actions


def test_stolen_token_is_no_password_oracle(client: TestClient) -> None:
    token = login_admin(client)
    for n in range(5):
        guess = client.post(
            "/api/auth/password",
            headers=token,
            json={"current_password": f"guess-{n}", "new_password": "whatever-99"},
        )
        assert guess.status_code == 403
    blocked = client.post(
        "/api/auth/password",
        headers=token,
        json={
            "current_password": "admin-password-1",
            "new_password": "whatever-99",
        },
    )
    assert blocked.status_code == 429


def test_admin_password_reset_revokes_the_users_tokens(
    client: TestClient, admin
) -> None:
    dan = add_user(client, admin, "dan", "analyst")
    assert _me(client, dan) == 200
    reset = client.patch(
        "/api/users/dan", headers=admin, json={"password": "reset-by-admin-1"}
    )
    assert reset.status_code == 200
    assert client.get("/api/auth/me", headers=dan).status_code == 401
    # changing a role or a display name does not end sessions
    dan = login(client, "dan", "reset-by-admin-1")
    client.patch("/api/users/dan", headers=admin, json={"display_name": "Dan"})
    assert _me(client, dan) == 200


# --- production password policy ----------------------------------------------------


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Sh0rt-pass", "shorter than 12"),
        ("password1234", "common"),
        ("QWERTY123456", "common"),
        ("aaaaaaaaaaaaaaaa", "common"),
        ("merchant-owner-1", "username"),
    ],
)
def test_policy_rejects(password: str, problem: str) -> None:
    assert any(problem in p for p in password_problems(password, "Merchant-Owner-1"))


def test_policy_accepts_a_long_unique_password() -> None:
    assert password_problems(STRONG, "admin") == []


@pytest.mark.parametrize(
    ("user", "password"),
    [
        ("admin", "admin"),
        ("admin", "changeme1234"),
        ("admin", "short-pass!"),
        ("shop-administrator", "Shop-Administrator"),
    ],
)
def test_production_refuses_a_weak_bootstrap_password(
    tmp_path: Path, user: str, password: str
) -> None:
    with pytest.raises(ConfigError, match="EASYFLOW_ADMIN_PASSWORD is too weak"):
        make_settings(
            "sqlite://",
            tmp_path,
            env="production",
            admin_user=user,
            admin_password=password,
        )


def test_production_refuses_weak_passwords_for_users(
    db: Database, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url_of(db), tmp_path, env="production", admin_password=STRONG
    )
    with app_client(settings) as client:
        admin = login(client, "admin", STRONG)
        for weak in ("only-10-ch", "qwerty123456", "olga-operator"):
            created = client.post(
                "/api/users",
                headers=admin,
                json={
                    "username": "olga-operator",
                    "password": weak,
                    "role": "operator",
                },
            )
            assert created.status_code == 422, weak
            assert created.json()["detail"].startswith("password is")
        created = client.post(
            "/api/users",
            headers=admin,
            json={
                "username": "olga-operator",
                "password": "olga-long-passphrase",
                "role": "operator",
            },
        )
        assert created.status_code == 201
        assert (
            client.patch(
                "/api/users/olga-operator",
                headers=admin,
                json={"password": "password1234"},
            ).status_code
            == 422
        )
        olga = login(client, "olga-operator", "olga-long-passphrase")
        own = client.post(
            "/api/auth/password",
            headers=olga,
            json={
                "current_password": "olga-long-passphrase",
                "new_password": "iloveyou1234",
            },
        )
        assert own.status_code == 422
        assert _me(client, olga) == 200  # a refused change revokes nothing


# --- no password in the logs -------------------------------------------------------


def _captured(caplog: pytest.LogCaptureFixture, capsys) -> str:
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records]
    out = capsys.readouterr()
    return "\n".join([*lines, out.out, out.err])


def test_bootstrap_admin_password_is_never_logged(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys
) -> None:
    secret = "Dev-Only-Secret-Pass-777"
    caplog.set_level(logging.INFO)
    settings = make_settings(database_url_of(db), tmp_path, admin_password=secret)
    with app_client(settings) as client:
        login(client, "admin", secret)
    output = _captured(caplog, capsys)
    assert "auth.bootstrap_admin.created" in output
    assert secret not in output
    assert "EASYFLOW_ADMIN_PASSWORD" in output


def test_dev_default_admin_says_where_the_password_is(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys
) -> None:
    caplog.set_level(logging.INFO)
    settings = make_settings(database_url_of(db), tmp_path, admin_password=None)
    assert settings.bootstrap_admin_password == "admin"
    with app_client(settings) as client:
        login(client, "admin", "admin")
    records = [
        json.loads(JsonFormatter().format(r))
        for r in caplog.records
        if r.getMessage() == "auth.bootstrap_admin.created"
    ]
    assert len(records) == 1 and "password" not in records[0]
    assert "api/README.md" in records[0]["password_from"]
    output = _captured(caplog, capsys)
    assert "admin / admin" not in output and '"password":' not in output
    assert "api/README.md" in output


def test_production_settings_accept_a_strong_password(tmp_path: Path) -> None:
    settings = Settings(
        env="production",
        api_secret=TEST_SECRET,
        admin_password=STRONG,
        data_dir=tmp_path,
    )
    assert settings.bootstrap_admin_password == STRONG
