"""Stripe Checkout.

* ``POST /v1/checkout/sessions`` (form-encoded, ``Authorization: Bearer <secret
  key>``) creates a hosted payment page; the ``Idempotency-Key`` is derived from
  the order, amount and currency, so a retried or repeated request for the same
  order returns the same session (Stripe keeps keys for at least 24 hours).
* ``GET /v1/checkout/sessions/{id}`` reports it (``payment_status`` ``paid``).
* Webhooks (endpoint ``<public url>/payments/stripe/webhook``, events
  ``checkout.session.completed`` and ``checkout.session.async_payment_succeeded``):
  ``Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>…]`` where each ``v1`` may be
  ``hex(HMAC-SHA256(webhook secret, "<t>.<raw body>"))``. No matching ``v1`` → 403;
  a missing or unreadable header or body → 400; a timestamp more than
  ``STRIPE_TOLERANCE_S`` from now (a replay) → 400, as Stripe's libraries treat it
  as a signature verification failure.

Amounts are whole units in the ledger and minor units at Stripe (x100, except
Stripe's zero-decimal currencies).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

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
from common.settings import Reader, SettingsError

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.stripe.com"
DEFAULT_TOLERANCE_S = 300
PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
ZERO_DECIMAL = {
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA",
    "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
}  # fmt: skip


def _factor(currency: str) -> int:
    return 1 if currency.upper() in ZERO_DECIMAL else 100


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``v1`` signature Stripe sends for ``body`` at ``timestamp``."""
    return hmac_sha256_hex(secret, f"{timestamp}.".encode() + body)


@dataclass(frozen=True)
class StripeConfig:
    """``STRIPE_*`` settings; the success page defaults to the public address."""

    secret_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    success_url: str
    api_url: str = DEFAULT_API_URL
    tolerance_s: int = DEFAULT_TOLERANCE_S
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_env(cls, reader: Reader, public_url: str) -> StripeConfig:
        raw_tolerance = reader.raw("STRIPE_TOLERANCE_S")
        try:
            tolerance = int(raw_tolerance) if raw_tolerance else DEFAULT_TOLERANCE_S
        except ValueError as error:
            raise SettingsError("STRIPE_TOLERANCE_S must be whole seconds") from error
        if tolerance <= 0:
            raise SettingsError("STRIPE_TOLERANCE_S must be positive")
        chosen = f"{PROVIDER_IS} stripe"
        return cls(
            secret_key=reader.required("STRIPE_SECRET_KEY", chosen),
            webhook_secret=reader.required("STRIPE_WEBHOOK_SECRET", chosen),
            success_url=reader.text("STRIPE_SUCCESS_URL", public_url),
            api_url=reader.text("STRIPE_API_URL", DEFAULT_API_URL),
            tolerance_s=tolerance,
            timeout_s=reader.seconds("STRIPE_TIMEOUT_S", DEFAULT_TIMEOUT_S),
        )


