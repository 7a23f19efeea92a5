"""Operator console against a loopback emulator of Rasa's trigger_intent."""

from __future__ import annotations

from fastapi.testclient import TestClient

from easyflow_api.db import Database
from easyflow_api.seed import ConversationScript, load_demo
from easyflow_api.services.projection import Projector
from tests.conftest import (
    BASE_DAY,
    MakeClient,
    RasaEmulator,
    add_user,
    login,
    login_admin,
)

SHOPPER = "vk-204411987"  # C5 of the seed: waiting for an operator


def _app(make_client: MakeClient, rasa: RasaEmulator, **extra) -> TestClient:
    return make_client(rasa_url=rasa.url, action_server_url=rasa.url, **extra)


def _waiting(client: TestClient, headers: dict[str, str]) -> dict:
    queue = client.get("/api/handoffs?status=waiting", headers=headers).json()
    assert [h["sender_id"] for h in queue] == [SHOPPER]
    return queue[0]


def test_queue_from_handoff_slots(db: Database, make_client: MakeClient, rasa) -> None:
    load_demo(db, BASE_DAY, 0.6)
    with _app(make_client, rasa) as client:
        admin = login_admin(client)
        every = client.get("/api/handoffs", headers=admin).json()
        assert {(h["status"], h["operator"]) for h in every} == {
            ("waiting", None),
            ("active", "Boris"),
            ("closed", "Anna"),
        }
        waiting = _waiting(client, admin)
        assert waiting["channel"] == "vk" and waiting["language"] == "ru"
        assert (
            waiting["last_message"]
            == "Передаю разговор оператору, он скоро подключится."
        )
        assert waiting["taken_at"] is None and waiting["requested_at"].endswith("Z")
        active = client.get("/api/handoffs?status=active", headers=admin).json()
        assert [h["sender_id"] for h in active] == ["733190442"]
        assert client.get("/api/handoffs/424242", headers=admin).status_code == 404


def test_take_reply_release(db: Database, make_client: MakeClient, rasa) -> None:
    load_demo(db, BASE_DAY, 0.6)
    with _app(make_client, rasa, rasa_token="rasa-token-1") as client:
        admin = login_admin(client)
        client.post(
            "/api/users",
            headers=admin,
            json={
                "username": "anna",
                "password": "anna-password",
                "role": "operator",
                "display_name": "Anna",
            },
        )
        anna = login(client, "anna", "anna-password")
        handoff = _waiting(client, anna)
        hid = handoff["id"]

        # replying before taking is refused and nothing reaches Rasa
        early = client.post(
            f"/api/handoffs/{hid}/messages", headers=anna, json={"text": "hi"}
        )
        assert early.status_code == 409 and rasa.requests == []

        taken = client.post(f"/api/handoffs/{hid}/take", headers=anna)
        assert taken.status_code == 200, taken.text
        assert taken.json()["status"] == "active" and taken.json()["operator"] == "Anna"
        again = client.post(f"/api/handoffs/{hid}/take", headers=anna)
        assert again.status_code == 409

        sent = client.post(
            f"/api/handoffs/{hid}/messages",
            headers=anna,
            json={"text": "Здравствуйте, я Анна. Чем помочь?"},
        )
        assert sent.status_code == 201
        assert sent.json()["actor"] == "operator"

        released = client.post(f"/api/handoffs/{hid}/release", headers=anna)
        assert released.json()["status"] == "closed"
        assert released.json()["closed_at"] is not None
        assert (
            client.post(f"/api/handoffs/{hid}/release", headers=anna).status_code == 409
        )

        path = f"/conversations/{SHOPPER}/trigger_intent"
        assert [(r.method, r.path, r.query, r.body) for r in rasa.requests] == [
            (
                "POST",
                path,
                {"output_channel": ["latest"], "token": ["rasa-token-1"]},
                {"name": "EXTERNAL_handoff_taken", "entities": {"operator": "Anna"}},
            ),
            (
                "POST",
                path,
                {"output_channel": ["latest"], "token": ["rasa-token-1"]},
                {
                    "name": "EXTERNAL_operator_message",
                    "entities": {
                        "operator": "Anna",
                        "operator_text": "Здравствуйте, я Анна. Чем помочь?",
                    },
                },
            ),
            (
                "POST",
                path,
                {"output_channel": ["latest"], "token": ["rasa-token-1"]},
                {"name": "EXTERNAL_handoff_returned", "entities": {}},
            ),
        ]
        detail = client.get(f"/api/handoffs/{hid}", headers=anna).json()
        assert detail["messages"][-1] == {
            "timestamp": sent.json()["timestamp"],
            "actor": "operator",
            "text": "Здравствуйте, я Анна. Чем помочь?",
        }
        audit = [a["action"] for a in client.get("/api/audit", headers=admin).json()]
        assert audit[:4] == [
            "handoff.read",
            "handoff.release",
            "handoff.message",
            "handoff.take",
        ]


