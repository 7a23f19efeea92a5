"""T-Bank (Tinkoff) Internet Acquiring API v2: ``Init`` payment links, ``GetState``
and signed notifications.

Every request and every notification carries a ``Token``: the root-level scalar
fields (nested objects such as ``DATA``/``Receipt`` and ``Token`` itself left out)
plus ``Password``, sorted by key, values concatenated, SHA-256 lower-case hex.

Choices:

* **One-stage payments** (``PayType: "O"``): the money is captured at once and
  only ``Status: "CONFIRMED"`` settles an order. ``AUTHORIZED`` (funds held, a
  stage of the same payment) changes nothing.
* **``OrderId`` = ``<our order id>-<8 hex>``**, fresh for each ``create_payment``
  call (T-Bank wants it unique per operation, ≤36 chars). ``PlatformClient``'s
  retries resend the same body, so they never make a second payment. Our ledger
  keys the payment by T-Bank's ``PaymentId``, which notifications carry, so the
  suffix never has to be parsed back; ``get_payment`` strips it for display.
* ``NotificationURL`` is ``<public url>/payments/tbank/webhook``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

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
from common.http import BodyError, PlatformClient, PlatformError
from common.security import secrets_equal
from common.settings import Reader

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://securepay.tinkoff.ru/v2"
_MAX_ORDER_ID = 36
_CANCELLED = {
    "CANCELED",
    "REJECTED",
    "AUTH_FAIL",
    "DEADLINE_EXPIRED",
    "REVERSED",
    "REFUNDED",
}


_REFUNDED = {
    "REFUNDED", "PARTIAL_REFUNDED", "REVERSED", "PARTIAL_REVERSED", "REFUNDING",
}  # fmt: skip


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def make_token(params: Mapping[str, Any], password: str) -> str:
    """T-Bank's request/notification signature (see the module docstring)."""
    pairs = {
        key: _scalar(value)
        for key, value in params.items()
        if key != "Token"
        and value is not None
        and not isinstance(value, dict | list | tuple)
    }
    pairs["Password"] = password
    joined = "".join(pairs[key] for key in sorted(pairs))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def _body_error(parsed: Any) -> BodyError | None:
    # T-Bank reports errors as 200 {"Success": false, "ErrorCode": "…"}.
    if isinstance(parsed, dict) and parsed.get("Success") is False:
        return BodyError(retryable=False)
    return None


@dataclass(frozen=True)
class TBankConfig:
    """``TBANK_*`` settings; notifications come to our public address."""

    terminal_key: str
    password: str = field(repr=False)
    notification_url: str
    api_url: str = DEFAULT_API_URL
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_env(cls, reader: Reader, public_url: str) -> TBankConfig:
        chosen = f"{PROVIDER_IS} tbank"
        return cls(
            reader.required("TBANK_TERMINAL_KEY", chosen),
            reader.required("TBANK_PASSWORD", chosen),
            f"{public_url.rstrip('/')}/payments/tbank/webhook",
            reader.text("TBANK_API_URL", DEFAULT_API_URL),
            timeout_s=reader.seconds("TBANK_TIMEOUT_S", DEFAULT_TIMEOUT_S),
        )


