"""Shopify as an order source, through the Admin GraphQL API.

``POST {shop}/admin/api/{version}/graphql.json`` with ``X-Shopify-Access-Token``
(an Admin API access token of a custom app with ``read_orders``; ``write_orders``
to cancel; ``read_all_orders`` for orders older than 60 days).

A shopper's "#1001" is normalised by the bot to "1001" and looked up with
``orders(first: 1, query: "name:#1001")``; a shop whose order names carry a letter
prefix ("A-10234") is searched by that name. The answer is checked to be that exact
order name.

State: ``cancelledAt`` → cancelled; every fulfilment delivered (or picked up) on a
fulfilled order → delivered; a fulfilment ready for pickup → ready for pickup; any
other live fulfilment → shipped; otherwise paid (``PAID``, ``AUTHORIZED``,
refunds) → processing, and unpaid → awaiting payment.

The buyer's e-mail is read (the order's ``email``, ``Order.customer_email``): the
one-time code of order privacy goes there. Like the shipping address the query
reads too, it is protected customer data the custom app must be granted (the
e-mail field, level 2). An order found by number carries no ``customer_phone``;
one found by the buyer's phone carries the customer's phone.

"Мои заказы" (``orders_by_phone``, a phone the bot verified): the shop's customers
with that phone, ``customers(query: "phone:…")`` asked for the phone's usual
spellings joined with ``OR`` and checked here on the last ten digits, then their
orders in one ``orders(query: "customer_id:… OR customer_id:…", sortKey:
CREATED_AT, reverse: true)``, mapped like an order found by name. This needs
``read_customers`` and the customer phone field (protected customer data, level 2).
Sources: https://shopify.dev/docs/api/admin-graphql/2025-01/queries/customers
(the ``phone`` filter), .../queries/orders (the ``customer_id`` filter,
``OrderSortKeys.CREATED_AT``), https://shopify.dev/docs/api/usage/search-syntax
(``OR``, quoted values). Confidence: the query arguments and filters are
documented [V]; Shopify keeps a customer's phone in E.164 ("+79161234567"), so
that spelling is always asked, but how the ``phone`` filter compares other
spellings is not documented [M]. An order placed as a guest without a customer
record is not found by phone.

Errors come in a 200 answer (``{"errors": [...]}``): ``THROTTLED`` is retried by
``PlatformClient`` after the time the cost bucket needs, anything else is an
``OrderSourceError``, as are a wrong token (401) and missing scopes (403).

Writes: cancelling an unfulfilled order with ``orderCancel`` (refunding a paid
one, restocking, notifying the customer); the cancellation runs as a Shopify job.
Refunds are read from the order. Address changes, returns and payment marks are
done in Shopify (``OperationUnsupported``); product search is not wired to the
catalogue and returns no products.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actions.integrations.base import (
    Order,
    OrderItem,
    OrderNotChangeable,
    OrderSource,
    OrderSourceError,
    OrderState,
    Refund,
    RefundState,
)
from actions.integrations.marketplace import (
    SOURCES_INCLUDE,
    parse_date,
    parse_time,
    rounded,
    whole_units,
)
from actions.integrations.phones import same_phone, spellings
from common.http import BodyError, PlatformClient, PlatformError, RetryPolicy
from common.order_ids import OrderIdKind, normalize
from common.settings import Reader, SettingsError

logger = logging.getLogger(__name__)


DEFAULT_API_VERSION = "2025-01"
STAFF_NOTE = "Cancelled by the customer through the Easy Flow assistant"

_VERSION = re.compile(r"^(\d{4}-\d{2}|unstable)$")
_PAID = frozenset({"PAID", "AUTHORIZED", "PARTIALLY_REFUNDED", "REFUNDED"})
_DEAD_FULFILMENTS = frozenset({"CANCELLED", "ERROR", "FAILURE"})
_DELIVERED = frozenset({"DELIVERED", "PICKED_UP"})

_ORDER_NODE = """
      id
      name
      email
      createdAt
      cancelledAt
      displayFinancialStatus
      displayFulfillmentStatus
      totalPriceSet { shopMoney { amount currencyCode } }
      shippingAddress { formatted }
      fulfillments(first: 10) {
        status
        displayStatus
        deliveredAt
        estimatedDeliveryAt
        trackingInfo(first: 1) { number company }
      }
      lineItems(first: 20) {
        nodes {
          name
          sku
          quantity
          variant { title }
          originalUnitPriceSet { shopMoney { amount } }
        }
      }
"""

ORDER_QUERY = (
    """
