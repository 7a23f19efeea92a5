"""The real client of a platform built from an integration's values, and the
one harmless read that checks it (an order or a payment that does not exist:
the platform must accept the credentials to say so).

Values are named as the environment variables (``WB_API_TOKEN``…), so the
same typed configs (``from_env``) validate them and build the same clients an
``.env`` would.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actions.integrations.base import OrderSource
from actions.integrations.registry import (
    MARKETPLACES,
    build_sources,
    read_source_configs,
)
from actions.payments.base import PaymentProvider
from actions.payments.registry import PROVIDERS, build_provider, read_payment_config
from common import channel_api, telegram_bot
from common.http import PlatformError
from common.settings import Reader, SettingsError

logger = logging.getLogger(__name__)

# An order number of the source's own format that no shop has.
PROBE_ORDERS = {
    "wildberries": "1",
    "ozon": "00000001-0001-1",
    "bitrix24": "1001",
    "shopify": "1001",
}
PROBE_PAYMENT = "00000000-0000-4000-8000-000000000000"
# Platforms that answer an unknown payment with an error in the body: that
# answer is about the payment, so the terminal and its token were accepted
# (T-Bank checks TerminalKey, 202, and Token, 204, first; 7: no such payment,
# as tests/actions/payments/provider_emulators.py has it).
NOT_FOUND_ANSWERS = {"tbank": ("ErrorCode", frozenset({"7"}))}
# What a platform's error body calls its message, most specific first.
MESSAGE_KEYS = (
    "detail",
    "message",
    "status_message",
    "description",
    "error_msg",
    "Message",
    "title",
    "code",
)


MAX_VIBER_NAME = 28  # the sender name Viber shows
# Yandex's skill ids look like UUIDs (its own docs' example has a letter past f).
SKILL_ID = re.compile(r"[0-9A-Za-z]{8}-([0-9A-Za-z]{4}-){3}[0-9A-Za-z]{12}")
ALICE_NOT_CALLED = (
    "форма заполнена верно; у Алисы нет API для проверки ключа — Яндекс проверит "
    "навык, когда вызовет вебхук (адрес задаётся в консоли Яндекс Диалогов)"
)

# Channels the dashboard connects; the Rasa process's connector uses them
# (connectors/live.py), the action server only checks them.
CHANNELS = ("telegram", "vk", "whatsapp", "viber", "alice")


def category(kind: str) -> str | None:
    if kind in MARKETPLACES:
        return "orders"
    if kind in PROVIDERS:
        return "payments"
    if kind in CHANNELS:
        return "channels"
    return None


async def connect_telegram(values: Mapping[str, str]) -> CheckResult:
    """``getMe`` (the token), then ``setWebhook`` with the secret the connector
    checks, as ``python -m connectors setup telegram`` does."""
    reader = Reader(values)
    try:
        token = reader.required("TELEGRAM_TOKEN", "Telegram is connected")
        url = reader.url("TELEGRAM_WEBHOOK_URL", "")
        secret = reader.required("TELEGRAM_SECRET_TOKEN", "Telegram is connected")
        api_url = reader.url("TELEGRAM_API_URL", telegram_bot.API_URL)
    except SettingsError as error:
        return CheckResult("error", str(error))
    try:
        me = await telegram_bot.get_me(api_url, token)
        await telegram_bot.set_webhook(api_url, token, url, secret)
    except PlatformError as error:
        return classify(error)
    logger.info("integrations.check.passed", extra={"kind": "telegram"})
    return CheckResult("ok", f"@{me.get('username', '')}")


async def connect_vk(values: Mapping[str, str]) -> CheckResult:
    """``groups.getById`` with the community token: it must belong to the
    community ``VK_GROUP_ID`` names. The Callback API server is set in the
    community's settings (VK has no call for it)."""
    reader = Reader(values)
    try:
        token = reader.required("VK_TOKEN", "VK is connected")
        group_id = reader.required("VK_GROUP_ID", "VK is connected").strip()
        reader.required("VK_SECRET", "VK is connected")
        reader.required("VK_CONFIRMATION", "VK is connected")
        api_url = reader.url("VK_API_URL", channel_api.VK_API_URL)
    except SettingsError as error:
        return CheckResult("error", str(error))
    if not group_id.isdigit():
        return CheckResult("error", "VK_GROUP_ID: the community's number, digits only")
    try:
        group = await channel_api.vk_group(api_url, token)
    except PlatformError as error:
        return _failed("vk", classify(error))
    if str(group.get("id")) != group_id:
        return _failed(
            "vk",
            CheckResult(
                "error",
                f"the token belongs to community {group.get('id')}, "
                f"not to VK_GROUP_ID {group_id}",
            ),
        )
    logger.info("integrations.check.passed", extra={"kind": "vk"})
    return CheckResult("ok", str(group.get("name") or f"club{group_id}"))


