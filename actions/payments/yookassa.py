"""YooKassa (API v3): redirect payment links and ``payment.succeeded`` notifications.

Requests use HTTP Basic auth (shop id : secret key) and, on POST, an
``Idempotence-Key`` derived from the order, amount and currency, so a retried
create (ours or ``PlatformClient``'s) returns the same payment instead of a second
one; YooKassa keeps a key for 24 h.

Notifications carry no signature. They are trusted only when the sender's IP is in
YooKassa's documented ranges (``YOOKASSA_ALLOWED_IPS``, CIDR aware) and then only
as a hint: the payment is re-fetched with ``GET /payments/{id}`` and only the
re-fetched status, amount and currency count.

Behind a reverse proxy the IP checked is the one the route passes
(``request.ip``, the socket peer). Turning ``X-Forwarded-For`` into that peer
address belongs to the proxy / Sanic ``PROXIES_COUNT`` / ``FORWARDED_SECRET``
configuration, never to this module: a header the client controls must not be
trusted here.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
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
from common.http import PlatformClient, PlatformError
from common.settings import Reader, SettingsError

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.yookassa.ru/v3"
# https://yookassa.ru/developers/using-api/webhooks ("IP addresses").
DEFAULT_ALLOWED_IPS = (
    "185.71.76.0/27",
    "185.71.77.0/27",
    "77.75.153.0/25",
    "77.75.156.11",
    "77.75.156.35",
    "77.75.154.128/25",
    "2a02:5180::/32",
)
_IDEMPOTENCE_NAMESPACE = uuid.UUID("6f1c3e0a-5b8e-4d0e-9a51-7a1d2f0c9e11")
_STATES = {"succeeded": PaymentState.SUCCEEDED, "canceled": PaymentState.CANCELLED}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(spec: str | tuple[str, ...]) -> list[Network]:
    """``"1.2.3.0/24, 5.6.7.8"`` → networks; a bare address is a /32 (or /128)."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    networks = []
    for item in (raw.strip() for raw in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as error:
            raise SettingsError(f"YOOKASSA_ALLOWED_IPS: {item!r} is invalid") from error
    if not networks:
        raise SettingsError("YOOKASSA_ALLOWED_IPS: empty")
    return networks


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as error:
        raise PaymentError(f"yookassa amount {value!r} is invalid") from error


def _created_at(raw: Any) -> datetime:
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            pass
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class YooKassaConfig:
    """``YOOKASSA_*`` settings; the return page defaults to the public address."""

    shop_id: str
    secret_key: str = field(repr=False)
    return_url: str
    api_url: str = DEFAULT_API_URL
    allowed_ips: str | tuple[str, ...] = DEFAULT_ALLOWED_IPS
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_env(cls, reader: Reader, public_url: str) -> YooKassaConfig:
        chosen = f"{PROVIDER_IS} yookassa"
        return cls(
            reader.required("YOOKASSA_SHOP_ID", chosen),
            reader.required("YOOKASSA_SECRET_KEY", chosen),
            reader.text("YOOKASSA_RETURN_URL", public_url),
            reader.text("YOOKASSA_API_URL", DEFAULT_API_URL),
            reader.raw("YOOKASSA_ALLOWED_IPS") or DEFAULT_ALLOWED_IPS,
            timeout_s=reader.seconds("YOOKASSA_TIMEOUT_S", DEFAULT_TIMEOUT_S),
        )


class YooKassaProvider(PaymentProvider):
    name = "yookassa"

    def __init__(
        self,
        shop_id: str,
        secret_key: str,
        return_url: str,
        api_url: str = DEFAULT_API_URL,
        allowed_ips: str | tuple[str, ...] = DEFAULT_ALLOWED_IPS,
        client: PlatformClient | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.shop_id = shop_id
        self.timeout_s = timeout_s
        self._secret_key = secret_key
        self.return_url = return_url
        self.allowed = parse_networks(allowed_ips)
        self.client = client or PlatformClient("yookassa", api_url, timeout_s=timeout_s)

    @classmethod
    def from_config(cls, config: YooKassaConfig) -> YooKassaProvider:
        return cls(
            config.shop_id,
            config.secret_key,
            config.return_url,
            config.api_url,
            config.allowed_ips,
            timeout_s=config.timeout_s,
        )

    def _headers(self, idempotence_key: str | None = None) -> dict[str, str]:
        credentials = f"{self.shop_id}:{self._secret_key}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(credentials).decode()}
        if idempotence_key:
            headers["Idempotence-Key"] = idempotence_key
        return headers

    @staticmethod
    def idempotence_key(order_id: str, amount: int, currency: str) -> str:
        """Same order, amount and currency → same key (a UUID, well under 64)."""
        return str(
            uuid.uuid5(_IDEMPOTENCE_NAMESPACE, f"{order_id}|{amount}|{currency}")
        )

    def _payment(self, raw: Mapping[str, Any]) -> Payment:
        try:
            amount = raw["amount"]
            return Payment(
                str(raw["id"]),
                str((raw.get("metadata") or {}).get("order_id", "")),
                int(_amount(amount["value"])),
                str(amount["currency"]),
                _STATES.get(str(raw.get("status")), PaymentState.PENDING),
                str((raw.get("confirmation") or {}).get("confirmation_url", "")),
                _created_at(raw.get("created_at")),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise PaymentError(
                f"yookassa answered an unexpected payment: {error!r}"
            ) from error

    async def create_payment(
        self, order_id: str, amount: int, currency: str, sender_id: str | None = None
    ) -> Payment:
        body = {
            "amount": {"value": f"{amount}.00", "currency": currency},
            "confirmation": {"type": "redirect", "return_url": self.return_url},
            "capture": True,
            "description": f"Заказ {order_id}",
            "metadata": {"order_id": order_id},
        }
        key = self.idempotence_key(order_id, amount, currency)
        try:
            raw = await self.client.post(
                "/payments", json=body, headers=self._headers(key)
            )
        except PlatformError as error:
            raise PaymentError(f"yookassa create failed: {error.status}") from error
        if not isinstance(raw, dict):
            raise PaymentError("yookassa answered a non-object")
        payment = self._payment(raw)
        if not payment.url:
            raise PaymentError("yookassa answered no confirmation_url")
        logger.info(
            "yookassa.payment.created",
            extra={"order_id": order_id, "payment_id": payment.payment_id},
        )
        return payment

    async def _fetch(self, payment_id: str) -> dict[str, Any] | None:
        try:
            raw = await self.client.get(
                f"/payments/{quote(payment_id, safe='')}", headers=self._headers()
            )
        except PlatformError as error:
            if error.status == 404:
                return None
            raise PaymentError(f"yookassa get failed: {error.status}") from error
        if not isinstance(raw, dict):
            raise PaymentError("yookassa answered a non-object")
        return raw

    async def get_payment(self, payment_id: str) -> Payment | None:
        raw = await self._fetch(payment_id)
        return None if raw is None else self._payment(raw)

    async def refund(
        self, payment_id: str, amount: int, currency: str, key: str
    ) -> ProviderRefund:
        """``POST /refunds``; the Idempotence-Key is derived from the payment and
        ``key``, so a retry returns the same refund instead of a second one."""
        body = {
            "payment_id": payment_id,
            "amount": {"value": f"{amount}.00", "currency": currency},
            "description": f"Возврат {key}"[:250],
        }
        idempotence = str(
            uuid.uuid5(_IDEMPOTENCE_NAMESPACE, f"refund|{payment_id}|{key}")
        )
        try:
            raw = await self.client.post(
                "/refunds", json=body, headers=self._headers(idempotence)
            )
        except PlatformError as error:
            logger.error(
                "yookassa.refund.failed",
                extra={"payment_id": payment_id, "status": error.status,
                       "body": error.body[:300]},
            )  # fmt: skip
            raise PaymentError(f"yookassa refund failed: {error.status}") from error
        if not isinstance(raw, dict) or not raw.get("id"):
            raise PaymentError("yookassa answered no refund")
        status = str(raw.get("status"))
        if status == "canceled":
            raise PaymentError(f"yookassa cancelled refund {raw['id']}")
        logger.info(
            "yookassa.refund.created",
            extra={"payment_id": payment_id, "refund_id": raw["id"], "status": status},
        )
        return ProviderRefund(
            str(raw["id"]), payment_id, amount, currency, status == "succeeded"
        )

    def ip_allowed(self, remote_ip: str | None) -> bool:
        try:
            address = ipaddress.ip_address((remote_ip or "").strip())
        except ValueError:
            return False
        return any(address in network for network in self.allowed)

    def _reject(self, status: int, reason: str, **extra: Any) -> WebhookRejected:
        logger.warning("yookassa.webhook.rejected", extra={"reason": reason, **extra})
        return WebhookRejected(status, reason)

    async def parse_webhook(
        self, headers: dict[str, str], body: bytes, remote_ip: str | None
    ) -> WebhookEvent | None:
        if not self.ip_allowed(remote_ip):
            raise self._reject(403, "source not allowed", ip=remote_ip)
        try:
            notification = json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise self._reject(400, "malformed json") from error
        if not isinstance(notification, dict):
            raise self._reject(400, "not an object")
        event = notification.get("event")
        if event != "payment.succeeded":
            logger.info("yookassa.webhook.ignored", extra={"event": event})
            return None
        payment_id = (notification.get("object") or {}).get("id")
        if not isinstance(payment_id, str) or not payment_id:
            raise self._reject(400, "no object.id")
        try:
            raw = await self._fetch(payment_id)
        except PaymentError as error:
            # Not verifiable now: a 5xx makes YooKassa deliver it again later.
            raise self._reject(503, "re-fetch failed", payment_id=payment_id) from error
        if raw is None or raw.get("status") != "succeeded":
            logger.warning(
                "yookassa.webhook.not_succeeded",
                extra={
                    "payment_id": payment_id,
                    "status": None if raw is None else raw.get("status"),
                },
            )
            return None
        try:
            value = _amount(raw["amount"]["value"])
            currency = str(raw["amount"]["currency"])
        except (KeyError, TypeError, PaymentError):
            logger.error("yookassa.webhook.no_amount", extra={"payment_id": payment_id})
            return None
        if value != value.to_integral_value():
            # The ledger holds whole units; a fractional amount can never match.
            logger.error(
                "yookassa.webhook.fractional_amount",
                extra={"payment_id": payment_id, "amount": str(value)},
            )
            return None
        return WebhookEvent(payment_id, True, int(value), currency)

    def acknowledgement(self) -> tuple[int, str, str]:
        return 200, "", "text/plain"
