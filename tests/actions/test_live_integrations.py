"""Checks of integrations saved on the dashboard: the real clients built from
the saved values make one harmless read against loopback platform emulators,
directly and through the real action server's POST /integrations/check (the
action token; secrets arrive sealed). The api side: api/tests/test_integrations.py;
the pickup in a conversation: tests/e2e/test_live_integrations.py."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from actions.integrations.demo_store import DemoStore
from actions.live_integrations.clients import check
from common.secretbox import Keyring, new_key_text, parse_key
from tests.actions.payments.provider_emulators import YooKassaApi
from tests.emulators import Emulator, free_port
from tests.marketplace_emulators import UTC, OzonApi, WildberriesApi, wb_task
from tests.servers import ACTION_TOKEN, action_server

Factory = Callable[[Any], Awaitable[Emulator]]
WB_TOKEN = "wb-live-token-0123456789"
PUBLIC_URL = "http://localhost:5055"


async def test_wildberries_checked_through_its_real_client(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    wb = WildberriesApi(WB_TOKEN)
    wb.add(wb_task(13833711, datetime.now(UTC) - timedelta(days=1)), "new", "waiting")
    emulator = await emulator_factory(wb)
    orders = DemoStore(tmp_path / "demo.sqlite")
    values = {"WB_API_TOKEN": WB_TOKEN, "WB_MARKETPLACE_URL": emulator.url}

    passed = await check("wildberries", values, PUBLIC_URL, orders)
    assert (passed.status, passed.message) == ("ok", "")
    assert emulator.paths() == ["/api/v3/orders/status"]  # one harmless read

    wrong = {**values, "WB_API_TOKEN": "revoked-token"}
    failed = await check("wildberries", wrong, PUBLIC_URL, orders)
    assert failed.status == "error"
    assert failed.message == "401: token is malformed or invalid"

    missing = await check("wildberries", {"WB_MARKETPLACE_URL": emulator.url},
                          PUBLIC_URL, orders)  # fmt: skip
    assert missing.status == "error" and missing.message.startswith("WB_API_TOKEN")

    down = {**values, "WB_MARKETPLACE_URL": f"http://127.0.0.1:{free_port()}"}
    unreachable = await check("wildberries", down, PUBLIC_URL, orders)
    assert unreachable == type(unreachable)("unreachable", "wildberries is unreachable")


async def test_ozon_and_yookassa_checked_through_their_real_clients(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    orders = DemoStore(tmp_path / "demo.sqlite")
    ozon = await emulator_factory(OzonApi("836120", "ozon-live-key"))
    values = {
        "OZON_CLIENT_ID": "836120",
        "OZON_API_KEY": "ozon-live-key",
        "OZON_API_URL": ozon.url,
    }
    assert (await check("ozon", values, PUBLIC_URL, orders)).status == "ok"
    assert ozon.calls, "the check read through the platform"
    bad = await check("ozon", {**values, "OZON_API_KEY": "nope"}, PUBLIC_URL, orders)
    assert bad.status == "error" and bad.message.startswith("40")

    yookassa = YooKassaApi()
    emulator = await emulator_factory(yookassa)
    env = yookassa.env(emulator.url)
    assert (await check("yookassa", env, PUBLIC_URL, orders)).status == "ok"
    assert [c.path for c in emulator.calls] == [
        "/v3/payments/00000000-0000-4000-8000-000000000000"
    ]
    wrong = {**env, "YOOKASSA_SECRET_KEY": "test_wrong"}
    refused = await check("yookassa", wrong, PUBLIC_URL, orders)
    assert (refused.status, refused.message) == ("error", "401: invalid_credentials")


async def test_the_action_server_checks_sealed_values_for_the_api_only(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    wb = await emulator_factory(WildberriesApi(WB_TOKEN))
    key = new_key_text()
    keyring = Keyring(parse_key(key, "k"))

    def body(token: str, ring: Keyring = keyring) -> dict[str, Any]:
        sealed = ring.seal(
            json.dumps({"WB_API_TOKEN": token}).encode(), "integration:wildberries"
        )
        return {
            "kind": "wildberries",
            "settings": {"WB_MARKETPLACE_URL": wb.url},
            "secrets": sealed,
        }

    env = {"EASYFLOW_SECRETS_KEY": key}
    with action_server(tmp_path, env=env) as webhook:
        url = webhook.removesuffix("/webhook") + "/integrations/check"
        auth = {"Authorization": f"Bearer {ACTION_TOKEN}"}
        async with aiohttp.ClientSession() as http:

            async def post(payload: Any, headers: dict[str, str]) -> tuple[int, Any]:
                async with http.post(url, json=payload, headers=headers) as answer:
                    return answer.status, await answer.json(content_type=None)

            passed = await post(body(WB_TOKEN), auth)
            assert passed == (200, {"status": "ok", "message": ""})
            assert await post(body("stolen"), auth) == (
                200,
                {"status": "error", "message": "401: token is malformed or invalid"},
            )
            calls = len(wb.calls)
            for headers in ({}, {"Authorization": "Bearer wrong"}):
                status, _ = await post(body(WB_TOKEN), headers)
                assert status == 401
            other = Keyring(parse_key(new_key_text(), "k"))
            status, answer = await post(body(WB_TOKEN, other), auth)
            assert status == 200 and answer["status"] == "error"
            assert "EASYFLOW_SECRETS_KEY" in answer["message"]
            moved = {**body(WB_TOKEN), "kind": "ozon"}
            assert (await post(moved, auth))[1]["status"] == "error"
            for bad in ({"kind": "amazon"}, [1], {"kind": "ozon", "settings": 3}):
                assert (await post(bad, auth))[0] == 400
            assert len(wb.calls) == calls  # none of those reached the platform
    log = (tmp_path / "actions.log").read_text()
    assert WB_TOKEN not in log and "stolen" not in log and key not in log