query OrderByName($q: String!) {
  orders(first: 1, query: $q) {
    nodes {
"""
    + _ORDER_NODE.lstrip("\n")
    + """    }
  }
}
"""
)

CUSTOMERS_QUERY = """
query CustomersByPhone($q: String!) {
  customers(first: 10, query: $q) {
    nodes {
      id
      phone
    }
  }
}
"""

CUSTOMER_ORDERS_QUERY = (
    """
query OrdersOfCustomers($q: String!, $first: Int!) {
  orders(first: $first, query: $q, sortKey: CREATED_AT, reverse: true) {
    nodes {
"""
    + _ORDER_NODE.lstrip("\n")
    + """    }
  }
}
"""
)

REFUNDS_QUERY = """
query OrderRefunds($q: String!) {
  orders(first: 1, query: $q) {
    nodes {
      name
      refunds(first: 10) {
        id
        createdAt
        totalRefundedSet { shopMoney { amount currencyCode } }
        transactions(first: 5) { nodes { status processedAt } }
      }
    }
  }
}
"""

CANCEL_MUTATION = """
mutation CancelOrder(
  $orderId: ID!, $refund: Boolean!, $restock: Boolean!, $staffNote: String
) {
  orderCancel(
    orderId: $orderId
    reason: CUSTOMER
    refund: $refund
    restock: $restock
    notifyCustomer: true
    staffNote: $staffNote
  ) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""


@dataclass(frozen=True)
class ShopifyConfig:
    """``SHOPIFY_*`` settings of the Shopify order source."""

    shop_url: str
    access_token: str = field(repr=False)
    api_version: str = DEFAULT_API_VERSION
    # Signs the shop's orders/updated webhooks (actions/proactive/shopify_webhook.py);
    # empty: no webhook route.
    webhook_secret: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, reader: Reader) -> ShopifyConfig:
        chosen = f"{SOURCES_INCLUDE} shopify"
        url = reader.required("SHOPIFY_SHOP_URL", chosen)
        token = reader.required("SHOPIFY_ACCESS_TOKEN", chosen)
        version = reader.text("SHOPIFY_API_VERSION", DEFAULT_API_VERSION)
        if not url.startswith(("https://", "http://")):
            raise SettingsError(
                f"SHOPIFY_SHOP_URL: '{url}' must be https://<shop>.myshopify.com"
            )
        if not _VERSION.match(version):
            raise SettingsError(
                f"SHOPIFY_API_VERSION: '{version}' is not a version such as 2025-01"
            )
        secret = reader.text("SHOPIFY_WEBHOOK_SECRET", "")
        return cls(url, token, version, secret)


