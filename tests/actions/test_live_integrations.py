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
import pytest

from actions.integrations.demo_store import DemoStore
from actions.integrations.router import RoutingOrderSource
from actions.integrations.wildberries import WildberriesSource
from actions.live_integrations.clients import check
from actions.live_integrations.pickup import LiveIntegrations
from actions.payments.demo import DemoPaymentProvider
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


def _entry(keyring: Keyring, kind: str, version: int, values: dict[str, str]) -> dict:
    secret_names = {"WB_API_TOKEN", "OZON_API_KEY", "YOOKASSA_SECRET_KEY"}
    secrets = {k: v for k, v in values.items() if k in secret_names}
    return {
        "kind": kind,
        "version": version,
        "settings": {k: v for k, v in values.items() if k not in secret_names},
        "secrets": keyring.seal(json.dumps(secrets).encode(), f"integration:{kind}"),
    }


async def test_the_environment_wins_and_a_disabled_provider_steps_back(
    tmp_path: Path,
) -> None:
    keyring = Keyring(parse_key(new_key_text(), "k"))
    demo = DemoStore(tmp_path / "demo.sqlite")
    env_wb = WildberriesSource("env-token", marketplace_url="http://127.0.0.1:9")
    router = RoutingOrderSource([demo, env_wb])
    demo_pay = DemoPaymentProvider(tmp_path / "pay.sqlite", PUBLIC_URL, router)
    table: dict[str, Any] = {"demo": demo_pay}
    offered: list[Any] = []
    live = LiveIntegrations(
        api_url="http://127.0.0.1:9",
        token=ACTION_TOKEN,
        keyring=keyring,
        router=router,
        env_sources=[demo, env_wb],
        env_payments=demo_pay,
        env_payment_chosen=False,
        public_url=PUBLIC_URL,
        webhook_providers=table,
        on_payments=offered.append,
    )
    wb = _entry(keyring, "wildberries", 1, {"WB_API_TOKEN": "dashboard-token"})
    ozon = {"OZON_CLIENT_ID": "1", "OZON_API_KEY": "k1", "OZON_API_URL": PUBLIC_URL}
    ozon_1 = _entry(keyring, "ozon", 1, ozon)
    yookassa = _entry(
        keyring, "yookassa", 1, {"YOOKASSA_SHOP_ID": "5", "YOOKASSA_SECRET_KEY": "s"}
    )
    live.apply([wb, ozon_1, yookassa])
    # Wildberries is configured by the environment: its variables win.
    assert router.sources[:2] == [demo, env_wb]
    assert [s.name for s in router.sources] == ["demo", "wildberries", "ozon"]
    assert offered[-1].name == "yookassa" and set(table) == {"demo", "yookassa"}
    first_ozon = router.sources[2]

    live.apply([ozon_1, yookassa])  # the same version: the same client
    assert router.sources[2] is first_ozon
    ozon_2 = _entry(keyring, "ozon", 2, {**ozon, "OZON_API_KEY": "k2"})
    live.apply([ozon_2])  # new version; the payment provider was disabled
    assert router.sources[2] is not first_ozon
    assert offered[-1] is demo_pay and set(table) == {"demo"}
    second_ozon = router.sources[2]
    other = Keyring(parse_key(new_key_text(), "k"))
    live.apply([_entry(other, "ozon", 3, ozon)])  # does not open: keep version 2
    assert router.sources[2] is second_ozon
    live.apply([])
    assert router.sources == [demo, env_wb]
    await env_wb.close()
    await second_ozon.close()


