"""A Shopify shop's Admin GraphQL endpoint, as far as ShopifySource uses it.

``ShopifyStore`` is the ``reply`` of a ``tests.emulators.Emulator``:
``POST /admin/api/<version>/graphql.json`` with ``X-Shopify-Access-Token``. A
wrong token answers 401 (``{"errors": "[API] Invalid API key or access token
..."}``), another path 404. It answers the ``orders(first:, query: "name:…")``
query (exact order name, like the search on ``name``; an order's top-level fields
only when the query selects them, its ``email`` included) and the ``orderCancel``
mutation, with ``extensions.cost`` like Shopify; errors come in a 200 answer.

Customers: ``customers(first:, query: 'phone:"…" OR phone:"…"')`` finds customers
whose phone (kept in E.164, as Shopify does) equals one of the values, and
``orders(first:, query: "customer_id:… OR …", sortKey: CREATED_AT, reverse:
true)`` lists their orders, newest first only when asked so.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from aiohttp import web

from tests.emulators import Call

VERSION = "2025-01"
TOKEN = "shpat_0123456789abcdef"
_NAME = re.compile(r'^name:(?:"([^"]+)"|(\S+))$')
_PHONE = re.compile(r'phone:(?:"([^"]+)"|(\S+))')
_CUSTOMER_ID = re.compile(r"customer_id:(\d+)")


def fail(status: int, body: Any) -> NoReturn:
    error = {401: web.HTTPUnauthorized, 404: web.HTTPNotFound}[status]
    raise error(text=json.dumps(body), content_type="application/json")


def cost(requested: int = 12, available: float = 988.0) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": requested,
            "throttleStatus": {
                "maximumAvailable": 1000.0,
                "currentlyAvailable": available,
                "restoreRate": 50.0,
            },
        }
    }


def throttled(requested: int = 752, available: float = 751.0) -> dict[str, Any]:
    """Shopify's answer (HTTP 200) when the cost bucket is empty."""
    body = cost(requested, available)
    body["cost"]["actualQueryCost"] = None
    return {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
        ],
        "extensions": body,
    }


def order(
    number: int | str,
    financial: str = "PAID",
    fulfillment: str = "UNFULFILLED",
    fulfillments: list[dict[str, Any]] | None = None,
    cancelled_at: str | None = None,
    refunds: list[dict[str, Any]] | None = None,
    email: str | None = None,
    customer: str | None = None,
    created_at: str = "2025-01-10T09:30:00Z",
) -> dict[str, Any]:
    """An order node; ``email`` is null as for an order taken without one (POS,
    draft orders), or the buyer's address; ``customer`` the buyer's GID."""
    name = f"#{number}" if str(number).isdigit() else str(number)
    digits = int(re.sub(r"\D", "", name))
    return {
        "id": f"gid://shopify/Order/{450789469000 + digits}",
        "name": name,
        "email": email,
        "createdAt": created_at,
        "customer": {"id": customer} if customer else None,
        "cancelledAt": cancelled_at,
        "displayFinancialStatus": financial,
        "displayFulfillmentStatus": fulfillment,
        "totalPriceSet": {"shopMoney": {"amount": "5980.0", "currencyCode": "RUB"}},
        "shippingAddress": {
            "formatted": ["ул. Тверская, 7", "Москва", "125009", "Россия"]
        },
        "fulfillments": fulfillments or [],
        "lineItems": {
            "nodes": [
                {
                    "name": "Кроссовки Runner - 42",
                    "sku": "SNK-001-42",
                    "quantity": 1,
                    "variant": {"title": "42"},
                    "originalUnitPriceSet": {"shopMoney": {"amount": "5490.00"}},
                },
                {
                    "name": "Носки",
                    "sku": None,
                    "quantity": 2,
                    "variant": {"title": "Default Title"},
                    "originalUnitPriceSet": {"shopMoney": {"amount": "245.00"}},
                },
            ]
        },
        "refunds": refunds or [],
    }


