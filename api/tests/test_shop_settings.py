"""Shop settings as the dashboard and the widget use them: defaults from the
environment until the first save, admin-only changes with strict validation
(every refusal changes nothing), optimistic concurrency between two admins,
the audit trail, and the public answer the widget reads without signing in."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from easyflow_api.core.config import Settings
from easyflow_api.db import Database
from easyflow_api.models import AuditEntry, ShopSettings
from easyflow_api.services import shop_settings
from tests.conftest import (
    MakeClient,
    add_user,
    database_url_of,
    login_admin,
    make_settings,
)

WEEK = {
    "mon": "09:00-18:00",
    "tue": "09:00-18:00",
    "wed": "09:00-18:00",
    "thu": "09:00-18:00",
    "fri": "09:00-17:00",
    "sat": "10:00-14:00",
    "sun": "closed",
}


def _body(version: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": version,
        "name": "Кеды и Ко",
        "greeting": {"ru": "Здравствуйте! Чем помочь?", "en": "Hi! How can I help?"},
        "working_hours": {"timezone": "Europe/Moscow", "days": dict(WEEK)},
        "return_window_days": 30,
        "languages": ["ru", "en"],
    }
    body.update(changes)
    return body


@pytest.fixture
def shop_client(make_client: MakeClient) -> Iterator[TestClient]:
    """The app as an existing deployment configured it by environment."""
    with make_client(shop_name="Old Shop", return_window_days=21) as client:
        yield client


def _audit_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "shop_settings.update")
        )


def _stored(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/shop-settings", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_defaults_come_from_the_environment_until_the_first_save(
    shop_client: TestClient, db: Database
) -> None:
    admin = login_admin(shop_client)
    settings = _stored(shop_client, admin)
    assert settings == {
        "version": 0,
        "name": "Old Shop",
        "greeting": {"ru": "", "en": ""},
        "working_hours": {
            "timezone": "Europe/Moscow",
            "days": dict.fromkeys(WEEK, "00:00-24:00"),
        },
        "return_window_days": 21,
        "languages": ["ru", "en"],
        "updated_at": None,
        "updated_by": None,
    }
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ShopSettings)) == 0
    public = shop_client.get("/api/public/shop").json()
    assert public["name"] == "Old Shop"
    assert public["greeting"] == {}  # no greeting: the widget shows none, as before
    assert public["operators"]["working_now"] is True


def test_no_shop_name_anywhere_is_null(client: TestClient, admin: dict) -> None:
    assert _stored(client, admin)["name"] is None
    assert client.get("/api/public/shop").json()["name"] is None


def test_every_role_reads_only_admins_change(
    shop_client: TestClient, db: Database
) -> None:
    admin = login_admin(shop_client)
    analyst = add_user(shop_client, admin, "ann", "analyst")
    operator = add_user(shop_client, admin, "olga", "operator")
    key = shop_client.post(
        "/api/api-keys", headers=admin, json={"name": "bot", "role": "operator"}
    ).json()["key"]
    for headers in (analyst, operator, {"X-API-Key": key}):
        assert _stored(shop_client, headers)["version"] == 0
        refused = shop_client.put("/api/shop-settings", headers=headers, json=_body(0))
        assert refused.status_code == 403
    assert shop_client.get("/api/shop-settings").status_code == 401
    assert shop_client.put("/api/shop-settings", json=_body(0)).status_code == 401
    assert _stored(shop_client, admin)["version"] == 0
    assert _audit_count(db) == 0


def test_admin_saves_and_every_save_is_audited(
    shop_client: TestClient, db: Database
) -> None:
    admin = login_admin(shop_client)
    saved = shop_client.put("/api/shop-settings", headers=admin, json=_body(0))
    assert saved.status_code == 200, saved.text
    first = saved.json()
    assert first["version"] == 1
    assert first["name"] == "Кеды и Ко"
    assert first["working_hours"]["days"] == WEEK
    assert first["updated_by"] == "admin"
    assert first["updated_at"].endswith("Z")
    assert _stored(shop_client, admin) == first

    again = shop_client.put(
        "/api/shop-settings",
        headers=admin,
        json=_body(1, name="  Кеды и Ко 2  ", languages=["ru"]),
    )
    assert again.status_code == 200, again.text
    assert again.json()["version"] == 2
    assert again.json()["name"] == "Кеды и Ко 2"  # edges trimmed

    entries = shop_client.get(
        "/api/audit", headers=admin, params={"action": "shop_settings.update"}
    ).json()
    assert [e["detail"]["version"] for e in entries] == [2, 1]
    latest = entries[0]
    assert latest["actor"] == "admin"
    assert latest["target"] == "shop"
    assert latest["detail"]["fields"] == ["languages", "name"]
    assert latest["detail"]["changes"]["name"] == {
        "from": "Кеды и Ко",
        "to": "Кеды и Ко 2",
    }
    assert latest["detail"]["changes"]["languages"] == {
        "from": ["ru", "en"],
        "to": ["ru"],
    }
    # the first save is compared with the defaults it replaced
    assert entries[1]["detail"]["fields"] == [
        "greeting",
        "name",
        "return_window_days",
        "working_hours",
    ]
    assert entries[1]["detail"]["changes"]["return_window_days"] == {
        "from": 21,
        "to": 30,
    }


def test_a_stale_version_is_refused_and_changes_nothing(
    shop_client: TestClient, db: Database
) -> None:
    """Two admins open the form at version 1; the second save loses."""
    first_admin = login_admin(shop_client)
    second_admin = add_user(shop_client, first_admin, "root2", "admin")
    assert (
        shop_client.put("/api/shop-settings", headers=first_admin, json=_body(0))
    ).status_code == 200
    seen_by_both = _stored(shop_client, second_admin)["version"]
    assert seen_by_both == 1

    ok = shop_client.put(
        "/api/shop-settings", headers=first_admin, json=_body(1, name="First wins")
    )
    assert ok.status_code == 200
    late = shop_client.put(
        "/api/shop-settings",
        headers=second_admin,
        json=_body(seen_by_both, name="Second", return_window_days=7),
    )
    assert late.status_code == 409
    assert "changed by someone else" in late.json()["detail"]
    now = _stored(shop_client, first_admin)
    assert (now["version"], now["name"], now["return_window_days"]) == (
        2,
        "First wins",
        30,
    )
    # a first save over a saved row, and a version from the future, are stale too
    for version in (0, 3, 2**31 - 1):
        stale = shop_client.put(
            "/api/shop-settings", headers=first_admin, json=_body(version, name="X")
        )
        assert stale.status_code == 409, version
    assert _stored(shop_client, first_admin) == now
    assert _audit_count(db) == 2


def _hours(timezone: str = "UTC", **days: str) -> dict[str, Any]:
    return {"working_hours": {"timezone": timezone, "days": {**WEEK, **days}}}


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"name": "Shop\nname"}, "name"),
        ({"name": None}, "name"),
        ({"greeting": {"ru": "я" * 501, "en": ""}}, "ru"),
        ({"greeting": {"ru": "a\x00b"}}, "ru"),
        ({"greeting": {"de": "Hallo"}}, "de"),
        (_hours("Mars/Olympus"), "timezone"),
        (_hours("../../etc/passwd"), "timezone"),
        (_hours(""), "timezone"),
        (_hours("Europe/Moscow" * 10), "timezone"),
        (_hours(mon="25:00-26:00"), "mon"),
        (_hours(tue="18:00-09:00"), "tue"),
        (_hours(wed="9-18"), "wed"),
        (_hours(thu="24:30-24:40"), "thu"),
        (_hours(fri="x" * 5000), "fri"),
        (_hours(xyz="closed"), "xyz"),
        ({"working_hours": {"timezone": "UTC", "days": {"mon": "closed"}}}, "tue"),
        ({"working_hours": {"days": WEEK}}, "timezone"),
        ({"return_window_days": 0}, "return_window_days"),
        ({"return_window_days": 366}, "return_window_days"),
        ({"return_window_days": "14"}, "return_window_days"),
        ({"return_window_days": True}, "return_window_days"),
        ({"return_window_days": 10**30}, "return_window_days"),
        ({"languages": []}, "languages"),
        ({"languages": ["de"]}, "languages"),
        ({"languages": ["ru", "ru"]}, "languages"),
        ({"languages": "ru"}, "languages"),
        ({"version": -1}, "version"),
        ({"version": "1"}, "version"),
        ({"version": 2**31}, "version"),
        ({"shop_id": 2}, "shop_id"),
    ],
)
def test_invalid_values_are_refused_and_change_nothing(
    shop_client: TestClient, db: Database, change: dict[str, Any], where: str
) -> None:
    admin = login_admin(shop_client)
    assert (
        shop_client.put("/api/shop-settings", headers=admin, json=_body(0))
    ).status_code == 200
    before = _stored(shop_client, admin)
    refused = shop_client.put(
        "/api/shop-settings", headers=admin, json={**_body(1), **change}
    )
    assert refused.status_code == 422, refused.text
    errors = refused.json()["detail"]
    assert any(where in map(str, e["loc"]) for e in errors), errors
    assert all(e["msg"] for e in errors)
    assert _stored(shop_client, admin) == before
    assert _audit_count(db) == 1


def test_malformed_bodies_change_nothing(shop_client: TestClient) -> None:
    admin = login_admin(shop_client)
    for content in (b"", b"{", b"[]", b'"x"', b"\xff\xfe"):
        response = shop_client.put(
            "/api/shop-settings",
            headers={**admin, "Content-Type": "application/json"},
            content=content,
        )
        assert response.status_code == 422, content
    assert _stored(shop_client, admin)["version"] == 0


def test_the_error_messages_say_what_is_wrong(shop_client: TestClient) -> None:
    admin = login_admin(shop_client)
    days = {**WEEK, "tue": "18:00-09:00"}
    response = shop_client.put(
        "/api/shop-settings",
        headers=admin,
        json=_body(0, working_hours={"timezone": "Mars/Olympus", "days": days}),
    )
    messages = {e["loc"][-1]: e["msg"] for e in response.json()["detail"]}
    assert "unknown time zone 'Mars/Olympus'" in messages["timezone"]
    assert "opening must be before closing" in messages["tue"]


def test_hours_are_stored_in_one_spelling(shop_client: TestClient) -> None:
    admin = login_admin(shop_client)
    days = {**WEEK, "mon": " 09:00 – 18:00 ", "sun": "Closed", "sat": "22:00-24:00"}
    saved = shop_client.put(
        "/api/shop-settings",
        headers=admin,
        json=_body(0, working_hours={"timezone": "Asia/Yekaterinburg", "days": days}),
    ).json()
    assert saved["working_hours"]["days"]["mon"] == "09:00-18:00"
    assert saved["working_hours"]["days"]["sun"] == "closed"
    assert saved["working_hours"]["days"]["sat"] == "22:00-24:00"


def test_the_public_answer_holds_only_what_the_widget_needs(
    shop_client: TestClient,
) -> None:
    admin = login_admin(shop_client)
    shop_client.put(
        "/api/shop-settings",
        headers=admin,
        json=_body(
            0,
            languages=["ru"],
            working_hours={
                "timezone": "UTC",
                "days": dict.fromkeys(WEEK, "00:00-24:00"),
            },
        ),
    )
    response = shop_client.get("/api/public/shop")  # no credentials
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "name": "Кеды и Ко",
        # English is off, so its greeting is not offered
        "greeting": {"ru": "Здравствуйте! Чем помочь?"},
        "languages": ["ru"],
        "return_window_days": 30,
        "operators": {
            "working_now": True,
            "until": None,
            "next_at": None,
            "timezone": "UTC",
        },
    }
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    etag = response.headers["etag"]
    unchanged = shop_client.get("/api/public/shop", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag

    shop_client.put(
        "/api/shop-settings", headers=admin, json=_body(1, name="Новое имя")
    )
    changed = shop_client.get("/api/public/shop", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["name"] == "Новое имя"
    assert changed.headers["etag"] != etag


def test_the_public_answer_is_read_only(shop_client: TestClient) -> None:
    for method in ("post", "put", "patch", "delete"):
        response = getattr(shop_client, method)("/api/public/shop")
        assert response.status_code == 405, method


def test_operators_availability_in_the_public_answer(
    shop_client: TestClient,
) -> None:
    admin = login_admin(shop_client)
    closed = dict.fromkeys(WEEK, "closed")
    shop_client.put(
        "/api/shop-settings",
        headers=admin,
        json=_body(0, working_hours={"timezone": "Europe/Moscow", "days": closed}),
    )
    operators = shop_client.get("/api/public/shop").json()["operators"]
    assert operators == {
        "working_now": False,
        "until": None,
        "next_at": None,
        "timezone": "Europe/Moscow",
    }


def test_concurrent_saves_from_one_version_let_exactly_one_through(
    db: Database, tmp_path
) -> None:
    """Eight admins save from version 1 at the same moment, each in its own
    session (as the api's worker threads do): one save lands, seven are
    refused, and the audit log has exactly one entry for version 2."""
    settings: Settings = make_settings(database_url_of(db), tmp_path)
    values = {k: v for k, v in _body(0).items() if k != "version"}
    with db.session() as session:
        shop_settings.save(session, settings, values, 0, "admin")
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def save(n: int) -> None:
        start.wait()
        with db.session() as session:
            try:
                shop_settings.save(
                    session, settings, {**values, "name": f"admin {n}"}, 1, f"a{n}"
                )
                outcomes.append("saved")
            except shop_settings.StaleVersion:
                outcomes.append("stale")

    threads = [threading.Thread(target=save, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["saved"] + ["stale"] * 7
    with db.session() as session:
        row = session.get(ShopSettings, 1)
        assert row is not None
        assert row.version == 2
        winners = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "shop_settings.update")
        ).all()
    assert [w.detail["version"] for w in winners] == [1, 2]  # type: ignore[index]
    assert winners[1].actor == row.updated_by
    assert row.name == f"admin {row.updated_by[1:]}"


def test_public_for_a_view_at_a_given_moment() -> None:
    view = {
        "name": "Shop",
        "greeting": {"ru": "Привет", "en": ""},
        "languages": ["ru", "en"],
        "return_window_days": 21,
        "working_hours": {"timezone": "Europe/Moscow", "days": WEEK},
    }
    # Sunday 2026-12-06 20:00 UTC = 23:00 Moscow: closed until Monday 09:00
    answer = shop_settings.public(view, datetime(2026, 12, 6, 20, 0, tzinfo=UTC))
    assert answer["greeting"] == {"ru": "Привет"}  # the empty English one is not
    assert answer["return_window_days"] == 21
    assert answer["operators"] == {
        "working_now": False,
        "until": None,
        "next_at": "2026-12-07T09:00:00+03:00",
        "timezone": "Europe/Moscow",
    }


def test_environment_defaults_are_validated_at_start(monkeypatch) -> None:
    from easyflow_api.core.config import ConfigError, load_settings

    monkeypatch.setenv("EASYFLOW_SHOP_TIMEZONE", "Moscow")
    with pytest.raises(ConfigError, match="EASYFLOW_SHOP_TIMEZONE"):
        load_settings()
    monkeypatch.setenv("EASYFLOW_SHOP_TIMEZONE", "Asia/Novosibirsk")
    monkeypatch.setenv("EASYFLOW_RETURN_WINDOW_DAYS", "0")
    with pytest.raises(ConfigError, match="EASYFLOW_RETURN_WINDOW_DAYS"):
        load_settings()
    monkeypatch.setenv("EASYFLOW_RETURN_WINDOW_DAYS", "30")
    monkeypatch.setenv("EASYFLOW_SHOP_NAME", "Env Shop")
    loaded = load_settings()
    assert (loaded.shop_name, loaded.shop_timezone, loaded.return_window_days) == (
        "Env Shop",
        "Asia/Novosibirsk",
        30,
    )
