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
from common import telegram_bot
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
    "description",
    "error_msg",
    "Message",
    "title",
    "code",
)


# Channels the dashboard connects; the Rasa process's connector uses them
# (connectors/live.py), the action server only checks them.
CHANNELS = ("telegram",)


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
    if category(kind) == "channels":
        return await connect_telegram(values)
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