def fulfilment(
    display: str = "IN_TRANSIT",
    status: str = "SUCCESS",
    tracking: str | None = "1Z999AA10123456784",
    company: str | None = "СДЭК",
    delivered_at: str | None = None,
    estimated: str | None = "2025-01-15T12:00:00Z",
) -> dict[str, Any]:
    return {
        "status": status,
        "displayStatus": display,
        "deliveredAt": delivered_at,
        "estimatedDeliveryAt": estimated,
        "trackingInfo": [{"number": tracking, "company": company}] if tracking else [],
    }


def _selected(node: dict[str, Any], query: str) -> dict[str, Any]:
    """The order's fields the query names, as GraphQL answers only what is asked
    (top level; e.g. no ``email`` unless the query selects it)."""
    return {k: v for k, v in node.items() if re.search(rf"\b{k}\b", query)}


class ShopifyStore:
    def __init__(self, token: str = TOKEN, version: str = VERSION) -> None:
        self.token = token
        self.version = version
        self.orders: dict[str, dict[str, Any]] = {}
        self.cancel_errors: list[dict[str, Any]] = []
        self.cancelled: list[dict[str, Any]] = []
        # Customer GID -> E.164 phone.
        self.customers: dict[str, str | None] = {}

    def add(self, node: dict[str, Any]) -> dict[str, Any]:
        self.orders[node["name"]] = node
        return node

    def __call__(self, call: Call) -> Any:
        if call.path != f"/admin/api/{self.version}/graphql.json":
            fail(404, {"errors": "Not Found"})
        token = next(
            (
                v
                for k, v in call.headers.items()
                if k.lower() == "x-shopify-access-token"
            ),
            None,
        )
        if token != self.token:
            fail(
                401,
                {
                    "errors": "[API] Invalid API key or access token "
                    "(unrecognized login or wrong password)"
                },
            )
        query = (call.json or {}).get("query") or ""
        variables = (call.json or {}).get("variables") or {}
        if "orderCancel(" in query:
            return {
                "data": {"orderCancel": self._cancel(variables)},
                "extensions": cost(10),
            }
        if "customers(" in query:
            return {
                "data": {"customers": {"nodes": self._customers(variables)}},
                "extensions": cost(),
            }
        if "orders(" in query and "customer_id:" in (variables.get("q") or ""):
            nodes = self._orders_of(query, variables)
            selected = [_selected(node, query) for node in nodes]
            return {"data": {"orders": {"nodes": selected}}, "extensions": cost()}
        if "orders(" in query:
            match = _NAME.match(variables.get("q") or "")
            name = (match.group(1) or match.group(2)) if match else None
            nodes = [self.orders[name]] if name in self.orders else []
            selected = [_selected(node, query) for node in nodes]
            return {"data": {"orders": {"nodes": selected}}, "extensions": cost()}
        return {
            "errors": [
                {
                    "message": "Field is not defined",
                    "extensions": {"code": "undefinedField"},
                }
            ]
        }

    def _cancel(self, variables: dict[str, Any]) -> dict[str, Any]:
        if self.cancel_errors:
            return {"job": None, "orderCancelUserErrors": self.cancel_errors}
        self.cancelled.append(variables)
        for node in self.orders.values():
            if node["id"] == variables.get("orderId"):
                node["cancelledAt"] = "2025-01-11T08:00:00Z"
        return {
            "job": {"id": "gid://shopify/Job/5cd5e1a2", "done": False},
            "orderCancelUserErrors": [],
        }

    def _customers(self, variables: dict[str, Any]) -> list[dict[str, Any]]:
        wanted = {a or b for a, b in _PHONE.findall(str(variables.get("q") or ""))}
        return [
            {"id": gid, "phone": phone}
            for gid, phone in self.customers.items()
            if phone in wanted
        ]

    def _orders_of(self, query: str, variables: dict[str, Any]) -> list[dict[str, Any]]:
        ids = set(_CUSTOMER_ID.findall(str(variables.get("q") or "")))
        nodes = [
            node
            for node in self.orders.values()
            if (node.get("customer") or {}).get("id", "").rsplit("/", 1)[-1] in ids
        ]
        if "sortKey: CREATED_AT" in query:
            nodes.sort(key=lambda n: n["createdAt"], reverse="reverse: true" in query)
        return nodes[: int(variables.get("first") or 0)]