def test_operator_message_recorded_once(
    db: Database, make_client: MakeClient, rasa
) -> None:
    """The api's own record, Rasa's EXTERNAL_operator_message event and the bot
    utterance carrying the text make one operator message, not three."""
    load_demo(db, BASE_DAY, 0.6)
    with _app(make_client, rasa) as client:
        admin = login_admin(client)
        hid = _waiting(client, admin)["id"]
        client.post(f"/api/handoffs/{hid}/take", headers=admin)
        text = "Your refund was sent today."
        sent = client.post(
            f"/api/handoffs/{hid}/messages", headers=admin, json={"text": text}
        )
        assert sent.status_code == 201
        # no token configured: the query has only output_channel
        assert rasa.requests[-1].query == {"output_channel": ["latest"]}

        # Rasa's events for that reply arrive through ingestion afterwards
        import time

        script = ConversationScript(SHOPPER, time.time() - 1, "vk")
        script.events.clear()
        script.external(
            "EXTERNAL_operator_message",
            {"operator": "admin", "operator_text": text},
            reply=text,
        )
        projector = Projector(0.6)
        with db.session() as session:
            for event in script.events:
                projector.apply(session, event, "sql")
            session.commit()

        detail = client.get(f"/api/handoffs/{hid}", headers=admin).json()
        assert [m for m in detail["messages"] if m["text"] == text] == [
            {"timestamp": sent.json()["timestamp"], "actor": "operator", "text": text}
        ]


def test_rasa_failure_changes_nothing(
    db: Database, make_client: MakeClient, rasa
) -> None:
    load_demo(db, BASE_DAY, 0.6)
    rasa.fail_with = 500
    with _app(make_client, rasa) as client:
        admin = login_admin(client)
        hid = _waiting(client, admin)["id"]
        response = client.post(f"/api/handoffs/{hid}/take", headers=admin)
        assert response.status_code == 502
        assert response.json() == {"detail": "Rasa answered 500"}
        assert _waiting(client, admin)["id"] == hid
    with make_client() as client:  # rasa_url points at a closed port
        admin = login_admin(client)
        response = client.post(f"/api/handoffs/{hid}/take", headers=admin)
        assert response.status_code == 502
        assert "unreachable" in response.json()["detail"]


def test_roles(db: Database, make_client: MakeClient, rasa) -> None:
    load_demo(db, BASE_DAY, 0.6)
    with _app(make_client, rasa) as client:
        admin = login_admin(client)
        analyst = add_user(client, admin, "ann", "analyst")
        operator = add_user(client, admin, "olga", "operator")
        hid = _waiting(client, admin)["id"]
        assert client.get("/api/handoffs", headers=analyst).status_code == 403
        assert (
            client.post(f"/api/handoffs/{hid}/take", headers=analyst).status_code == 403
        )
        assert client.get("/api/handoffs", headers=operator).status_code == 200
        assert client.get("/api/conversations", headers=operator).status_code == 200
        cid = client.get("/api/conversations", headers=operator).json()["items"][0][
            "id"
        ]
        assert (
            client.get(f"/api/conversations/{cid}", headers=operator).status_code == 200
        )
        tag = client.post(
            f"/api/conversations/{cid}/tags", headers=operator, json={"tag": "x"}
        )
        assert tag.status_code == 403
        assert (
            client.get("/api/analytics/overview", headers=operator).status_code == 403
        )
        assert client.get("/api/inbox", headers=operator).status_code == 403
        assert client.get("/api/analytics/overview", headers=analyst).status_code == 200
        assert client.get("/api/inbox", headers=analyst).status_code == 200
        for path in ("/api/users", "/api/audit", "/api/settings", "/api/api-keys"):
            assert client.get(path, headers=analyst).status_code == 403
            assert client.get(path, headers=operator).status_code == 403
            assert client.get(path, headers=admin).status_code == 200
        assert rasa.requests == []


