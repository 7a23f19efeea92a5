"""Sber internet acquiring (the RBS "payment/rest" gateway).

* ``register.do`` (form POST: ``userName``, ``password``, ``orderNumber``, ``amount``
  in kopecks, ``currency`` ISO numeric, ``returnUrl``, ``description``) answers
  ``orderId`` + ``formUrl``; an ``errorCode`` other than ``0`` is an error.
  ``orderNumber`` must be unique per store, so every attempt gets
  ``<order id>-<random suffix>``; the payment id is Sber's ``orderId`` (``mdOrder``).
* ``getOrderStatusExtended.do`` gives ``orderStatus`` (2 = paid), ``amount`` in
  kopecks and ``currency`` (numeric, 643 = RUB).
* Callbacks: configure them in Sber's merchant settings as **POST** with a
  **symmetric checksum** to ``<public url>/payments/sber/webhook``; the gateway
  then sends the parameters form-encoded in the body (a GET callback would put them
  in the query string, which our POST-only route does not read). ``checksum`` is
  upper-case hex HMAC-SHA256, keyed by the callback token from Sber support, over
  ``name1;value1;name2;value2;…;`` of all other parameters (except ``sign_alias``)
  sorted by name. A ``deposited`` callback with ``status=1`` is re-checked with
  ``getOrderStatusExtended.do``; the amount and currency settled are the gateway's
  answer, not the callback's.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from actions.payments.base import (
    DEFAULT_TIMEOUT_S,
    PROVIDER_IS,
    Payment,
    PaymentError,
    PaymentProvider,
    PaymentState,
    ProviderRefund,
    WebhookEvent,
    WebhookRejected,
)
from common.http import PlatformClient, PlatformError, RetryPolicy
from common.security import hmac_sha256_hex, secrets_equal
from common.settings import Reader

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://securepayments.sberbank.ru/payment/rest"

# ISO 4217 numeric codes the gateway uses.
CURRENCY_CODES = {"RUB": "643", "USD": "840", "EUR": "978", "KZT": "398", "BYN": "933"}
CURRENCY_NAMES = {code: name for name, code in CURRENCY_CODES.items()}

_PAID = 2
_CANCELLED = {3, 4, 6}
_UNSIGNED = {"checksum", "sign_alias"}


def callback_checksum(params: Mapping[str, str], token: str) -> str:
    """Sber's symmetric callback checksum (upper-case hex)."""
    signed = "".join(
        f"{name};{params[name]};" for name in sorted(params) if name not in _UNSIGNED
    )
    return hmac_sha256_hex(token, signed.encode()).upper()


@dataclass(frozen=True)
class SberConfig:
    """``SBER_*`` settings; without a callback token callbacks are refused."""

    username: str
    password: str = field(repr=False)
    callback_token: str = field(repr=False)
    return_url: str
    api_url: str = DEFAULT_API_URL
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_env(cls, reader: Reader, public_url: str) -> SberConfig:
        chosen = f"{PROVIDER_IS} sber"
        return cls(
            username=reader.required("SBER_USERNAME", chosen),
            password=reader.required("SBER_PASSWORD", chosen),
            callback_token=reader.text("SBER_CALLBACK_TOKEN", ""),
            return_url=reader.text("SBER_RETURN_URL", public_url),
            api_url=reader.text("SBER_API_URL", DEFAULT_API_URL),
            timeout_s=reader.seconds("SBER_TIMEOUT_S", DEFAULT_TIMEOUT_S),
        )