async def connect_whatsapp(values: Mapping[str, str]) -> CheckResult:
    """Graph's ``GET /<version>/<phone_number_id>`` with the access token and
    the App Secret's proof. The callback URL and the verify token are set in
    Meta's console (Graph has no call for a Cloud API number's webhook)."""
    reader = Reader(values)
    reason = "WhatsApp is connected"
    try:
        token = reader.required("WHATSAPP_ACCESS_TOKEN", reason)
        app_secret = reader.required("WHATSAPP_APP_SECRET", reason)
        reader.required("WHATSAPP_VERIFY_TOKEN", reason)
        number_id = reader.required("WHATSAPP_PHONE_NUMBER_ID", reason).strip()
        api_url = reader.url("WHATSAPP_API_URL", channel_api.GRAPH_API_URL)
    except SettingsError as error:
        return CheckResult("error", str(error))
    if not number_id.isdigit():
        return CheckResult(
            "error", "WHATSAPP_PHONE_NUMBER_ID: the Phone number ID, digits only"
        )
    try:
        number = await channel_api.whatsapp_number(
            api_url, token, app_secret, number_id
        )
    except PlatformError as error:
        return _failed("whatsapp", classify(error))
    logger.info("integrations.check.passed", extra={"kind": "whatsapp"})
    shown = " ".join(
        str(number[k])
        for k in ("verified_name", "display_phone_number")
        if number.get(k)
    )
    return CheckResult("ok", shown)


async def connect_viber(values: Mapping[str, str]) -> CheckResult:
    """``get_account_info`` (the token), then ``set_webhook``, as
    ``python -m connectors setup viber`` does."""
    reader = Reader(values)
    try:
        token = reader.required("VIBER_AUTH_TOKEN", "Viber is connected")
        name = reader.required("VIBER_NAME", "Viber is connected").strip()
        url = reader.url("VIBER_WEBHOOK_URL", "")
        api_url = reader.url("VIBER_API_URL", channel_api.VIBER_API_URL)
    except SettingsError as error:
        return CheckResult("error", str(error))
    if not url:
        return CheckResult("error", "VIBER_WEBHOOK_URL is required")
    if len(name) > MAX_VIBER_NAME:
        return CheckResult(
            "error", f"VIBER_NAME: at most {MAX_VIBER_NAME} characters (Viber's limit)"
        )
    try:
        account = await channel_api.viber_account(api_url, token)
        await channel_api.viber_set_webhook(api_url, token, url)
    except PlatformError as error:
        return _failed("viber", classify(error))
    logger.info("integrations.check.passed", extra={"kind": "viber"})
    return CheckResult("ok", str(account.get("name") or account.get("uri") or ""))


def connect_alice(values: Mapping[str, str]) -> CheckResult:
    """Alice has no API to call with a skill id: the form is checked here,
    and Yandex checks the skill when it calls the webhook (its address is set
    in the Dialogs console)."""
    skill_id = (values.get("ALICE_SKILL_ID") or "").strip()
    if not skill_id:
        return CheckResult("error", "ALICE_SKILL_ID is required (Alice is connected)")
    if not SKILL_ID.fullmatch(skill_id):
        return CheckResult(
            "error", "ALICE_SKILL_ID: the skill's ID from the Dialogs console (a UUID)"
        )
    logger.info("integrations.check.passed", extra={"kind": "alice"})
    return CheckResult("ok", ALICE_NOT_CALLED)


