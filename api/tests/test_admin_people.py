"""People and access as the dashboard uses them: audit filters (who, what,
target, UTC days) and their facets, refused changes that must change nothing
(self-disable, the last active admin, a key revoked twice, a duplicate or
weak user), and an admin's password reset."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from easyflow_api.db import Database
from easyflow_api.models import ApiKey, AuditEntry
from tests.conftest import add_user, login


def _at(day: str, hour: int = 12) -> float:
    return (
        datetime.fromisoformat(f"{day}T{hour:02d}:00:00")
        .replace(tzinfo=UTC)
        .timestamp()
    )


def _audit(client: TestClient, admin: dict[str, str], **query: object) -> list[dict]:
    response = client.get("/api/audit", headers=admin, params=query)
    assert response.status_code == 200, response.text
    return response.json()


def test_audit_filters_by_who_what_target_and_days(
    client: TestClient, admin: dict[str, str], db: Database
) -> None:
    with db.session() as session:
        for actor, action, target, at in [
            ("olga", "handoff.take", "7", _at("2026-03-08", 0)),
            ("olga", "handoff.reply", "7", _at("2026-03-09", 23)),
            ("ann", "inbox.label", "3", _at("2026-03-09")),
            ("olga", "handoff.release", "7", _at("2026-03-10", 0)),
            ("key:grafana", "analytics.export", None, _at("2026-03-11")),
        ]:
            session.add(AuditEntry(at=at, actor=actor, action=action, target=target))
        session.commit()

    olga = _audit(client, admin, actor="olga")
    assert [e["action"] for e in olga] == [
        "handoff.release",
        "handoff.reply",
        "handoff.take",
    ]
    both = client.get(
        "/api/audit",
        headers=admin,
        params={"actor": "olga", "action": "handoff.reply", "limit": 1},
    )
    assert both.headers["X-Total-Count"] == "1"
    assert both.json()[0]["at"] == "2026-03-09T23:00:00.000Z"
    assert [e["actor"] for e in _audit(client, admin, actor="key:grafana")] == [
        "key:grafana"
    ]
    assert len(_audit(client, admin, target="7")) == 3

    # start and end are whole UTC days, both inclusive
    days = _audit(client, admin, start="2026-03-09", end="2026-03-09")
    assert sorted(e["action"] for e in days) == ["handoff.reply", "inbox.label"]
    since = _audit(client, admin, actor="olga", start="2026-03-09")
    assert [e["action"] for e in since] == ["handoff.release", "handoff.reply"]
    until = _audit(client, admin, end="2026-03-08")
    assert [e["action"] for e in until] == ["handoff.take"]

    # filters compose with paging: the total counts the filtered rows
    first = client.get(
        "/api/audit", headers=admin, params={"actor": "olga", "limit": 2}
    )
    second = client.get(
        "/api/audit", headers=admin, params={"actor": "olga", "limit": 2, "offset": 2}
    )
    assert first.headers["X-Total-Count"] == second.headers["X-Total-Count"] == "3"
    assert [e["action"] for e in first.json() + second.json()] == [
        e["action"] for e in olga
    ]
    assert _audit(client, admin, actor="nobody") == []


def test_audit_filters_are_validated(client: TestClient, admin: dict[str, str]) -> None:
    for query in (
        {"start": "2026-03-10", "end": "2026-03-09"},
        {"start": "10.03.2026"},
        {"end": "2026-02-30"},
        {"actor": "x" * 65},
        {"target": "x" * 256},
        {"action": "x" * 65},
    ):
        response = client.get("/api/audit", headers=admin, params=query)
        assert response.status_code == 422, query
    wrong = client.get(
        "/api/audit", headers=admin, params={"start": "2026-03-10", "end": "2026-03-09"}
    )
    assert wrong.json()["detail"][0]["msg"] == "end is before start"


def test_audit_facets_list_every_actor_and_action(
    client: TestClient, admin: dict[str, str]
) -> None:
    olga = add_user(client, admin, "olga", "operator")
    assert client.get("/api/audit/facets", headers=olga).status_code == 403
    facets = client.get("/api/audit/facets", headers=admin).json()
    assert facets["actors"] == ["admin", "olga"]
    assert facets["actions"] == ["auth.login", "user.create"]


def test_an_admin_cannot_disable_themselves(
    client: TestClient, admin: dict[str, str]
) -> None:
    add_user(client, admin, "root2", "admin")
    refused = client.patch("/api/users/admin", headers=admin, json={"is_active": False})
    assert refused.status_code == 409
    assert refused.json()["detail"] == "you cannot disable yourself"
    assert client.get("/api/auth/me", headers=admin).status_code == 200
    listed = {u["username"]: u for u in client.get("/api/users", headers=admin).json()}
    assert listed["admin"]["is_active"] is True
    assert _audit(client, admin, action="user.update") == []


def test_the_last_active_admin_cannot_be_disabled_by_a_key(
    client: TestClient, admin: dict[str, str]
) -> None:
    """An admin-scoped API key is no user, so 'not yourself' does not stop it;
    the last-admin rule does."""
    key = client.post(
        "/api/api-keys", headers=admin, json={"name": "ops", "role": "admin"}
    ).json()["key"]
    by_key = {"X-API-Key": key}
    refused = client.patch(
        "/api/users/admin", headers=by_key, json={"is_active": False}
    )
    assert refused.status_code == 409
    assert "last active admin" in refused.json()["detail"]
    assert client.get("/api/auth/me", headers=admin).status_code == 200

    add_user(client, admin, "root2", "admin")
    disabled = client.patch(
        "/api/users/admin", headers=by_key, json={"is_active": False}
    )
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    assert client.get("/api/auth/me", headers=admin).status_code == 401
    (entry,) = _audit(client, login(client, "root2", "root2-password"), actor="key:ops")
    assert (entry["action"], entry["target"]) == ("user.update", "admin")
    assert entry["detail"] == {"fields": ["is_active"]}


def test_revoking_a_key_twice_says_so_and_changes_nothing(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = client.post(
        "/api/api-keys", headers=admin, json={"name": "grafana", "role": "analyst"}
    ).json()
    assert client.delete(f"/api/api-keys/{created['id']}", headers=admin).status_code
    again = client.delete(f"/api/api-keys/{created['id']}", headers=admin)
    assert again.status_code == 409
    assert again.json()["detail"] == "API key already revoked"
    assert len(_audit(client, admin, action="api_key.revoke")) == 1
    assert client.delete("/api/api-keys/999", headers=admin).status_code == 404
    (listed,) = client.get("/api/api-keys", headers=admin).json()
    assert listed["revoked"] is True
    assert (
        client.get("/api/auth/me", headers={"X-API-Key": created["key"]}).status_code
        == 401
    )


def test_refused_user_creation_changes_nothing(
    client: TestClient, admin: dict[str, str]
) -> None:
    add_user(client, admin, "olga", "operator")
    duplicate = client.post(
        "/api/users",
        headers=admin,
        json={"username": "olga", "password": "another-password", "role": "admin"},
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["detail"] == "user 'olga' already exists"
    weak = client.post(
        "/api/users",
        headers=admin,
        json={"username": "pete", "password": "short", "role": "operator"},
    )
    assert weak.status_code == 422
    assert weak.json()["detail"][0]["loc"] == ["body", "password"]
    listed = client.get("/api/users", headers=admin).json()
    assert [(u["username"], u["role"]) for u in listed] == [
        ("admin", "admin"),
        ("olga", "operator"),
    ]
    assert login(client, "olga", "olga-password")
    assert [e["target"] for e in _audit(client, admin, action="user.create")] == [
        "olga"
    ]


def test_admin_password_reset_is_admin_only_and_audited(
    client: TestClient, admin: dict[str, str]
) -> None:
    olga = add_user(client, admin, "olga", "operator")
    add_user(client, admin, "dan", "analyst")
    forbidden = client.patch(
        "/api/users/dan", headers=olga, json={"password": "olga-chose-this"}
    )
    assert forbidden.status_code == 403
    assert login(client, "dan", "dan-password")

    reset = client.patch(
        "/api/users/dan", headers=admin, json={"password": "reset-by-admin-1"}
    )
    assert reset.status_code == 200
    old = client.post(
        "/api/auth/login", json={"username": "dan", "password": "dan-password"}
    )
    assert old.status_code == 401
    assert login(client, "dan", "reset-by-admin-1")
    (entry,) = _audit(client, admin, action="user.update", target="dan")
    assert entry["actor"] == "admin"
    assert entry["detail"] == {"fields": ["password"]}
    assert "reset-by-admin-1" not in str(_audit(client, admin, limit=1000))


def test_api_key_last_use_is_kept_to_the_minute(
    client: TestClient, admin: dict[str, str], db: Database
) -> None:
    created = client.post(
        "/api/api-keys", headers=admin, json={"name": "grafana", "role": "analyst"}
    ).json()
    by_key = {"X-API-Key": created["key"]}

    def listed() -> dict:
        (key,) = client.get("/api/api-keys", headers=admin).json()
        return key

    assert listed()["last_used_at"] is None
    assert client.get("/api/analytics/overview", headers=by_key).status_code == 200
    first = listed()["last_used_at"]
    assert first is not None
    used = datetime.fromisoformat(first.replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - used).total_seconds() < 30
    # within the minute a use writes nothing (a refused one neither)
    assert client.get("/api/analytics/overview", headers=by_key).status_code == 200
    assert client.get("/api/users", headers=by_key).status_code == 403
    assert listed()["last_used_at"] == first

    with db.session() as session:
        row = session.get(ApiKey, created["id"])
        row.last_used_at = row.last_used_at - 120  # as if last used 2 minutes ago
        session.commit()
    moved = listed()["last_used_at"]
    assert moved < first
    assert client.get("/api/auth/me", headers=by_key).status_code == 200
    again = listed()["last_used_at"]
    assert again >= first and again != moved

    client.delete(f"/api/api-keys/{created['id']}", headers=admin)
    before = listed()["last_used_at"]
    assert client.get("/api/auth/me", headers=by_key).status_code == 401
    assert listed()["last_used_at"] == before
