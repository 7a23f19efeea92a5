"""Stateful loopback emulators of the four payment providers, for dialog tests.

Each one answers the API calls our provider makes (create a link, read it back,
refund it) with the provider's documented auth checked, and can play the shopper
paying: ``pay(payment_id)`` marks the payment paid and returns the notification the
provider would then send, signed (or, for YooKassa, unsigned and re-fetched) the
way the provider documents (``../shared/docs/platform-protocols.md`` §10–13).
``deliver`` posts it to our webhook route as the provider's servers would.

The signatures are written out here independently of ``actions/payments`` so a
mistake in one is not mirrored in the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from tests.emulators import Call


def _error(exception: type[web.HTTPException], body: Any) -> web.HTTPException:
    return exception(text=json.dumps(body), content_type="application/json")


@dataclass(frozen=True)
class Notification:
    """What a provider POSTs to the merchant's notification URL."""

    body: bytes
    headers: dict[str, str]


async def deliver(url: str, notification: Notification) -> tuple[int, str]:
    """POSTs a notification as the provider does; the status and body we answered."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            url, data=notification.body, headers=notification.headers
        ) as response,
    ):
        return response.status, await response.text()


# --- YooKassa API v3 ------------------------------------------------------------


@dataclass
class YooKassaApi:
    """``/v3/payments`` and ``/v3/refunds`` with Basic auth and Idempotence-Key."""

    shop_id: str = "311036"
    secret_key: str = "test_secret_key"
    name: str = "yookassa"
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, tuple[str, str]] = field(default_factory=dict)

    def env(self, url: str) -> dict[str, str]:
        return {
            "YOOKASSA_SHOP_ID": self.shop_id,
            "YOOKASSA_SECRET_KEY": self.secret_key,
            "YOOKASSA_API_URL": f"{url}/v3",
            # Notifications come from the loopback emulator, not YooKassa's ranges.
            "YOOKASSA_ALLOWED_IPS": "127.0.0.1/32",
        }

    def __call__(self, call: Call) -> Any:
        credentials = f"{self.shop_id}:{self.secret_key}".encode()
        if call.headers.get("Authorization") != (
            "Basic " + base64.b64encode(credentials).decode()
        ):
            raise _error(
                web.HTTPUnauthorized,
                {"type": "error", "code": "invalid_credentials"},
            )
        if call.method == "POST":
            key = call.headers.get("Idempotence-Key", "")
            if not 0 < len(key) <= 64:
                raise _error(
                    web.HTTPBadRequest,
                    {"type": "error", "code": "invalid_request",
                     "parameter": "Idempotence-Key"},
                )  # fmt: skip
            body_hash = hashlib.sha256(
                json.dumps(call.json, sort_keys=True).encode()
            ).hexdigest()
            if key in self.by_key:
                seen_hash, object_id = self.by_key[key]
                if seen_hash != body_hash:  # same key, other body: an error
                    raise _error(
                        web.HTTPBadRequest,
                        {"type": "error", "code": "invalid_request"},
                    )
                return self.payments.get(object_id) or self.refunds[object_id]
            if call.path == "/v3/payments":
                created = self._create_payment(call.json)
            elif call.path == "/v3/refunds":
                created = self._create_refund(call.json)
            else:
                raise _error(web.HTTPNotFound, {"type": "error", "code": "not_found"})
            self.by_key[key] = (body_hash, created["id"])
            return created
        kind, _, object_id = call.path.removeprefix("/v3/").partition("/")
        found = {"payments": self.payments, "refunds": self.refunds}.get(kind, {})
        if call.method == "GET" and object_id in found:
            return found[object_id]
        raise _error(web.HTTPNotFound, {"type": "error", "code": "not_found"})

    def _create_payment(self, body: dict[str, Any]) -> dict[str, Any]:
        payment_id = str(uuid.uuid4())
        self.payments[payment_id] = {
            "id": payment_id,
            "status": "pending",
            "paid": False,
            "amount": body["amount"],
            "confirmation": {
                "type": "redirect",
                "confirmation_url": "https://yoomoney.ru/checkout/payments/v2/"
                f"contract?orderId={payment_id}",
            },
            "created_at": "2025-02-10T00:14:05.555Z",
            "description": body.get("description", ""),
            "metadata": body.get("metadata", {}),
            "refundable": False,
            "test": True,
        }
        return self.payments[payment_id]

    def _create_refund(self, body: dict[str, Any]) -> dict[str, Any]:
        payment = self.payments.get(str(body.get("payment_id")))
        if payment is None:
            raise _error(web.HTTPNotFound, {"type": "error", "code": "not_found"})
        refunded = sum(
            float(r["amount"]["value"])
            for r in self.refunds.values()
            if r["payment_id"] == payment["id"]
        )
        asked = float(body["amount"]["value"])
        if payment["status"] != "succeeded" or (
            refunded + asked > float(payment["amount"]["value"])
        ):
            raise _error(
                web.HTTPBadRequest,
                {"type": "error", "code": "invalid_request",
                 "description": "Refund amount exceeds the payment amount"},
            )  # fmt: skip
        refund_id = str(uuid.uuid4())
        self.refunds[refund_id] = {
            "id": refund_id,
            "payment_id": payment["id"],
            "status": "succeeded",
            "amount": body["amount"],
            "created_at": "2025-02-11T10:00:00.000Z",
            "description": body.get("description", ""),
        }
        return self.refunds[refund_id]

    def pay(self, payment_id: str) -> Notification:
        payment = self.payments[payment_id]
        payment.update(status="succeeded", paid=True, refundable=True)
        body = {"type": "notification", "event": "payment.succeeded",
                "object": payment}  # fmt: skip
        return Notification(
            json.dumps(body).encode(), {"Content-Type": "application/json"}
        )


# --- T-Bank Internet Acquiring v2 ------------------------------------------------


def tbank_token(params: dict[str, Any], password: str) -> str:
    """Root scalars + Password, sorted by key, values joined, SHA-256 hex."""
    pairs = [
        (key, str(value).lower() if isinstance(value, bool) else str(value))
        for key, value in params.items()
        if key != "Token" and not isinstance(value, dict | list)
    ]
    pairs.append(("Password", password))
    joined = "".join(value for _, value in sorted(pairs))
    return hashlib.sha256(joined.encode()).hexdigest()


@dataclass
class TBankApi:
    """``Init``, ``GetState`` and ``Cancel``, every request's Token checked."""

    terminal_key: str = "1696935466962DEMO"
    password: str = "tbank_test_password"
    name: str = "tbank"
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    order_ids: set[str] = field(default_factory=set)

    def env(self, url: str) -> dict[str, str]:
        return {
            "TBANK_TERMINAL_KEY": self.terminal_key,
            "TBANK_PASSWORD": self.password,
            "TBANK_API_URL": f"{url}/v2",
        }

    def _answer(self, **fields: Any) -> dict[str, Any]:
        return {"Success": True, "ErrorCode": "0",
                "TerminalKey": self.terminal_key, **fields}  # fmt: skip

    @staticmethod
    def _failure(code: str, message: str) -> dict[str, Any]:
        return {"Success": False, "ErrorCode": code, "Message": message}

    def __call__(self, call: Call) -> Any:
        body = call.json or {}
        if body.get("TerminalKey") != self.terminal_key:
            return self._failure("202", "Терминал не найден")
        if body.get("Token") != tbank_token(body, self.password):
            return self._failure("204", "Неверный токен")
        method = call.path.removeprefix("/v2/")
        if method == "Init":
            if body["OrderId"] in self.order_ids or len(body["OrderId"]) > 36:
                return self._failure("8", "Неверный OrderId")
            self.order_ids.add(body["OrderId"])
            payment_id = str(3372975894 + len(self.payments))
            self.payments[payment_id] = {
                "OrderId": body["OrderId"],
                "Amount": body["Amount"],
                "Status": "NEW",
                "NotificationURL": body.get("NotificationURL"),
                "Refunded": 0,
            }
            return self._answer(
                Status="NEW",
                PaymentId=payment_id,
                OrderId=body["OrderId"],
                Amount=body["Amount"],
                PaymentURL=f"https://securepay.tinkoff.ru/new/{payment_id}",
            )
        payment = self.payments.get(str(body.get("PaymentId")))
        if payment is None:
            return self._failure("7", "Платёж не найден")
        if method == "GetState":
            return self._answer(
                PaymentId=str(body["PaymentId"]),
                OrderId=payment["OrderId"],
                Amount=payment["Amount"],
                Status=payment["Status"],
            )
        if method == "Cancel":
            return self._cancel(str(body["PaymentId"]), payment, body)
        raise _error(web.HTTPNotFound, self._failure("9999", "unknown method"))

    def _cancel(
        self, payment_id: str, payment: dict[str, Any], body: dict[str, Any]
    ) -> dict[str, Any]:
        left = payment["Amount"] - payment["Refunded"]
        amount = int(body.get("Amount", left))
        if payment["Status"] not in ("CONFIRMED", "PARTIAL_REFUNDED") or not (
            0 < amount <= left
        ):
            return self._failure("1008", "Неверная сумма возврата")
        original = payment["Amount"]
        payment["Refunded"] += amount
        payment["Status"] = (
            "REFUNDED" if payment["Refunded"] == original else "PARTIAL_REFUNDED"
        )
        return self._answer(
            PaymentId=payment_id,
            OrderId=payment["OrderId"],
            Status=payment["Status"],
            OriginalAmount=original,
            NewAmount=original - payment["Refunded"],
        )

    def pay(self, payment_id: str) -> Notification:
        payment = self.payments[payment_id]
        payment["Status"] = "CONFIRMED"
        notification: dict[str, Any] = {
            "TerminalKey": self.terminal_key,
            "OrderId": payment["OrderId"],
            "Success": True,
            "Status": "CONFIRMED",
            "PaymentId": int(payment_id),
            "ErrorCode": "0",
            "Amount": payment["Amount"],
            "CardId": 357089169,
            "Pan": "528041******0988",
            "ExpDate": "1029",
        }
        notification["Token"] = tbank_token(notification, self.password)
        return Notification(
            json.dumps(notification).encode(), {"Content-Type": "application/json"}
        )

    def notification_url(self, payment_id: str) -> str:
        """Where T-Bank sends it: the ``NotificationURL`` given to ``Init``."""
        return str(self.payments[payment_id]["NotificationURL"])