class ShopifySource(OrderSource):
    name = "shopify"
    kinds = frozenset({OrderIdKind.SHOP.value})

    def __init__(
        self,
        shop_url: str,
        access_token: str,
        api_version: str = DEFAULT_API_VERSION,
        *,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
        webhook_secret: str = "",
    ) -> None:
        self.webhook_secret = webhook_secret
        self.shop_url = shop_url.rstrip("/")
        self.api_version = api_version
        self._path = f"/admin/api/{api_version}/graphql.json"
        self._headers = {"X-Shopify-Access-Token": access_token}
        self._client = PlatformClient(
            "shopify",
            self.shop_url,
            timeout_s=timeout_s,
            retry=retry,
            body_error=_graphql_error,
        )

    def __repr__(self) -> str:
        return f"ShopifySource({self.shop_url!r}, {self.api_version!r})"

    @classmethod
    def from_config(cls, config: ShopifyConfig) -> ShopifySource:
        return cls(
            config.shop_url,
            config.access_token,
            config.api_version,
            webhook_secret=config.webhook_secret,
        )

    async def close(self) -> None:
        await self._client.close()

    # --- transport ------------------------------------------------------------

    async def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = await self._client.post(
                self._path,
                json={"query": query, "variables": variables},
                headers=self._headers,
            )
        except PlatformError as error:
            if error.status in (401, 403):
                logger.error("shopify.auth.failed", extra={"status": error.status})
            else:
                logger.error(
                    "shopify.request.failed",
                    extra={"status": error.status, "errors": _error_codes(error.body)},
                )
            raise OrderSourceError(f"shopify answered {error.status}") from error
        if not isinstance(answer, dict) or not isinstance(answer.get("data"), dict):
            logger.error("shopify.answer.unexpected")
            raise OrderSourceError("shopify: unexpected answer")
        return answer["data"]

    async def _node(self, query: str, order_id: str) -> tuple[str, dict] | None:
        """The canonical number and the order node of that exact name, if any."""
        number, search = _search(order_id)
        if search is None:
            return None
        data = await self._graphql(query, {"q": search})
        for node in (data.get("orders") or {}).get("nodes") or []:
            if _canonical(node.get("name")) == number:
                return number, node
        return None

    # --- reads ----------------------------------------------------------------

    async def get_order(self, order_id: str) -> Order | None:
        found = await self._node(ORDER_QUERY, order_id)
        return None if found is None else _order(*found)

    async def get_refunds(self, order_id: str) -> list[Refund]:
        found = await self._node(REFUNDS_QUERY, order_id)
        if found is None:
            return []
        number, node = found
        refunds = [_refund(number, raw) for raw in node.get("refunds") or []]
        return sorted(refunds, key=lambda r: r.created_at, reverse=True)

    async def orders_by_phone(self, phone: str, limit: int = 5) -> list[Order]:
        """The orders of the customers with this phone, newest first."""
        variants = spellings(phone)
        if not variants or limit <= 0:
            return []
        data = await self._graphql(
            CUSTOMERS_QUERY,
            {"q": " OR ".join(f'phone:"{v}"' for v in variants)},
        )
        matched = {
            str(node.get("id") or "").rsplit("/", 1)[-1]: str(node.get("phone"))
            for node in (data.get("customers") or {}).get("nodes") or []
            if same_phone(phone, node.get("phone"))
        }
        customers = [c for c in matched if c.isdigit()]
        if not customers:
            return []
        data = await self._graphql(
            CUSTOMER_ORDERS_QUERY,
            {
                "q": " OR ".join(f"customer_id:{c}" for c in customers),
                "first": limit,
            },
        )
        orders = []
        for node in (data.get("orders") or {}).get("nodes") or []:
            number = _canonical(node.get("name"))
            if number is not None:
                # The customer's phone is the buyer's: the order's privacy factor.
                found = _order(number, node)
                orders.append(
                    dataclasses.replace(found, customer_phone=matched[customers[0]])
                )
        orders.sort(key=lambda order: order.created_at, reverse=True)
        logger.info(
            "shopify.orders_by_phone",
            extra={"customers": len(customers), "orders": len(orders[:limit])},
        )
        return orders[:limit]

    # --- writes ---------------------------------------------------------------

    async def cancel_order(self, order_id: str) -> Order:
        """Asks Shopify to cancel (a job); a paid order is refunded by Shopify."""
        found = await self._node(ORDER_QUERY, order_id)
        if found is None:
            raise KeyError(order_id)
        order = _order(*found)
        if not order.state.can_cancel:
            raise OrderNotChangeable(order.state)
        data = await self._graphql(
            CANCEL_MUTATION,
            {
                "orderId": found[1]["id"],
                "refund": order.paid,
                "restock": True,
                "staffNote": STAFF_NOTE,
            },
        )
        payload = data.get("orderCancel") or {}
        errors = payload.get("orderCancelUserErrors") or []
        if errors:
            logger.error(
                "shopify.cancel.refused",
                extra={
                    "order_id": order.order_id,
                    "codes": [e.get("code") for e in errors],
                },
            )
            raise OrderSourceError(f"shopify refused to cancel {order.order_id}")
        logger.info(
            "shopify.order.cancelled",
            extra={
                "order_id": order.order_id,
                "job": (payload.get("job") or {}).get("id"),
            },
        )
        return dataclasses.replace(
            order, state=OrderState.CANCELLED, expected_delivery=None
        )


# --- mapping ---------------------------------------------------------------------


def _search(order_id: str) -> tuple[str | None, str | None]:
    """The canonical number and the ``orders`` search for it."""
    parsed = normalize(order_id, allow_short=True)
    if parsed is None or parsed.kind is OrderIdKind.OZON:
        return None, None
    if parsed.value.isdigit():
        return parsed.value, f"name:#{parsed.value}"
    return parsed.value, f'name:"{parsed.value}"'


def _canonical(name: Any) -> str | None:
    parsed = normalize(str(name or ""), allow_short=True)
    return None if parsed is None else parsed.value