class TBankProvider(PaymentProvider):
    name = "tbank"

    def __init__(
        self,
        terminal_key: str,
        password: str,
        notification_url: str | None = None,
        api_url: str = DEFAULT_API_URL,
        client: PlatformClient | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.terminal_key = terminal_key
        self.timeout_s = timeout_s
        self._password = password
        self.notification_url = notification_url
        self.client = client or PlatformClient(
            "tbank", api_url, timeout_s=timeout_s, body_error=_body_error
        )

    @classmethod
    def from_config(cls, config: TBankConfig) -> TBankProvider:
        return cls(
            config.terminal_key,
            config.password,
            config.notification_url,
            config.api_url,
            timeout_s=config.timeout_s,
        )

    def sign(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "Token": make_token(params, self._password)}

    async def _call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            raw = await self.client.post(f"/{method}", json=self.sign(params))
        except PlatformError as error:
            code = message = None
            try:
                answer = json.loads(error.body)
                code, message = answer.get("ErrorCode"), answer.get("Message")
            except (ValueError, AttributeError):
                pass
            logger.error(
                "tbank.request.failed",
                extra={
                    "method": method,
                    "status": error.status,
                    "error_code": code,
                    "error_message": message,
                },
            )
            raise PaymentError(
                f"tbank {method} failed: status {error.status}, code {code}"
            ) from error
        if not isinstance(raw, dict):
            raise PaymentError(f"tbank {method} answered a non-object")
        return raw

    async def create_payment(
        self, order_id: str, amount: int, currency: str, sender_id: str | None = None
    ) -> Payment:
        if currency.upper() != "RUB":
            raise PaymentError(f"tbank takes RUB only, not {currency}")
        attempt_id = f"{order_id}-{secrets.token_hex(4)}"
        if len(attempt_id) > _MAX_ORDER_ID:
            raise PaymentError(f"tbank OrderId {attempt_id!r} is over 36 chars")
        params: dict[str, Any] = {
            "TerminalKey": self.terminal_key,
            "Amount": amount * 100,
            "OrderId": attempt_id,
            "Description": f"Заказ {order_id}"[:140],
            "PayType": "O",
        }
        if self.notification_url:
            params["NotificationURL"] = self.notification_url
        raw = await self._call("Init", params)
        payment_id, url = raw.get("PaymentId"), raw.get("PaymentURL")
        if not payment_id or not url:
            raise PaymentError("tbank Init answered no PaymentId/PaymentURL")
        logger.info(
            "tbank.payment.created",
            extra={"order_id": order_id, "payment_id": str(payment_id)},
        )
        return Payment(
            str(payment_id),
            order_id,
            amount,
            "RUB",
            PaymentState.PENDING,
            str(url),
            datetime.now(timezone.utc),
        )

    async def get_payment(self, payment_id: str) -> Payment | None:
        raw = await self._call(
            "GetState", {"TerminalKey": self.terminal_key, "PaymentId": payment_id}
        )
        status = str(raw.get("Status", ""))
        if status == "CONFIRMED":
            state = PaymentState.SUCCEEDED
        elif status in _CANCELLED:
            state = PaymentState.CANCELLED
        else:
            state = PaymentState.PENDING
        order_id = str(raw.get("OrderId", "")).rpartition("-")[0]
        return Payment(
            str(raw.get("PaymentId", payment_id)),
            order_id,
            int(raw.get("Amount") or 0) // 100,
            "RUB",
            state,
            "",
            datetime.now(timezone.utc),
        )

    async def refund(
        self, payment_id: str, amount: int, currency: str, key: str
    ) -> ProviderRefund:
        """``Cancel`` with ``Amount`` in kopecks (a partial refund when less than
        the payment). T-Bank has no idempotency key: it refuses more than is left
        on the payment, and our ledger never sends the same ``key`` twice."""
        if currency.upper() != "RUB":
            raise PaymentError(f"tbank takes RUB only, not {currency}")
        raw = await self._call(
            "Cancel",
            {"TerminalKey": self.terminal_key, "PaymentId": payment_id,
             "Amount": amount * 100},
        )  # fmt: skip
        status = str(raw.get("Status", ""))
        if status not in _REFUNDED:
            raise PaymentError(f"tbank Cancel answered status {status!r}")
        logger.info(
            "tbank.refund.done",
            extra={"payment_id": payment_id, "status": status,
                   "left": raw.get("NewAmount")},
        )  # fmt: skip
        return ProviderRefund(
            f"{payment_id}:{key}", payment_id, amount, "RUB", status != "REFUNDING"
        )

    def _reject(self, status: int, reason: str, **extra: Any) -> WebhookRejected:
        logger.warning("tbank.webhook.rejected", extra={"reason": reason, **extra})
        return WebhookRejected(status, reason)

    async def parse_webhook(
        self, headers: dict[str, str], body: bytes, remote_ip: str | None
    ) -> WebhookEvent | None:
        try:
            notification = json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise self._reject(400, "malformed json", ip=remote_ip) from error
        if not isinstance(notification, dict):
            raise self._reject(400, "not an object", ip=remote_ip)
        received = notification.get("Token")
        expected = make_token(notification, self._password)
        if not isinstance(received, str) or not secrets_equal(
            expected, received.lower()
        ):
            raise self._reject(403, "bad token", ip=remote_ip)
        if not secrets_equal(self.terminal_key, str(notification.get("TerminalKey"))):
            raise self._reject(403, "other terminal", ip=remote_ip)
        payment_id, status = notification.get("PaymentId"), notification.get("Status")
        if status != "CONFIRMED" or notification.get("Success") is not True:
            logger.info(
                "tbank.webhook.ignored",
                extra={"payment_id": str(payment_id), "status": status},
            )
            return None
        kopecks = notification.get("Amount")
        if payment_id in (None, "") or not isinstance(kopecks, int):
            raise self._reject(400, "no PaymentId/Amount")
        if kopecks % 100:
            # The ledger holds whole roubles; kopecks can never match.
            logger.error(
                "tbank.webhook.fractional_amount",
                extra={"payment_id": str(payment_id), "amount": kopecks},
            )
            return None
        return WebhookEvent(str(payment_id), True, kopecks // 100, "RUB")

    def acknowledgement(self) -> tuple[int, str, str]:
        return 200, "OK", "text/plain"