class SberProvider(PaymentProvider):
    name = "sber"

    def __init__(
        self,
        username: str,
        password: str,
        callback_token: str,
        return_url: str,
        api_url: str = DEFAULT_API_URL,
        retry: RetryPolicy | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.username = username
        self.timeout_s = timeout_s
        self.password = password
        self.callback_token = callback_token
        self.return_url = return_url
        self.client = PlatformClient(
            "sber",
            api_url,
            timeout_s=timeout_s,
            retry=retry or RetryPolicy(max_attempts=3),
        )

    @classmethod
    def from_config(cls, config: SberConfig) -> SberProvider:
        if not config.callback_token:
            logger.warning(
                "sber.callbacks.disabled",
                extra={"reason": "SBER_CALLBACK_TOKEN is not set"},
            )
        return cls(
            username=config.username,
            password=config.password,
            callback_token=config.callback_token,
            return_url=config.return_url,
            api_url=config.api_url,
            timeout_s=config.timeout_s,
        )

    def _auth(self) -> dict[str, str]:
        return {"userName": self.username, "password": self.password}

    async def _call(self, method: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            answer = await self.client.post(
                f"/{method}", data={**self._auth(), **params}
            )
        except PlatformError as error:
            raise PaymentError(f"sber {method} failed: {error.status}") from error
        if not isinstance(answer, dict):
            raise PaymentError(f"sber {method} answered no JSON object")
        return answer

    async def create_payment(
        self, order_id: str, amount: int, currency: str, sender_id: str | None = None
    ) -> Payment:
        code = CURRENCY_CODES.get(currency.upper())
        if code is None:
            raise PaymentError(f"sber does not take {currency}")
        # Unique per attempt and at most 32 characters.
        order_number = f"{order_id[:23]}-{secrets.token_hex(4)}"
        answer = await self._call(
            "register.do",
            {
                "orderNumber": order_number,
                "amount": str(amount * 100),
                "currency": code,
                "returnUrl": self.return_url,
                "description": f"Order {order_id}",
            },
        )
        error_code = str(answer.get("errorCode", "0") or "0")
        if error_code != "0" or not answer.get("orderId") or not answer.get("formUrl"):
            logger.error(
                "sber.register.failed",
                extra={
                    "order_id": order_id,
                    "error_code": error_code,
                    "error": answer.get("errorMessage"),
                },
            )
            raise PaymentError(f"sber register.do failed: errorCode {error_code}")
        logger.info(
            "sber.register.ok",
            extra={"order_id": order_id, "payment_id": answer["orderId"]},
        )
        return Payment(
            str(answer["orderId"]),
            order_id,
            amount,
            currency.upper(),
            PaymentState.PENDING,
            str(answer["formUrl"]),
            datetime.now(),
        )

    async def _status(self, payment_id: str) -> dict[str, Any] | None:
        answer = await self._call("getOrderStatusExtended.do", {"orderId": payment_id})
        error_code = str(answer.get("errorCode", "0") or "0")
        if error_code == "6":  # unknown order
            return None
        if error_code != "0":
            raise PaymentError(f"sber getOrderStatusExtended failed: {error_code}")
        return answer

    async def get_payment(self, payment_id: str) -> Payment | None:
        answer = await self._status(payment_id)
        if answer is None:
            return None
        status = _int(answer.get("orderStatus"))
        state = (
            PaymentState.SUCCEEDED
            if status == _PAID
            else PaymentState.CANCELLED
            if status in _CANCELLED
            else PaymentState.PENDING
        )
        order_number = str(answer.get("orderNumber", ""))
        minor = _int(answer.get("amount")) or 0
        return Payment(
            payment_id,
            order_number.rsplit("-", 1)[0],
            minor // 100,
            CURRENCY_NAMES.get(str(answer.get("currency", "643")), "RUB"),
            state,
            "",
            datetime.now(),
        )

    async def refund(
        self, payment_id: str, amount: int, currency: str, key: str
    ) -> ProviderRefund:
        """``refund.do`` (``orderId``, ``amount`` in kopecks); ``errorCode`` 0 is
        done. The classic gateway takes no idempotency key: the gateway refuses
        more than was deposited, and our ledger never sends the same ``key``
        twice."""
        answer = await self._call(
            "refund.do", {"orderId": payment_id, "amount": str(amount * 100)}
        )
        error_code = str(answer.get("errorCode", "0") or "0")
        if error_code != "0":
            logger.error(
                "sber.refund.failed",
                extra={"payment_id": payment_id, "error_code": error_code,
                       "error": answer.get("errorMessage")},
            )  # fmt: skip
            raise PaymentError(f"sber refund.do failed: errorCode {error_code}")
        logger.info("sber.refund.done", extra={"payment_id": payment_id})
        return ProviderRefund(
            f"{payment_id}:{key}", payment_id, amount, currency.upper(), True
        )

    async def parse_webhook(
        self, headers: dict[str, str], body: bytes, remote_ip: str | None
    ) -> WebhookEvent | None:
        params = _form(body)
        if not {"mdOrder", "operation", "status"} <= params.keys():
            raise WebhookRejected(400, "missing callback parameters")
        if not self.callback_token:
            raise WebhookRejected(403, "callbacks are not configured")
        received = params.get("checksum", "").strip().upper()
        if not secrets_equal(callback_checksum(params, self.callback_token), received):
            logger.warning(
                "sber.webhook.rejected",
                extra={"reason": "bad checksum", "ip": remote_ip},
            )
            raise WebhookRejected(403, "bad checksum")
        payment_id = params["mdOrder"]
        if params["operation"] != "deposited" or params["status"] != "1":
            logger.info(
                "sber.webhook.ignored",
                extra={"payment_id": payment_id, "operation": params["operation"]},
            )
            return None
        try:
            answer = await self._status(payment_id)
        except PaymentError as error:
            # Not acknowledged, so Sber sends the callback again later.
            raise WebhookRejected(503, "sber status unavailable") from error
        if answer is None or _int(answer.get("orderStatus")) != _PAID:
            logger.warning(
                "sber.webhook.not_paid",
                extra={"payment_id": payment_id},
            )
            return None
        minor = _int(answer.get("amount"))
        currency = CURRENCY_NAMES.get(str(answer.get("currency", "")))
        if minor is None or minor % 100 or currency is None:
            logger.error(
                "sber.webhook.unexpected_amount",
                extra={
                    "payment_id": payment_id,
                    "amount": answer.get("amount"),
                    "currency": answer.get("currency"),
                },
            )
            return None
        return WebhookEvent(payment_id, True, minor // 100, currency)

    def acknowledgement(self) -> tuple[int, str, str]:
        return 200, "OK", "text/plain"


def _form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=True
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise WebhookRejected(400, "malformed callback") from error
    params = dict(pairs)
    if len(params) != len(pairs):
        raise WebhookRejected(400, "repeated callback parameters")
    return params


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