# --- Sber (RBS gateway) ---------------------------------------------------------


def sber_checksum(params: dict[str, str], token: str) -> str:
    signed = "".join(
        f"{key};{params[key]};"
        for key in sorted(params)
        if key not in ("checksum", "sign_alias")
    )
    return hmac.new(token.encode(), signed.encode(), hashlib.sha256).hexdigest().upper()


@dataclass
class SberApi:
    """``register.do``, ``getOrderStatusExtended.do`` and ``refund.do``."""

    username: str = "shop-api"
    password: str = "s3cret"
    callback_token: str = "callback-token"
    name: str = "sber"
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)

    def env(self, url: str) -> dict[str, str]:
        return {
            "SBER_USERNAME": self.username,
            "SBER_PASSWORD": self.password,
            "SBER_CALLBACK_TOKEN": self.callback_token,
            "SBER_API_URL": f"{url}/payment/rest",
        }

    def __call__(self, call: Call) -> Any:
        form = call.form
        if (form.get("userName"), form.get("password")) != (
            self.username,
            self.password,
        ):
            return {"errorCode": "5", "errorMessage": "Доступ запрещён"}
        method = call.path.rsplit("/", 1)[-1]
        if method == "register.do":
            number = form.get("orderNumber", "")
            if any(o["orderNumber"] == number for o in self.orders.values()):
                return {
                    "errorCode": "1",
                    "errorMessage": "Заказ с таким номером уже обработан",
                }
            order_id = str(uuid.uuid4())
            self.orders[order_id] = {
                "orderNumber": number,
                "amount": int(form["amount"]),
                "currency": form.get("currency", "643"),
                "orderStatus": 0,
                "refunded": 0,
            }
            return {
                "orderId": order_id,
                "formUrl": "https://3dsec.sberbank.ru/payment/merchants/test/"
                f"payment_ru.html?mdOrder={order_id}",
            }
        order = self.orders.get(form.get("orderId", ""))
        if order is None:
            return {"errorCode": "6", "errorMessage": "Заказ не найден"}
        if method == "getOrderStatusExtended.do":
            return {
                "errorCode": "0",
                "errorMessage": "Успешно",
                "orderNumber": order["orderNumber"],
                "orderStatus": order["orderStatus"],
                "actionCode": 0,
                "amount": order["amount"],
                "currency": order["currency"],
                "paymentAmountInfo": {
                    "approvedAmount": order["amount"],
                    "depositedAmount": order["amount"] - order["refunded"],
                    "refundedAmount": order["refunded"],
                },
            }
        if method == "refund.do":
            amount = int(form.get("amount", "0"))
            if order["orderStatus"] not in (2, 4) or not (
                0 < amount <= order["amount"] - order["refunded"]
            ):
                return {
                    "errorCode": "7",
                    "errorMessage": "Сумма возврата превышает сумму списания",
                }
            order["refunded"] += amount
            order["orderStatus"] = 4
            return {"errorCode": "0", "errorMessage": "Успешно"}
        return {"errorCode": "7", "errorMessage": "unknown method"}

    def pay(self, payment_id: str) -> Notification:
        order = self.orders[payment_id]
        order["orderStatus"] = 2
        params = {
            "mdOrder": payment_id,
            "orderNumber": order["orderNumber"],
            "operation": "deposited",
            "status": "1",
        }
        params["checksum"] = sber_checksum(params, self.callback_token)
        return Notification(
            urlencode(params).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )


# --- Stripe ---------------------------------------------------------------------


@dataclass
class StripeApi:
    """Checkout Sessions and Refunds; Bearer auth; Idempotency-Key replays."""

    secret_key: str = "sk_test_123"
    webhook_secret: str = "whsec_abc"
    name: str = "stripe"
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)

    def env(self, url: str) -> dict[str, str]:
        return {
            "STRIPE_SECRET_KEY": self.secret_key,
            "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
            "STRIPE_API_URL": url,
        }

    @staticmethod
    def _invalid(message: str, code: str = "parameter_invalid") -> web.HTTPException:
        return _error(
            web.HTTPBadRequest,
            {"error": {"type": "invalid_request_error", "code": code,
                       "message": message}},
        )  # fmt: skip

    def __call__(self, call: Call) -> Any:
        if call.headers.get("Authorization") != f"Bearer {self.secret_key}":
            raise _error(
                web.HTTPUnauthorized,
                {"error": {"type": "invalid_request_error",
                           "message": "Invalid API Key provided"}},
            )  # fmt: skip
        key = call.headers.get("Idempotency-Key")
        if call.method == "POST" and key and key in self.by_key:
            return self.by_key[key]
        if call.method == "POST" and call.path == "/v1/checkout/sessions":
            created = self._create_session(call.form)
        elif call.method == "POST" and call.path == "/v1/refunds":
            created = self._create_refund(call.form)
        elif call.method == "GET" and call.path.startswith("/v1/checkout/sessions/"):
            session = self.sessions.get(call.path.rsplit("/", 1)[-1])
            if session is None:
                raise _error(web.HTTPNotFound, {"error": {"code": "resource_missing"}})
            return session
        else:
            raise _error(web.HTTPNotFound, {"error": {"code": "resource_missing"}})
        if call.method == "POST" and key:
            self.by_key[key] = created
        return created

    def _create_session(self, form: dict[str, str]) -> dict[str, Any]:
        session_id = f"cs_test_{uuid.uuid4().hex[:24]}"
        self.sessions[session_id] = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
            "mode": form.get("mode"),
            "amount_total": int(form["line_items[0][price_data][unit_amount]"])
            * int(form.get("line_items[0][quantity]", "1")),
            "currency": form["line_items[0][price_data][currency]"],
            "client_reference_id": form.get("client_reference_id"),
            "metadata": {"order_id": form.get("metadata[order_id]")},
            "payment_intent": None,
            "created": int(time.time()),
            "livemode": False,
        }
        return self.sessions[session_id]

    def _create_refund(self, form: dict[str, str]) -> dict[str, Any]:
        intent = form.get("payment_intent", "")
        session = next(
            (s for s in self.sessions.values() if s["payment_intent"] == intent), None
        )
        if session is None:
            raise self._invalid(
                f"No such payment_intent: '{intent}'", "resource_missing"
            )
        refunded = sum(
            r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent
        )
        amount = int(form.get("amount") or session["amount_total"] - refunded)
        if refunded + amount > session["amount_total"]:
            raise self._invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on "
                f"charge ({session['amount_total'] - refunded})",
                "amount_too_large",
            )
        refund_id = f"re_{uuid.uuid4().hex[:24]}"
        self.refunds[refund_id] = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "currency": session["currency"],
            "payment_intent": intent,
            "status": "succeeded",
            "metadata": {"order_id": form.get("metadata[order_id]")},
        }
        return self.refunds[refund_id]

    def pay(self, session_id: str, at: float | None = None) -> Notification:
        session = self.sessions[session_id]
        session.update(
            status="complete",
            payment_status="paid",
            payment_intent=f"pi_{uuid.uuid4().hex[:24]}",
        )
        timestamp = int(at if at is not None else time.time())
        event = {
            "id": f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "type": "checkout.session.completed",
            "created": timestamp,
            "livemode": False,
            "api_version": "2024-06-20",
            "data": {"object": session},
        }
        body = json.dumps(event).encode()
        signature = hmac.new(
            self.webhook_secret.encode(),
            f"{timestamp}.".encode() + body,
            hashlib.sha256,
        ).hexdigest()
        return Notification(
            body,
            {
                "Content-Type": "application/json",
                "Stripe-Signature": f"t={timestamp},v1={signature}",
            },
        )


ProviderApi = YooKassaApi | TBankApi | SberApi | StripeApi