def _failed(kind: str, result: CheckResult) -> CheckResult:
    logger.info(
        "integrations.check.failed", extra={"kind": kind, "status": result.status}
    )
    return result


def build_source(kind: str, values: Mapping[str, str]) -> OrderSource:
    """``SettingsError`` names a missing or malformed value."""
    configs = read_source_configs((kind,), Reader(values))
    source, _ = build_sources((kind,), Path("/nonexistent"), configs)
    return source


def build_payment_provider(
    kind: str, values: Mapping[str, str], public_url: str, orders: OrderSource
) -> PaymentProvider:
    config = read_payment_config(kind, Reader(values), public_url)
    return build_provider(kind, Path("/nonexistent"), public_url, orders, config)


@dataclass(frozen=True)
class CheckResult:
    status: str  # ok | error | unreachable
    message: str = ""


def _platform_text(error: PlatformError) -> str:
    """The platform's own words: the message field of a JSON error body, else
    the start of the body."""
    try:
        body: Any = json.loads(error.body)
    except ValueError:
        return error.body[:200]
    for _ in range(3):  # {"error": {"message": ...}} and the like
        if not isinstance(body, dict):
            break
        for key in MESSAGE_KEYS:
            if isinstance(body.get(key), str) and body[key]:
                return body[key][:200]
        body = body.get("error") or body.get("errors")
        if isinstance(body, list) and body:
            body = body[0]
    return error.body[:200]


def _platform_error(error: BaseException) -> PlatformError | None:
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, PlatformError):
        cause = cause.__cause__ or cause.__context__
    return cause if isinstance(cause, PlatformError) else None


def _not_found(kind: str, error: BaseException) -> bool:
    """The platform said the probe's payment does not exist (credentials good)."""
    rule = NOT_FOUND_ANSWERS.get(kind)
    cause = _platform_error(error)
    if rule is None or cause is None:
        return False
    try:
        body = json.loads(cause.body)
    except ValueError:
        return False
    return isinstance(body, dict) and str(body.get(rule[0])) in rule[1]


def classify(error: BaseException) -> CheckResult:
    cause = _platform_error(error)
    if cause is not None:
        if cause.status is None:
            return CheckResult("unreachable", f"{cause.platform} is unreachable")
        return CheckResult("error", f"{cause.status}: {_platform_text(cause)}")
    return CheckResult("error", str(error)[:300] or type(error).__name__)


async def close_client(client: object) -> None:
    """Closes the HTTP session of a source or a provider (providers keep theirs
    as ``client``)."""
    close = getattr(client, "close", None) or getattr(
        getattr(client, "client", None), "close", None
    )
    if close is not None:
        await close()


async def check(
    kind: str, values: Mapping[str, str], public_url: str, orders: OrderSource
) -> CheckResult:
    """Builds ``kind``'s client from ``values`` and reads one thing through it
    (a channel: registers the webhook too)."""
    if kind == "telegram":
        return await connect_telegram(values)
    if kind == "vk":
        return await connect_vk(values)
    if kind == "whatsapp":
        return await connect_whatsapp(values)
    if kind == "viber":
        return await connect_viber(values)
    if kind == "alice":
        return connect_alice(values)
    try:
        if category(kind) == "orders":
            client: Any = build_source(kind, values)
        else:
            client = build_payment_provider(kind, values, public_url, orders)
    except SettingsError as error:
        return CheckResult("error", str(error))
    try:
        if category(kind) == "orders":
            await client.get_order(PROBE_ORDERS[kind])
        else:
            await client.get_payment(PROBE_PAYMENT)
    except Exception as error:  # what the platform said, for the merchant
        if _not_found(kind, error):
            logger.info("integrations.check.passed", extra={"kind": kind})
            return CheckResult("ok")
        result = classify(error)
        logger.info(
            "integrations.check.failed",
            extra={"kind": kind, "status": result.status},
        )
        return result
    finally:
        await close_client(client)
    logger.info("integrations.check.passed", extra={"kind": kind})
    return CheckResult("ok")