def _platforms(url: str) -> dict[str, tuple[Any, dict[str, str], dict[str, str]]]:
    """kind -> (emulator, values that work, values the platform refuses)."""
    from tests.actions.integrations.bitrix24_portal import BitrixPortal
    from tests.actions.integrations.shopify_store import TOKEN, VERSION, ShopifyStore
    from tests.actions.payments.provider_emulators import SberApi, StripeApi, TBankApi

    portal = BitrixPortal(user_id="1", code="c0de")
    tbank, sber, stripe = TBankApi(), SberApi(), StripeApi()
    shopify = {
        "SHOPIFY_SHOP_URL": url,
        "SHOPIFY_ACCESS_TOKEN": TOKEN,
        "SHOPIFY_API_VERSION": VERSION,
    }
    return {
        "bitrix24": (
            portal,
            {"BITRIX24_WEBHOOK_URL": portal.webhook(url)},
            {"BITRIX24_WEBHOOK_URL": portal.webhook(url, code="wrong")},
        ),
        "shopify": (
            ShopifyStore(),
            shopify,
            {**shopify, "SHOPIFY_ACCESS_TOKEN": "shpat_wrong"},
        ),
        "tbank": (tbank, tbank.env(url), {**tbank.env(url), "TBANK_PASSWORD": "x"}),
        "sber": (sber, sber.env(url), {**sber.env(url), "SBER_PASSWORD": "x"}),
        "stripe": (
            stripe,
            stripe.env(url),
            {**stripe.env(url), "STRIPE_SECRET_KEY": "sk_test_wrong"},
        ),
    }


@pytest.mark.parametrize("kind", ["bitrix24", "shopify", "tbank", "sber", "stripe"])
async def test_every_platform_passes_with_its_keys_and_fails_without(
    emulator_factory: Factory, tmp_path: Path, kind: str
) -> None:
    """The probe (an order or payment that does not exist) must pass with
    working credentials, or no merchant could ever enable the platform."""
    holder: dict[str, Any] = {}
    emulator = await emulator_factory(lambda call: holder["reply"](call))
    reply, good, bad = _platforms(emulator.url)[kind]
    holder["reply"] = reply
    orders = DemoStore(tmp_path / "demo.sqlite")
    passed = await check(kind, good, PUBLIC_URL, orders)
    assert passed.status == "ok", passed
    assert emulator.calls, "the check read through the platform"
    failed = await check(kind, bad, PUBLIC_URL, orders)
    assert failed.status == "error", failed
    assert failed.message


def bot_api(token: str) -> Callable[[Any], Any]:
    """The Bot API's getMe and setWebhook for one bot token."""
    from aiohttp import web

    def reply(call: Any) -> Any:
        if not call.path.startswith(f"/bot{token}/"):
            raise web.HTTPUnauthorized(
                text=json.dumps(
                    {"ok": False, "error_code": 401, "description": "Unauthorized"}
                ),
                content_type="application/json",
            )
        if call.path.endswith("/getMe"):
            return {"ok": True, "result": {"id": 7000000001, "is_bot": True,
                                           "username": "kedy_shop_bot"}}  # fmt: skip
        return {"ok": True, "result": True, "description": "Webhook was set"}

    return reply