def test_detailed_health(make_client: MakeClient, rasa) -> None:
    with _app(make_client, rasa) as client:
        admin = login_admin(client)
        body = client.get("/api/health/detailed", headers=admin).json()
        assert body["status"] == "ok"
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"]["rasa"] == {"ok": True, "detail": "HTTP 200"}
        assert body["checks"]["action_server"] == {"ok": True, "detail": "HTTP 200"}
        assert sorted((r.method, r.path) for r in rasa.requests) == [
            ("GET", "/"),
            ("GET", "/health"),
        ]
    with make_client() as client:
        admin = login_admin(client)
        body = client.get("/api/health/detailed", headers=admin).json()
        assert body["status"] == "degraded"
        assert body["checks"]["rasa"]["ok"] is False
        assert body["checks"]["action_server"]["detail"].startswith("unreachable")


def test_only_the_holder_or_an_admin_replies_and_releases(
    db: Database, make_client: MakeClient, rasa
) -> None:
    """Olga may not speak in Anna's conversation or close it; an admin may."""
    load_demo(db, BASE_DAY, 0.6)
    with _app(make_client, rasa) as client:
        admin = login_admin(client)
        anna = add_user(client, admin, "anna", "operator")
        olga = add_user(client, admin, "olga", "operator")
        hid = _waiting(client, admin)["id"]

        # nobody holds a waiting handoff: an operator cannot release it unseen
        assert (
            client.post(f"/api/handoffs/{hid}/release", headers=olga).status_code == 403
        )
        assert client.post(f"/api/handoffs/{hid}/take", headers=anna).status_code == 200
        sent = len(rasa.requests)

        hijack = client.post(
            f"/api/handoffs/{hid}/messages",
            headers=olga,
            json={"text": "Переведите оплату на карту 4111…"},
        )
        assert hijack.status_code == 403
        assert "took this handoff" in hijack.json()["detail"]
        assert (
            client.post(f"/api/handoffs/{hid}/release", headers=olga).status_code == 403
        )
        assert len(rasa.requests) == sent  # nothing reached the shopper
        detail = client.get(f"/api/handoffs/{hid}", headers=anna).json()
        assert detail["status"] == "active"
        assert all("4111" not in m["text"] for m in detail["messages"])

        reply = client.post(
            f"/api/handoffs/{hid}/messages", headers=anna, json={"text": "Это Анна"}
        )
        assert reply.status_code == 201
        by_admin = client.post(
            f"/api/handoffs/{hid}/messages", headers=admin, json={"text": "Админ"}
        )
        assert by_admin.status_code == 201

        # an API key with the operator role is a principal of its own
        key = client.post(
            "/api/api-keys", headers=admin, json={"name": "bot", "role": "operator"}
        ).json()["key"]
        keyed = client.post(f"/api/handoffs/{hid}/release", headers={"X-API-Key": key})
        assert keyed.status_code == 403

        # the seed's active handoff was taken outside the api (Boris): no
        # operator holds it here, so only an admin may act on it
        boris = client.get("/api/handoffs?status=active", headers=admin).json()
        boris_id = next(h["id"] for h in boris if h["operator"] == "Boris")
        assert (
            client.post(
                f"/api/handoffs/{boris_id}/messages", headers=anna, json={"text": "x"}
            ).status_code
            == 403
        )
        assert (
            client.post(f"/api/handoffs/{boris_id}/release", headers=admin).status_code
            == 200
        )
        released = client.post(f"/api/handoffs/{hid}/release", headers=admin)
        assert released.status_code == 200 and released.json()["status"] == "closed"