def _order(number: str, node: dict[str, Any]) -> Order:
    paid = node.get("displayFinancialStatus") in _PAID
    fulfilments = [
        f
        for f in node.get("fulfillments") or []
        if f.get("status") not in _DEAD_FULFILMENTS
        and f.get("displayStatus") != "CANCELED"
    ]
    delivered = [_delivered(f) for f in fulfilments]
    if node.get("cancelledAt"):
        state = OrderState.CANCELLED
    elif (
        fulfilments
        and all(delivered)
        and node.get("displayFulfillmentStatus") == "FULFILLED"
    ):
        state = OrderState.DELIVERED
    elif any(f.get("displayStatus") == "READY_FOR_PICKUP" for f in fulfilments):
        state = OrderState.READY_FOR_PICKUP
    elif fulfilments or node.get("displayFulfillmentStatus") in (
        "FULFILLED",
        "PARTIALLY_FULFILLED",
    ):
        state = OrderState.SHIPPED
    elif paid:
        state = OrderState.PROCESSING
    else:
        state = OrderState.AWAITING_PAYMENT
    carrier = tracking = None
    for fulfilment in reversed(fulfilments):
        info = next(
            (t for t in fulfilment.get("trackingInfo") or [] if t.get("number")), None
        )
        if info is not None:
            carrier, tracking = info.get("company") or None, info["number"]
            break
    latest = fulfilments[-1] if fulfilments else {}
    delivered_times = [
        t for t in (parse_time(f.get("deliveredAt")) for f in fulfilments) if t
    ]
    money = (node.get("totalPriceSet") or {}).get("shopMoney") or {}
    address = node.get("shippingAddress") or {}
    return Order(
        order_id=number,
        channel="shopify",
        state=state,
        created_at=parse_time(node.get("createdAt")) or datetime.now(),
        expected_delivery=parse_date(latest.get("estimatedDeliveryAt"))
        if state in (OrderState.SHIPPED, OrderState.PROCESSING)
        else None,
        delivered_at=max(delivered_times)
        if state is OrderState.DELIVERED and delivered_times
        else None,
        total=_amount(money.get("amount")),
        currency=money.get("currencyCode") or "",
        paid=paid,
        address=", ".join(address.get("formatted") or []),
        carrier=carrier,
        tracking_number=tracking,
        items=tuple(
            _item(line) for line in (node.get("lineItems") or {}).get("nodes") or []
        ),
        customer_email=node.get("email") or None,
    )


def _delivered(fulfilment: dict[str, Any]) -> bool:
    return bool(
        fulfilment.get("displayStatus") in _DELIVERED or fulfilment.get("deliveredAt")
    )


def _item(line: dict[str, Any]) -> OrderItem:
    variant = (line.get("variant") or {}).get("title")
    price = ((line.get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get(
        "amount"
    )
    return OrderItem(
        sku=line.get("sku") or "",
        title_ru=line.get("name") or "",
        title_en=line.get("name") or "",
        size=None if variant in (None, "", "Default Title") else variant,
        color=None,
        quantity=int(line.get("quantity") or 0),
        price=_amount(price),
    )


def _refund(number: str, raw: dict[str, Any]) -> Refund:
    money = (raw.get("totalRefundedSet") or {}).get("shopMoney") or {}
    transactions = (raw.get("transactions") or {}).get("nodes") or []
    done = bool(transactions) and all(
        t.get("status") == "SUCCESS" for t in transactions
    )
    processed = [
        t for t in (parse_time(t.get("processedAt")) for t in transactions) if t
    ]
    created = parse_time(raw.get("createdAt")) or datetime.now()
    return Refund(
        refund_id=str(raw.get("id") or "").rsplit("/", 1)[-1],
        order_id=number,
        amount=_amount(money.get("amount")),
        currency=money.get("currencyCode") or "",
        state=RefundState.COMPLETED if done else RefundState.PENDING,
        created_at=created,
        expected_by=None,
        completed_at=(max(processed) if processed else created) if done else None,
    )


def _graphql_error(body: Any) -> BodyError | None:
    """GraphQL errors arrive in a 200 answer; THROTTLED waits for the bucket."""
    if not isinstance(body, dict) or not body.get("errors"):
        return None
    if "THROTTLED" not in _codes(body["errors"]):
        return BodyError(retryable=False)
    return BodyError(retryable=True, retry_after=_throttle_wait(body))


def _throttle_wait(body: dict[str, Any]) -> float | None:
    """Seconds until the cost bucket holds the query's requested cost again."""
    try:
        cost = body["extensions"]["cost"]
        status = cost["throttleStatus"]
        missing = float(cost["requestedQueryCost"]) - float(
            status["currentlyAvailable"]
        )
        return max(missing, 0.0) / float(status["restoreRate"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None


def _codes(errors: Any) -> list[str]:
    if not isinstance(errors, list):
        return []
    return [
        str((e.get("extensions") or {}).get("code") or "")
        for e in errors
        if isinstance(e, dict)
    ]


def _error_codes(body: str) -> list[str] | str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return body[:200]
    if isinstance(parsed, dict):
        return _codes(parsed.get("errors")) or str(parsed.get("errors"))[:200]
    return body[:200]


def _amount(value: Any) -> int:
    return rounded(whole_units(value))
