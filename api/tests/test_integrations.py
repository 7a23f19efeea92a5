"""Integrations: secrets sealed at rest (read back from the raw row), masked in
every answer, never in the audit or the log; half-filled forms refused naming
the field; a saved form becomes active only once the action server's check
passed; the action server's feed (token, ETag); key rotation. The action
server's side of the check is tested against the real server in
tests/actions/test_integrations_live.py; here a loopback stand-in answers it."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from easyflow_api.core.config import ConfigError
from easyflow_api.core.secretbox import (
    Keyring,
    SecretOpenError,
    key_id,
    new_key_text,
    parse_key,
)
from easyflow_api.db import Database
from easyflow_api.services.integrations import associated
from tests.conftest import (
    MakeClient,
    add_user,
    app_client,
    database_url_of,
    login_admin,
    make_settings,
)

TOKEN = "action-token-for-the-api"
WB_TOKEN = "wb-secret-token-0123456789-abcdef"
WB_TOKEN_2 = "wb-second-token-9876543210-zyxwvu"
OZON_KEY = "ozon-api-key-5566778899-qwerty"
YOOKASSA_KEY = "live_yookassa-secret-key-000111222"
STRIPE_KEY = "sk_test_stripe-secret-key-44556677"
STRIPE_HOOK = "whsec_stripe-webhook-secret-8899"
ALL_SECRETS = (WB_TOKEN, WB_TOKEN_2, OZON_KEY, YOOKASSA_KEY, STRIPE_KEY, STRIPE_HOOK)


class CheckServer:
    """The action server's POST /integrations/check on loopback: records what
    the api sent and answers the scripted results in turn (else ok)."""

    def __init__(self) -> None:
        self.url = ""
        self.bodies: list[str] = []
        self.answers: list[dict[str, str]] = []


@pytest.fixture
def checker() -> Iterator[CheckServer]:
    state = CheckServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            ok = self.headers.get("Authorization") == f"Bearer {TOKEN}"
            status, answer = (401, {"error": "unauthorized"})
            if ok and self.path == "/integrations/check":
                state.bodies.append(raw)
                status = 200
                answer = state.answers.pop(0) if state.answers else {"status": "ok"}
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def api(make_client: MakeClient, checker: CheckServer) -> Iterator[TestClient]:
    with make_client(
        action_server_url=checker.url, action_token=TOKEN, secrets_key=None
    ) as client:
        yield client


def raw_row(db: Database, kind: str) -> dict[str, Any]:
    with db.engine.connect() as conn:
        row = conn.execute(
            text("SELECT * FROM integrations WHERE kind = :kind"), {"kind": kind}
        ).mappings()
        found = row.first()
    assert found is not None
    return dict(found)


def feed(api: TestClient, etag: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if etag:
        headers["If-None-Match"] = etag
    return api.get("/api/internal/integrations", headers=headers)


def test_secrets_are_sealed_in_the_database_and_masked_in_answers(
    api: TestClient, db: Database, tmp_path: Path
) -> None:
    admin = login_admin(api)
    saved = api.put(
        "/api/integrations/wildberries",
        headers=admin,
        json={"values": {"WB_API_TOKEN": WB_TOKEN}},
    )
    assert saved.status_code == 200, saved.text
    card = saved.json()
    assert card["values"] == {"WB_API_TOKEN": "••••cdef"}
    assert card["version"] == 1 and card["active_version"] is None
    assert card["pending"] and not card["enabled"]

    row = raw_row(db, "wildberries")
    assert WB_TOKEN not in json.dumps(row, default=str)
    prefix, kid, _ = row["secrets"].split(":", 2)
    keyring = Keyring(parse_key((tmp_path / "secrets_key").read_text(), "file"))
    assert prefix == "ef1" and kid == keyring.current_id
    opened = json.loads(keyring.open(row["secrets"], associated("wildberries")))
    assert opened == {"WB_API_TOKEN": WB_TOKEN}
    # Copied onto another platform's row, the ciphertext does not open.
    with pytest.raises(SecretOpenError):
        keyring.open(row["secrets"], associated("ozon"))
    # The same value sealed twice differs: a random nonce each time.
    assert keyring.seal(b"x", "a") != keyring.seal(b"x", "a")
    # The embedded default's key file is the owner's only.
    assert (tmp_path / "secrets_key").stat().st_mode & 0o777 == 0o600

    listed = api.get("/api/integrations", headers=admin).json()
    assert [c["kind"] for c in listed] == [
        "wildberries", "ozon", "bitrix24", "shopify",
        "yookassa", "tbank", "sber", "stripe",
        "telegram", "vk", "whatsapp", "viber", "alice",
    ]  # fmt: skip
    assert listed[0]["values"] == {"WB_API_TOKEN": "••••cdef"}
    assert not listed[1]["saved"] and listed[1]["values"] == {}


def test_a_half_filled_form_names_the_field_and_changes_nothing(
    api: TestClient, db: Database
) -> None:
    admin = login_admin(api)
    cases = [
        ("ozon", {"OZON_CLIENT_ID": "12345"}, "OZON_API_KEY"),
        ("ozon", {"OZON_API_KEY": OZON_KEY}, "OZON_CLIENT_ID"),
        ("wildberries", {"WB_API_TOKEN": WB_TOKEN, "WB_SHOP": "x"}, "WB_SHOP"),
        (
            "wildberries",
            {"WB_API_TOKEN": WB_TOKEN, "WB_MARKETPLACE_URL": "file:///etc/passwd"},
            "WB_MARKETPLACE_URL",
        ),
        ("bitrix24", {"BITRIX24_WEBHOOK_URL": "https://b.example/rest/1/c/",
                      "BITRIX24_ENTITY": "lead"}, "BITRIX24_ENTITY"),
        ("stripe", {"STRIPE_SECRET_KEY": STRIPE_KEY}, "STRIPE_WEBHOOK_SECRET"),
        ("yookassa", {"YOOKASSA_SHOP_ID": "1\n2", "YOOKASSA_SECRET_KEY": "k"},
         "YOOKASSA_SHOP_ID"),
    ]  # fmt: skip
    for kind, values, field in cases:
        answer = api.put(
            f"/api/integrations/{kind}", headers=admin, json={"values": values}
        )
        assert answer.status_code == 422, (kind, answer.text)
        assert answer.json()["detail"][0]["loc"] == ["body", "values", field]
        for secret in ALL_SECRETS:
            assert secret not in answer.text
    for body in ({}, {"values": {"WB_API_TOKEN": 5}}, {"values": {}, "x": 1}):
        bad = api.put("/api/integrations/wildberries", headers=admin, json=body)
        assert bad.status_code == 422
    assert api.put(
        "/api/integrations/amazon", headers=admin, json={"values": {}}
    ).status_code in (404, 422)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM integrations")).scalar() == 0


def test_an_empty_secret_keeps_the_stored_one(api: TestClient, db: Database) -> None:
    admin = login_admin(api)
    first = {"OZON_CLIENT_ID": "12345", "OZON_API_KEY": OZON_KEY}
    assert (
        api.put(
            "/api/integrations/ozon", headers=admin, json={"values": first}
        ).status_code
        == 200
    )
    second = {
        "OZON_CLIENT_ID": "67890",
        "OZON_API_KEY": "",
        "OZON_API_URL": "http://127.0.0.1:9",
    }
    card = api.put("/api/integrations/ozon", headers=admin, json={"values": second})
    assert card.status_code == 200
    assert card.json()["values"] == {
        "OZON_CLIENT_ID": "67890",
        "OZON_API_KEY": "••••erty",
        "OZON_API_URL": "http://127.0.0.1:9",
    }
    assert card.json()["version"] == 2
    row = raw_row(db, "ozon")
    assert row["settings"] in (
        json.dumps({"OZON_CLIENT_ID": "67890", "OZON_API_URL": "http://127.0.0.1:9"}),
        {"OZON_CLIENT_ID": "67890", "OZON_API_URL": "http://127.0.0.1:9"},
    ) or json.loads(row["settings"]) == {
        "OZON_CLIENT_ID": "67890",
        "OZON_API_URL": "http://127.0.0.1:9",
    }
    assert OZON_KEY not in str(row)


def test_who_may_read_and_change(api: TestClient, checker: CheckServer) -> None:
    admin = login_admin(api)
    api.put(
        "/api/integrations/wildberries",
        headers=admin,
        json={"values": {"WB_API_TOKEN": WB_TOKEN}},
    )
    analyst = add_user(api, admin, "ann", "analyst")
    operator = add_user(api, admin, "oleg", "operator")
    assert api.get("/api/integrations").status_code == 401
    for reader in (analyst, operator):
        card = api.get("/api/integrations/wildberries", headers=reader)
        assert card.status_code == 200
        assert card.json()["values"] == {"WB_API_TOKEN": "••••cdef"}
        for method, path in (
            ("PUT", "/api/integrations/wildberries"),
            ("POST", "/api/integrations/wildberries/check"),
            ("POST", "/api/integrations/wildberries/enable"),
            ("POST", "/api/integrations/wildberries/disable"),
            ("DELETE", "/api/integrations/wildberries"),
        ):
            answer = api.request(
                method, path, headers=reader, json={"values": {"WB_API_TOKEN": "x"}}
            )
            assert answer.status_code == 403, (method, path)
    assert checker.bodies == []
    assert (
        api.get("/api/integrations/wildberries", headers=admin).json()["version"] == 1
    )


def test_a_configuration_is_active_only_after_its_check_passed(
    api: TestClient, checker: CheckServer, db: Database
) -> None:
    admin = login_admin(api)
    url = "/api/integrations/wildberries"
    assert api.post(f"{url}/check", headers=admin).status_code == 404
    api.put(url, headers=admin, json={"values": {"WB_API_TOKEN": WB_TOKEN}})
    assert api.post(f"{url}/enable", headers=admin).status_code == 409

    checker.answers.append({"status": "error", "message": "token is invalid"})
    failed = api.post(f"{url}/check", headers=admin).json()
    assert failed["check"]["status"] == "error"
    assert failed["check"]["message"] == "token is invalid"
    assert failed["active_version"] is None and not failed["enabled"]
    assert feed(api).json() == {"integrations": []}

    passed = api.post(f"{url}/check", headers=admin).json()
    assert passed["check"]["status"] == "ok"
    assert passed["active_version"] == 1 and passed["enabled"]
    assert not passed["pending"]
    first = feed(api)
    entry = first.json()["integrations"][0]
    assert entry["kind"] == "wildberries" and entry["version"] == 1
    assert entry["secrets"] == raw_row(db, "wildberries")["active_secrets"]
    # The secrets went to the action server sealed, never in clear.
    assert all(WB_TOKEN not in body for body in checker.bodies)
    assert json.loads(checker.bodies[0])["secrets"].startswith("ef1:")

    # A new token that fails its check: the one that works stays in use.
    api.put(url, headers=admin, json={"values": {"WB_API_TOKEN": WB_TOKEN_2}})
    checker.answers.append({"status": "unreachable", "message": "timeout"})
    kept = api.post(f"{url}/check", headers=admin).json()
    assert kept["version"] == 2 and kept["active_version"] == 1
    assert kept["pending"] and kept["enabled"]
    assert kept["values"] == {"WB_API_TOKEN": "••••wxvu"[:4] + WB_TOKEN_2[-4:]}
    assert feed(api).json() == first.json()
    assert feed(api, first.headers["etag"]).status_code == 304

    api.post(f"{url}/check", headers=admin)  # passes now
    changed = feed(api, first.headers["etag"])
    assert changed.status_code == 200
    assert changed.json()["integrations"][0]["version"] == 2

    off = api.post(f"{url}/disable", headers=admin).json()
    assert not off["enabled"] and feed(api).json() == {"integrations": []}
    assert api.post(f"{url}/enable", headers=admin).json()["enabled"]
    assert api.delete(url, headers=admin).status_code == 204
    assert api.delete(url, headers=admin).status_code == 404
    assert feed(api).json() == {"integrations": []}


def test_one_payment_provider_at_a_time(api: TestClient) -> None:
    admin = login_admin(api)
    api.put(
        "/api/integrations/yookassa",
        headers=admin,
        json={"values": {"YOOKASSA_SHOP_ID": "1", "YOOKASSA_SECRET_KEY": YOOKASSA_KEY}},
    )
    api.put(
        "/api/integrations/stripe",
        headers=admin,
        json={
            "values": {
                "STRIPE_SECRET_KEY": STRIPE_KEY,
                "STRIPE_WEBHOOK_SECRET": STRIPE_HOOK,
            }
        },
    )
    api.put(
        "/api/integrations/wildberries",
        headers=admin,
        json={"values": {"WB_API_TOKEN": WB_TOKEN}},
    )
    for kind in ("wildberries", "yookassa", "stripe"):
        assert api.post(f"/api/integrations/{kind}/check", headers=admin).json()[
            "enabled"
        ]
    kinds = [e["kind"] for e in feed(api).json()["integrations"]]
    assert kinds == ["stripe", "wildberries"]
    api.post("/api/integrations/yookassa/enable", headers=admin)
    kinds = [e["kind"] for e in feed(api).json()["integrations"]]
    assert kinds == ["wildberries", "yookassa"]


def test_the_feed_is_for_the_action_server_only(
    api: TestClient, make_client: MakeClient
) -> None:
    assert api.get("/api/internal/integrations").status_code == 401
    for header in ("Bearer wrong", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x"):
        answer = api.get(
            "/api/internal/integrations", headers={"Authorization": header}
        )
        assert answer.status_code == 401
    admin = login_admin(api)
    assert api.get("/api/internal/integrations", headers=admin).status_code == 401
    with make_client(action_token=None) as without:
        answer = without.get(
            "/api/internal/integrations", headers={"Authorization": "Bearer "}
        )
        assert answer.status_code == 503


def test_the_action_server_down_is_a_clear_502_and_changes_nothing(
    make_client: MakeClient,
) -> None:
    with make_client(action_server_url="http://127.0.0.1:9", action_token=TOKEN) as api:
        admin = login_admin(api)
        api.put(
            "/api/integrations/wildberries",
            headers=admin,
            json={"values": {"WB_API_TOKEN": WB_TOKEN}},
        )
        answer = api.post("/api/integrations/wildberries/check", headers=admin)
        assert answer.status_code == 502
        assert "unreachable" in answer.json()["detail"]
        card = api.get("/api/integrations/wildberries", headers=admin).json()
        assert card["check"] is None and card["active_version"] is None
    with make_client(action_server_url="http://127.0.0.1:9", action_token=None) as api:
        answer = api.post(
            "/api/integrations/wildberries/check", headers=login_admin(api)
        )
        assert answer.status_code == 502
        assert "EASYFLOW_ACTION_TOKEN" in answer.json()["detail"]


def test_no_answer_audit_or_log_line_holds_a_secret(
    api: TestClient,
    checker: CheckServer,
    db: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = login_admin(api)
    analyst = add_user(api, admin, "ann", "analyst")
    answers: list[str] = []

    def keep(response: Any) -> Any:
        answers.append(response.text + json.dumps(dict(response.headers)))
        return response

    forms = {
        "wildberries": {"WB_API_TOKEN": WB_TOKEN},
        "ozon": {"OZON_CLIENT_ID": "12345", "OZON_API_KEY": OZON_KEY},
        "yookassa": {"YOOKASSA_SHOP_ID": "5", "YOOKASSA_SECRET_KEY": YOOKASSA_KEY},
        "stripe": {
            "STRIPE_SECRET_KEY": STRIPE_KEY,
            "STRIPE_WEBHOOK_SECRET": STRIPE_HOOK,
        },
    }
    # The platform echoes the key it was sent: the api masks it before storing.
    checker.answers += [
        {"status": "error", "message": f"bad key {WB_TOKEN}"},
        {"status": "error", "message": f"401 for {OZON_KEY}"},
    ]
    for kind, values in forms.items():
        url = f"/api/integrations/{kind}"
        keep(api.put(url, headers=admin, json={"values": values}))
        keep(api.post(f"{url}/check", headers=admin))
        keep(api.put(url, headers=admin, json={"values": {**values, "X": "1"}}))
        keep(api.get(url, headers=admin))
        keep(api.get(url, headers=analyst))
        keep(api.post(f"{url}/disable", headers=admin))
        keep(api.post(f"{url}/enable", headers=admin))
    api.put(
        "/api/integrations/wildberries",
        headers=admin,
        json={"values": {"WB_API_TOKEN": WB_TOKEN_2}},
    )
    keep(api.post("/api/integrations/wildberries/check", headers=admin))
    keep(api.get("/api/integrations", headers=admin))
    keep(api.get("/api/integrations", headers=analyst))
    keep(feed(api))
    keep(api.get("/api/audit", headers=admin, params={"limit": 500}))
    keep(api.get("/openapi.json"))
    assert len(answers) > 30
    with db.engine.connect() as conn:
        audit_rows = [
            str(tuple(r)) for r in conn.execute(text("SELECT * FROM audit_log"))
        ]
        stored = [
            str(tuple(r)) for r in conn.execute(text("SELECT * FROM integrations"))
        ]
    assert any("integration.check" in r for r in audit_rows)
    assert any("••••" in a for a in answers)
    everything = "\n".join([*answers, *audit_rows, *stored, caplog.text])
    everything += "\n".join(str(vars(r)) for r in caplog.records)
    for secret in ALL_SECRETS:
        assert secret not in everything, secret
        assert secret[:-4] not in everything, secret


def test_rotation_reseals_every_row_with_the_new_key(
    db: Database, tmp_path: Path
) -> None:
    old, new = new_key_text(), new_key_text()
    url = database_url_of(db)
    from easyflow_api.main import create_app

    with TestClient(
        create_app(make_settings(url, tmp_path, secrets_key=old), configure_logs=False)
    ) as api:
        admin = login_admin(api)
        for kind, values in (
            ("wildberries", {"WB_API_TOKEN": WB_TOKEN}),
            ("ozon", {"OZON_CLIENT_ID": "1", "OZON_API_KEY": OZON_KEY}),
        ):
            api.put(f"/api/integrations/{kind}", headers=admin, json={"values": values})
    assert raw_row(db, "ozon")["secrets"].split(":")[1] == key_id(parse_key(old, "k"))

    env = {
        **os.environ,
        "EASYFLOW_API_DATABASE_URL": url,
        "EASYFLOW_DATA_DIR": str(tmp_path),
        "EASYFLOW_API_INGEST": "none",
        "EASYFLOW_SECRETS_KEY": new,
    }
    command = [sys.executable, "-m", "easyflow_api", "rotate-secrets"]
    refused = subprocess.run(command, env=env, capture_output=True, text=True)
    assert refused.returncode == 1
    assert "EASYFLOW_SECRETS_OLD_KEYS" in refused.stderr
    assert raw_row(db, "ozon")["secrets"].split(":")[1] == key_id(parse_key(old, "k"))

    env["EASYFLOW_SECRETS_OLD_KEYS"] = old
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "resealed 2 secrets" in done.stdout
    assert old not in done.stdout + done.stderr and new not in done.stdout

    only_new = Keyring(parse_key(new, "k"))
    for kind, secret in (("wildberries", WB_TOKEN), ("ozon", OZON_KEY)):
        sealed = raw_row(db, kind)["secrets"]
        assert sealed.split(":")[1] == only_new.current_id
        assert secret in only_new.open(sealed, associated(kind)).decode()
    again = subprocess.run(command, env=env, capture_output=True, text=True)
    assert "resealed 0 secrets" in again.stdout
    with TestClient(
        create_app(make_settings(url, tmp_path, secrets_key=new), configure_logs=False)
    ) as api:
        card = api.get("/api/integrations/ozon", headers=login_admin(api)).json()
        assert card["values"]["OZON_API_KEY"] == "••••erty"


def test_production_refuses_to_start_without_a_key(
    db: Database, tmp_path: Path
) -> None:
    production: dict[str, Any] = {
        "env": "production",
        "api_secret": "s" * 40,
        "admin_password": None,
    }
    keyless = make_settings("sqlite://", tmp_path, **production, secrets_key=None)
    with pytest.raises(ConfigError, match="EASYFLOW_SECRETS_KEY"):
        keyless.keyring()
    with pytest.raises(ConfigError, match="EASYFLOW_SECRETS_KEY"), app_client(keyless):
        pass
    key = new_key_text()
    settings = make_settings("sqlite://", tmp_path, **production, secrets_key=key)
    strong = "a-strong-admin-passphrase-42"
    with app_client(
        make_settings(
            database_url_of(db),
            tmp_path,
            **{**production, "admin_password": strong},
            secrets_key=key,
        )
    ) as api:
        from tests.conftest import login

        admin = login(api, "admin", strong)
        values = {"WB_API_TOKEN": WB_TOKEN, "WB_MARKETPLACE_URL": "http://10.0.0.5"}
        plain = api.put(
            "/api/integrations/wildberries", headers=admin, json={"values": values}
        )
        assert plain.status_code == 422
        assert plain.json()["detail"][0]["loc"][-1] == "WB_MARKETPLACE_URL"
        values["WB_MARKETPLACE_URL"] = "https://marketplace-api.wildberries.ru"
        assert (
            api.put(
                "/api/integrations/wildberries", headers=admin, json={"values": values}
            ).status_code
            == 200
        )
    assert settings.keyring().current == parse_key(key, "k")
    with pytest.raises(ConfigError, match="EASYFLOW_SECRETS_KEY"):
        make_settings("sqlite://", tmp_path, secrets_key="too-short")
    with pytest.raises(ConfigError, match="EASYFLOW_SECRETS_OLD_KEYS"):
        make_settings("sqlite://", tmp_path, secrets_old_keys=f"{key},nope")
    key_file = tmp_path / "key"
    key_file.write_text(key + "\n")
    from_file = make_settings(
        "sqlite://", tmp_path, **production, secrets_key=None, secrets_key_file=key_file
    )
    assert from_file.keyring().current == parse_key(key, "k")
    assert not (tmp_path / "secrets_key").exists()
    assert key not in repr(from_file) and key not in repr(settings)


def test_a_telegram_webhook_secret_is_made_once_and_kept(
    api: TestClient, db: Database, tmp_path: Path
) -> None:
    admin = login_admin(api)
    url = "/api/integrations/telegram"
    form = {
        "TELEGRAM_TOKEN": "7000000001:AAH-telegram-token-xyz",
        "TELEGRAM_WEBHOOK_URL": "https://bot.example/webhooks/telegram/webhook",
    }
    first = api.put(url, headers=admin, json={"values": form}).json()
    assert first["values"]["TELEGRAM_SECRET_TOKEN"].startswith("••••")
    keyring = Keyring(parse_key((tmp_path / "secrets_key").read_text(), "file"))

    def stored() -> dict[str, str]:
        sealed = raw_row(db, "telegram")["secrets"]
        return json.loads(keyring.open(sealed, associated("telegram")))

    made = stored()["TELEGRAM_SECRET_TOKEN"]
    assert len(made) >= 32 and set(made) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    )
    api.put(url, headers=admin, json={"values": {**form, "TELEGRAM_TOKEN": ""}})
    assert stored() == {"TELEGRAM_TOKEN": form["TELEGRAM_TOKEN"],
                        "TELEGRAM_SECRET_TOKEN": made}  # fmt: skip
    for answer in (first, api.get(url, headers=admin).json()):
        assert made not in json.dumps(answer)


def test_a_check_of_a_form_saved_over_meanwhile_activates_nothing(
    db: Database, tmp_path: Path
) -> None:
    from easyflow_api.services import integrations

    keyring = Keyring(parse_key(new_key_text(), "k"))
    with db.session() as session:
        form = {"WB_API_TOKEN": WB_TOKEN}
        integrations.save(session, keyring, "wildberries", form, "admin")
        checked = integrations.draft(session, keyring, "wildberries")
        integrations.save(
            session, keyring, "wildberries", {"WB_API_TOKEN": WB_TOKEN_2}, "ann"
        )
        card = integrations.record_check(session, keyring, checked, "ok", "", "admin")
    assert card["version"] == 2 and card["active_version"] is None
    assert card["check"] is None and not card["enabled"]


def test_a_lost_key_keeps_the_page_readable_and_changes_nothing(
    db: Database, tmp_path: Path
) -> None:
    url = database_url_of(db)
    from easyflow_api.main import create_app

    def client(key: str) -> TestClient:
        settings = make_settings(url, tmp_path, secrets_key=key)
        return TestClient(create_app(settings, configure_logs=False))

    with client(new_key_text()) as api:
        api.put(
            "/api/integrations/wildberries",
            headers=login_admin(api),
            json={"values": {"WB_API_TOKEN": WB_TOKEN}},
        )
    before = raw_row(db, "wildberries")
    with client(new_key_text()) as api:  # the old key was dropped too early
        admin = login_admin(api)
        card = api.get("/api/integrations/wildberries", headers=admin).json()
        assert card["values"] == {"WB_API_TOKEN": "••••"}
        assert api.get("/api/integrations", headers=admin).status_code == 200
        check = api.post("/api/integrations/wildberries/check", headers=admin)
        assert check.status_code == 409
        # An empty secret cannot keep what no key opens: it must be typed again.
        empty = api.put(
            "/api/integrations/wildberries",
            headers=admin,
            json={"values": {"WB_API_TOKEN": ""}},
        )
        assert empty.status_code == 422
        assert empty.json()["detail"][0]["loc"][-1] == "WB_API_TOKEN"
        assert raw_row(db, "wildberries") == before
        again = api.put(
            "/api/integrations/wildberries",
            headers=admin,
            json={"values": {"WB_API_TOKEN": WB_TOKEN_2}},
        )
        assert again.json()["values"] == {"WB_API_TOKEN": "••••" + WB_TOKEN_2[-4:]}


CHANNEL_FORMS = {
    "vk": {
        "VK_TOKEN": "vk1.a.community-token-0123456789",
        "VK_GROUP_ID": "218000000",
        "VK_SECRET": "vk-callback-secret-0123456789",
        "VK_CONFIRMATION": "1f2e3d4c",
    },
    "whatsapp": {
        "WHATSAPP_ACCESS_TOKEN": "EAAG-whatsapp-access-token-0123",
        "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
        "WHATSAPP_APP_SECRET": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "WHATSAPP_VERIFY_TOKEN": "whatsapp-verify-token-0123",
    },
    "viber": {
        "VIBER_AUTH_TOKEN": "4453b6ac12345678-e02c5f12174805f9-daec",
        "VIBER_NAME": "Кеды Shop",
        "VIBER_WEBHOOK_URL": "https://bot.example/webhooks/viber/webhook",
    },
    "alice": {"ALICE_SKILL_ID": "3ad36498-f5rd-4079-a14b-788652932056"},
}
CHANNEL_SECRETS = {
    "vk": ("VK_TOKEN", "VK_SECRET"),
    "whatsapp": (
        "WHATSAPP_ACCESS_TOKEN",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_VERIFY_TOKEN",
    ),
    "viber": ("VIBER_AUTH_TOKEN",),
    "alice": ("ALICE_SKILL_ID",),
}


@pytest.mark.parametrize("kind", sorted(CHANNEL_FORMS))
def test_a_channel_card_is_saved_sealed_checked_and_fed(
    api: TestClient,
    checker: CheckServer,
    db: Database,
    tmp_path: Path,
    kind: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = login_admin(api)
    url = f"/api/integrations/{kind}"
    form = CHANNEL_FORMS[kind]
    card = api.get(url, headers=admin).json()
    assert card["category"] == "channels" and card["help_url"].startswith("https://")
    assert [f["name"] for f in card["fields"] if f["required"]] == list(form)
    # What the merchant sets in the platform's console (or that the check
    # registers the webhook itself) is said on the card.
    assert "webhooks/" in card["note"] or "set_webhook" in card["note"]

    for name in form:  # each required field is named when it is missing
        half = {k: v for k, v in form.items() if k != name}
        refused = api.put(url, headers=admin, json={"values": half})
        assert refused.status_code == 422 and name in refused.text
        assert api.get(url, headers=admin).json()["saved"] is False

    saved = api.put(url, headers=admin, json={"values": form}).json()
    secrets = {name: form[name] for name in CHANNEL_SECRETS[kind]}
    for name, value in secrets.items():
        assert saved["values"][name] == "••••" + value[-4:]
    keyring = Keyring(parse_key((tmp_path / "secrets_key").read_text(), "file"))
    row = raw_row(db, kind)
    assert json.loads(keyring.open(row["secrets"], associated(kind))) == secrets
    assert all(value not in json.dumps(row["settings"]) for value in secrets.values())

    checked = api.post(f"{url}/check", headers=admin).json()
    assert checked["enabled"] and checked["active_version"] == 1
    assert json.loads(checker.bodies[-1])["kind"] == kind
    (entry,) = feed(api).json()["integrations"]
    assert (entry["kind"], entry["category"]) == (kind, "channels")
    off = api.post(f"{url}/disable", headers=admin).json()
    assert not off["enabled"] and feed(api).json() == {"integrations": []}

    answers = json.dumps([saved, checked, off, api.get(url, headers=admin).json()])
    answers += "".join(checker.bodies)
    logged = " ".join(str(r.__dict__) for r in caplog.records)
    for value in secrets.values():
        assert value not in answers and value not in logged


def test_a_channel_form_with_a_bad_address_changes_nothing(api: TestClient) -> None:
    admin = login_admin(api)
    form = {**CHANNEL_FORMS["viber"], "VIBER_WEBHOOK_URL": "javascript:alert(1)"}
    refused = api.put("/api/integrations/viber", headers=admin, json={"values": form})
    assert refused.status_code == 422 and "VIBER_WEBHOOK_URL" in refused.text
    extra = {**CHANNEL_FORMS["vk"], "VK_SHELL": "x"}
    refused = api.put("/api/integrations/vk", headers=admin, json={"values": extra})
    assert refused.status_code == 422 and "VK_SHELL" in refused.text
    viewer = api.get("/api/integrations/vk", headers=admin).json()
    assert viewer["saved"] is False