class StripeProvider(PaymentProvider):
    name = "stripe"

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        success_url: str,
        api_url: str = DEFAULT_API_URL,
        tolerance_s: int = DEFAULT_TOLERANCE_S,
        clock: Callable[[], float] = time.time,
        retry: RetryPolicy | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.secret_key = secret_key
        self.timeout_s = timeout_s
        self.webhook_secret = webhook_secret
        self.success_url = success_url
        self.tolerance_s = tolerance_s
        self.clock = clock
        self.client = PlatformClient(
            "stripe",
            api_url,
            timeout_s=timeout_s,
            retry=retry or RetryPolicy(max_attempts=3),
        )

    @classmethod
    def from_config(cls, config: StripeConfig) -> StripeProvider:
        return cls(
            secret_key=config.secret_key,
            webhook_secret=config.webhook_secret,
            success_url=config.success_url,
            api_url=config.api_url,
            tolerance_s=config.tolerance_s,
            timeout_s=config.timeout_s,
        )

    def _headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.secret_key}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    @staticmethod
    def idempotency_key(order_id: str, amount: int, currency: str) -> str:
        digest = hashlib.sha256(f"{order_id}|{amount}|{currency.upper()}".encode())
        return f"easyflow-checkout-{digest.hexdigest()[:32]}"

    async def create_payment(
        self, order_id: str, amount: int, currency: str, sender_id: str | None = None
    ) -> Payment:
        form = {
            "mode": "payment",
            "line_items[0][price_data][currency]": currency.lower(),
            "line_items[0][price_data][unit_amount]": str(amount * _factor(currency)),
            "line_items[0][price_data][product_data][name]": f"Order {order_id}",
            "line_items[0][quantity]": "1",
            "success_url": self.success_url,
            "cancel_url": self.success_url,
            "metadata[order_id]": order_id,
            "client_reference_id": order_id,
        }
        try:
            session = await self.client.post(
                "/v1/checkout/sessions",
                data=form,
                headers=self._headers(self.idempotency_key(order_id, amount, currency)),
            )
        except PlatformError as error:
            logger.error(
                "stripe.checkout.failed",
                extra={"order_id": order_id, "status": error.status},
            )
            raise PaymentError(f"stripe checkout failed: {error.status}") from error
        if not isinstance(session, dict) or not session.get("id"):
            raise PaymentError("stripe checkout answered no session")
        if not session.get("url"):
            raise PaymentError("stripe checkout session has no url")
        logger.info(
            "stripe.checkout.created",
            extra={"order_id": order_id, "payment_id": session["id"]},
        )
        return self._payment(session, order_id, amount, currency)

    def _payment(
        self, session: dict[str, Any], order_id: str, amount: int, currency: str
    ) -> Payment:
        if session.get("payment_status") == "paid":
            state = PaymentState.SUCCEEDED
        elif session.get("status") == "expired":
            state = PaymentState.CANCELLED
        else:
            state = PaymentState.PENDING
        created = session.get("created")
        return Payment(
            str(session["id"]),
            order_id,
            amount,
            currency.upper(),
            state,
            str(session.get("url") or ""),
            datetime.fromtimestamp(created)
            if isinstance(created, int)
            else datetime.now(),
        )

    async def get_payment(self, payment_id: str) -> Payment | None:
        try:
            session = await self.client.get(
                f"/v1/checkout/sessions/{quote(payment_id, safe='')}",
                headers=self._headers(),
            )
        except PlatformError as error:
            if error.status == 404:
                return None
            raise PaymentError(
                f"stripe session lookup failed: {error.status}"
            ) from error
        if not isinstance(session, dict) or not session.get("id"):
            return None
        currency = str(session.get("currency") or "")
        total = session.get("amount_total")
        amount = total // _factor(currency) if isinstance(total, int) else 0
        metadata = session.get("metadata") or {}
        order_id = str(
            metadata.get("order_id") or session.get("client_reference_id") or ""
        )
        return self._payment(session, order_id, amount, currency)

    async def refund(
        self, payment_id: str, amount: int, currency: str, key: str
    ) -> ProviderRefund:
        """``POST /v1/refunds`` for the session's PaymentIntent, in minor units,
        with an Idempotency-Key derived from the session and ``key``."""
        try:
            session = await self.client.get(
                f"/v1/checkout/sessions/{quote(payment_id, safe='')}",
                headers=self._headers(),
            )
        except PlatformError as error:
            raise PaymentError(
                f"stripe session lookup failed: {error.status}"
            ) from error
        intent = session.get("payment_intent") if isinstance(session, dict) else None
        if isinstance(intent, dict):
            intent = intent.get("id")
        if not isinstance(intent, str) or not intent:
            raise PaymentError(f"stripe session {payment_id} has no payment_intent")
        digest = hashlib.sha256(f"{payment_id}|{key}".encode()).hexdigest()[:32]
        try:
            refund = await self.client.post(
                "/v1/refunds",
                data={"payment_intent": intent,
                      "amount": str(amount * _factor(currency)),
                      "metadata[refund_key]": key},
                headers=self._headers(f"easyflow-refund-{digest}"),
            )  # fmt: skip
        except PlatformError as error:
            logger.error(
                "stripe.refund.failed",
                extra={"payment_id": payment_id, "status": error.status,
                       "body": error.body[:300]},
            )  # fmt: skip
            raise PaymentError(f"stripe refund failed: {error.status}") from error
        status = refund.get("status") if isinstance(refund, dict) else None
        if not isinstance(refund, dict) or not refund.get("id"):
            raise PaymentError("stripe answered no refund")
        if status in ("failed", "canceled"):
            raise PaymentError(f"stripe refund {refund['id']} is {status}")
        logger.info(
            "stripe.refund.created",
            extra={
                "payment_id": payment_id,
                "refund_id": refund["id"],
                "status": status,
            },
        )
        return ProviderRefund(
            str(refund["id"]),
            payment_id,
            amount,
            currency.upper(),
            status == "succeeded",
        )

    def _verify(self, headers: dict[str, str], body: bytes) -> None:
        header = next(
            (v for k, v in headers.items() if k.lower() == "stripe-signature"), ""
        )
        timestamp: int | None = None
        candidates: list[str] = []
        for part in header.split(","):
            key, _, value = part.strip().partition("=")
            if key == "t":
                try:
                    timestamp = int(value)
                except ValueError:
                    timestamp = None
            elif key == "v1" and value:
                candidates.append(value.strip().lower())
        if timestamp is None or not candidates:
            raise WebhookRejected(400, "missing or malformed Stripe-Signature")
        expected = sign(self.webhook_secret, timestamp, body)
        matched = False
        for candidate in candidates:  # check all, so timing says nothing
            matched |= secrets_equal(expected, candidate)
        if not matched:
            raise WebhookRejected(403, "bad signature")
        if abs(self.clock() - timestamp) > self.tolerance_s:
            raise WebhookRejected(400, "timestamp outside tolerance")

    async def parse_webhook(
        self, headers: dict[str, str], body: bytes, remote_ip: str | None
    ) -> WebhookEvent | None:
        try:
            self._verify(headers, body)
        except WebhookRejected as error:
            logger.warning(
                "stripe.webhook.rejected",
                extra={"reason": error.reason, "ip": remote_ip},
            )
            raise
        try:
            event = json.loads(body)
        except (UnicodeDecodeError, ValueError) as error:
            raise WebhookRejected(400, "body is not JSON") from error
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise WebhookRejected(400, "not a Stripe event")
        session = (event.get("data") or {}).get("object")
        if not isinstance(session, dict):
            raise WebhookRejected(400, "event has no object")
        if event["type"] not in PAID_EVENTS or session.get("payment_status") != "paid":
            logger.info(
                "stripe.webhook.ignored",
                extra={"event_id": event.get("id"), "type": event["type"]},
            )
            return None
        session_id = session.get("id")
        total = session.get("amount_total")
        currency = session.get("currency")
        if not isinstance(session_id, str) or not isinstance(currency, str):
            raise WebhookRejected(400, "session without id or currency")
        factor = _factor(currency)
        if not isinstance(total, int) or total % factor:
            logger.error(
                "stripe.webhook.unexpected_amount",
                extra={"payment_id": session_id, "amount_total": total},
            )
            return None
        return WebhookEvent(session_id, True, total // factor, currency.upper())

    def acknowledgement(self) -> tuple[int, str, str]:
        return 200, "", "text/plain"