async def test_telegram_is_checked_with_getme_and_its_webhook_registered(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    token = "7000000001:AAH-live-token"
    telegram = await emulator_factory(bot_api(token))
    values = {
        "TELEGRAM_TOKEN": token,
        "TELEGRAM_WEBHOOK_URL": "https://bot.example/webhooks/telegram/webhook",
        "TELEGRAM_SECRET_TOKEN": "generated_secret-0123456789",
        "TELEGRAM_API_URL": telegram.url,
    }
    orders = DemoStore(tmp_path / "demo.sqlite")
    passed = await check("telegram", values, PUBLIC_URL, orders)
    assert (passed.status, passed.message) == ("ok", "@kedy_shop_bot")
    assert telegram.paths() == [f"/bot{token}/getMe", f"/bot{token}/setWebhook"]
    assert telegram.calls[1].json == {
        "url": "https://bot.example/webhooks/telegram/webhook",
        "secret_token": "generated_secret-0123456789",
        "allowed_updates": ["message", "callback_query"],
    }
    wrong = await check(
        "telegram", {**values, "TELEGRAM_TOKEN": "1:revoked"}, PUBLIC_URL, orders
    )
    assert (wrong.status, wrong.message) == ("error", "401: Unauthorized")
    assert len(telegram.calls) == 3  # no webhook for a token Telegram refused
    missing = await check(
        "telegram",
        {k: v for k, v in values.items() if k != "TELEGRAM_SECRET_TOKEN"},
        PUBLIC_URL,
        orders,
    )
    assert missing.status == "error" and "TELEGRAM_SECRET_TOKEN" in missing.message


def vk_api(token: str, group_id: int) -> Callable[[Any], Any]:
    """VK's groups.getById for one community token (API 5.194+ shape); VK
    answers a refused token with 200 and ``{"error": …}``."""

    def reply(call: Any) -> Any:
        if call.form.get("access_token") != token:
            return {"error": {"error_code": 5, "error_msg": "User authorization "
                              "failed: invalid access_token (4)."}}  # fmt: skip
        group = {"id": group_id, "name": "Кеды Shop", "screen_name": "kedy"}
        return {"response": {"groups": [group], "profiles": []}}

    return reply


async def test_vk_is_checked_with_groups_get_by_id(
    emulator_factory: Factory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = "vk1.a.live-community-token"
    vk = await emulator_factory(vk_api(token, 218000000))
    values = {
        "VK_TOKEN": token,
        "VK_GROUP_ID": "218000000",
        "VK_SECRET": "callback-secret-key",
        "VK_CONFIRMATION": "1f2e3d4c",
        "VK_API_URL": vk.url,
    }
    orders = DemoStore(tmp_path / "demo.sqlite")
    passed = await check("vk", values, PUBLIC_URL, orders)
    assert (passed.status, passed.message) == ("ok", "Кеды Shop")
    assert vk.paths() == ["/method/groups.getById"]
    assert vk.calls[0].form == {"access_token": token, "v": "5.199"}
    assert vk.calls[0].query == {}  # the token never in the URL

    wrong = await check("vk", {**values, "VK_TOKEN": "revoked"}, PUBLIC_URL, orders)
    assert wrong.status == "error"
    assert wrong.message == "200: User authorization failed: invalid access_token (4)."
    other = await check("vk", {**values, "VK_GROUP_ID": "1"}, PUBLIC_URL, orders)
    assert other.status == "error" and "218000000" in other.message
    bad_id = await check("vk", {**values, "VK_GROUP_ID": "club1"}, PUBLIC_URL, orders)
    assert bad_id.status == "error" and bad_id.message.startswith("VK_GROUP_ID")
    for name in ("VK_SECRET", "VK_CONFIRMATION"):
        missing = {k: v for k, v in values.items() if k != name}
        result = await check("vk", missing, PUBLIC_URL, orders)
        assert result.status == "error" and name in result.message
    assert len(vk.calls) == 3  # nothing called for a form that is wrong
    assert all(token not in str(r.__dict__) for r in caplog.records)


def graph_api(token: str, app_secret: str, number_id: str) -> Callable[[Any], Any]:
    """Graph's ``GET /<version>/<phone_number_id>``: the token, and the App
    Secret's proof when one is sent."""
    from aiohttp import web

    from common.channel_api import appsecret_proof

    def refuse(message: str, code: int) -> Any:
        raise web.HTTPUnauthorized(
            text=json.dumps(
                {"error": {"message": message, "type": "OAuthException", "code": code}}
            ),  # fmt: skip
            content_type="application/json",
        )

    def reply(call: Any) -> Any:
        if call.headers.get("Authorization") != f"Bearer {token}":
            refuse("Invalid OAuth access token - Cannot parse access token", 190)
        if call.query.get("appsecret_proof") != appsecret_proof(token, app_secret):
            refuse("Invalid appsecret_proof provided in the API argument", 100)
        if call.path != f"/v21.0/{number_id}":
            raise web.HTTPNotFound(text="{}", content_type="application/json")
        number = "+7 999 000-04-01"
        return {"verified_name": "Кеды Shop", "display_phone_number": number,
                "id": number_id}  # fmt: skip

    return reply


async def test_whatsapp_is_checked_with_its_phone_number(
    emulator_factory: Factory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token, app_secret = "EAAG-live-access-token", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    graph = await emulator_factory(graph_api(token, app_secret, "106540352242922"))
    values = {
        "WHATSAPP_ACCESS_TOKEN": token,
        "WHATSAPP_APP_SECRET": app_secret,
        "WHATSAPP_VERIFY_TOKEN": "verify-me",
        "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
        "WHATSAPP_API_URL": graph.url,
    }
    orders = DemoStore(tmp_path / "demo.sqlite")
    passed = await check("whatsapp", values, PUBLIC_URL, orders)
    assert (passed.status, passed.message) == ("ok", "Кеды Shop +7 999 000-04-01")
    (call,) = graph.calls
    assert call.method == "GET" and call.path == "/v21.0/106540352242922"
    assert token not in str(call.query) and app_secret not in str(call.query)

    wrong = {**values, "WHATSAPP_ACCESS_TOKEN": "EAAG-revoked"}
    refused = await check("whatsapp", wrong, PUBLIC_URL, orders)
    assert refused.status == "error" and refused.message.startswith(
        "401: Invalid OAuth"
    )
    other_secret = {**values, "WHATSAPP_APP_SECRET": "not-the-app-secret"}
    proof = await check("whatsapp", other_secret, PUBLIC_URL, orders)
    assert proof.message == "401: Invalid appsecret_proof provided in the API argument"
    bad_id = {**values, "WHATSAPP_PHONE_NUMBER_ID": "../me"}
    result = await check("whatsapp", bad_id, PUBLIC_URL, orders)
    assert result.status == "error" and "WHATSAPP_PHONE_NUMBER_ID" in result.message
    no_verify = {k: v for k, v in values.items() if k != "WHATSAPP_VERIFY_TOKEN"}
    result = await check("whatsapp", no_verify, PUBLIC_URL, orders)
    assert result.status == "error" and "WHATSAPP_VERIFY_TOKEN" in result.message
    assert len(graph.calls) == 3
    logged = str([r.__dict__ for r in caplog.records])
    assert token not in logged and app_secret not in logged


def viber_api(token: str) -> Callable[[Any], Any]:
    """Viber's get_account_info and set_webhook for one bot token."""

    def reply(call: Any) -> Any:
        if call.headers.get("X-Viber-Auth-Token") != token:
            return {"status": 2, "status_message": "invalidAuthToken"}
        if call.path == "/pa/get_account_info":
            return {"status": 0, "status_message": "ok", "id": "pa:75346594275468546",
                    "name": "Кеды Shop", "uri": "kedyshop"}  # fmt: skip
        return {"status": 0, "status_message": "ok", "event_types": ["message"]}

    return reply


async def test_viber_is_checked_with_get_account_info_and_its_webhook_set(
    emulator_factory: Factory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = "4453b6ac12345678-e02c5f12174805f9-live0000000000"
    viber = await emulator_factory(viber_api(token))
    values = {
        "VIBER_AUTH_TOKEN": token,
        "VIBER_NAME": "Кеды Shop",
        "VIBER_WEBHOOK_URL": "https://bot.example/webhooks/viber/webhook",
        "VIBER_API_URL": viber.url,
    }
    orders = DemoStore(tmp_path / "demo.sqlite")
    passed = await check("viber", values, PUBLIC_URL, orders)
    assert (passed.status, passed.message) == ("ok", "Кеды Shop")
    assert viber.paths() == ["/pa/get_account_info", "/pa/set_webhook"]
    assert viber.calls[1].json == {
        "url": "https://bot.example/webhooks/viber/webhook",
        "send_name": True,
    }
    wrong = {**values, "VIBER_AUTH_TOKEN": "revoked"}
    refused = await check("viber", wrong, PUBLIC_URL, orders)
    assert (refused.status, refused.message) == ("error", "200: invalidAuthToken")
    assert len(viber.calls) == 3  # no webhook for a token Viber refused
    long_name = {**values, "VIBER_NAME": "x" * 29}
    result = await check("viber", long_name, PUBLIC_URL, orders)
    assert result.status == "error" and "VIBER_NAME" in result.message
    no_url = {k: v for k, v in values.items() if k != "VIBER_WEBHOOK_URL"}
    result = await check("viber", no_url, PUBLIC_URL, orders)
    assert result.status == "error" and "VIBER_WEBHOOK_URL" in result.message
    assert len(viber.calls) == 3
    assert all(token not in str(r.__dict__) for r in caplog.records)


async def test_alice_is_checked_by_its_form_only_and_says_so(tmp_path: Path) -> None:
    orders = DemoStore(tmp_path / "demo.sqlite")
    skill = {"ALICE_SKILL_ID": "3ad36498-f5rd-4079-a14b-788652932056"}
    passed = await check("alice", skill, PUBLIC_URL, orders)
    assert passed.status == "ok"
    assert "нет API" in passed.message and "Яндекс проверит" in passed.message
    for wrong in ("", "skill", "3ad36498-f5rd-4079-a14b-78865293205"):
        result = await check("alice", {"ALICE_SKILL_ID": wrong}, PUBLIC_URL, orders)
        assert result.status == "error" and "ALICE_SKILL_ID" in result.message


async def test_the_action_server_checks_the_new_channels_from_sealed_values(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    vk_token = "vk1.a.through-the-server-token"
    viber_token = "4453b6ac12345678-e02c5f12174805f9-server0000000"
    vk = await emulator_factory(vk_api(vk_token, 218000000))
    viber = await emulator_factory(viber_api(viber_token))
    key = new_key_text()
    keyring = Keyring(parse_key(key, "k"))

    def body(kind: str, secrets: dict[str, str], settings: dict[str, str]) -> dict:
        sealed = keyring.seal(json.dumps(secrets).encode(), f"integration:{kind}")
        return {"kind": kind, "settings": settings, "secrets": sealed}

    vk_settings = {"VK_GROUP_ID": "218000000", "VK_CONFIRMATION": "1f2e3d4c",
                   "VK_API_URL": vk.url}  # fmt: skip
    viber_settings = {
        "VIBER_NAME": "Кеды Shop",
        "VIBER_WEBHOOK_URL": "https://bot.example/webhooks/viber/webhook",
        "VIBER_API_URL": viber.url,
    }
    with action_server(tmp_path, env={"EASYFLOW_SECRETS_KEY": key}) as webhook:
        url = webhook.removesuffix("/webhook") + "/integrations/check"
        auth = {"Authorization": f"Bearer {ACTION_TOKEN}"}
        async with aiohttp.ClientSession() as http:

            async def post(payload: Any) -> Any:
                async with http.post(url, json=payload, headers=auth) as answer:
                    assert answer.status == 200
                    return await answer.json(content_type=None)

            vk_secrets = {"VK_TOKEN": vk_token, "VK_SECRET": "callback-secret"}
            assert await post(body("vk", vk_secrets, vk_settings)) == {
                "status": "ok",
                "message": "Кеды Shop",
            }
            wrong = {**vk_secrets, "VK_TOKEN": "stolen"}
            assert (await post(body("vk", wrong, vk_settings)))["status"] == "error"
            viber_secrets = {"VIBER_AUTH_TOKEN": viber_token}
            answer = await post(body("viber", viber_secrets, viber_settings))
            assert answer == {"status": "ok", "message": "Кеды Shop"}
            assert viber.paths() == ["/pa/get_account_info", "/pa/set_webhook"]
            skill = {"ALICE_SKILL_ID": "3ad36498-f5rd-4079-a14b-788652932056"}
            assert (await post(body("alice", skill, {})))["status"] == "ok"
    log = (tmp_path / "actions.log").read_text()
    for secret in (vk_token, viber_token, "callback-secret", key):
        assert secret not in log
