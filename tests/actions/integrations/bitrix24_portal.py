"""A Bitrix24 portal's incoming-webhook REST API, as far as Bitrix24Source uses it.

``BitrixPortal`` is the ``reply`` of a ``tests.emulators.Emulator``: methods are
``POST /rest/<user id>/<code>/<method>.json`` with a JSON body. A wrong webhook
code answers 401 ``NO_AUTH_FOUND`` and a code used with another user's id 401
``INVALID_CREDENTIALS`` (documented system errors), an unknown method 404
``ERROR_METHOD_NOT_FOUND``, a missing order or deal 400 as each method documents.
List methods page by 50 with ``start``/``next``/``total``.

The buyer side: CRM contacts with ``PHONE`` multi-fields, found by
``crm.duplicate.findbycomm`` (the emulator compares the digits of each value, an
assumption about the portal's duplicate index: what is documented is exact
values) and read by ``crm.contact.list``; deals with a primary ``contactId``
listed by ``crm.item.list``; store orders bound to deals (``crm.orderentity``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NoReturn

from aiohttp import web

from tests.emulators import Call

PAGE = 50
_ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    401: web.HTTPUnauthorized,
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    503: web.HTTPServiceUnavailable,
}
TIME = {
    "start": 1712938174.43,
    "finish": 1712938175.43,
    "duration": 1.0,
    "processing": 0.5,
    "date_start": "2024-04-12T19:09:34+02:00",
    "date_finish": "2024-04-12T19:09:35+02:00",
}


def fail(status: int, error: Any, description: str) -> NoReturn:
    """Answers like Bitrix24: an HTTP error status with ``error``/description."""
    raise _ERRORS[status](
        text=json.dumps({"error": error, "error_description": description}),
        content_type="application/json",
    )


def store_order(
    order_id: int,
    account_number: str,
    status: str = "N",
    payed: bool = False,
    canceled: bool = False,
    shipments: list[dict[str, Any]] | None = None,
    price: float = 4980.0,
    address: str = "Москва, ул. Тверская, д. 7, кв. 12",
    phone: str | None = "+7 916 123-45-67",
    email: str | None = None,
    created: str = "2024-02-28T17:36:55+03:00",
) -> dict[str, Any]:
    """An order as ``sale.order.get`` returns it (the fields the source reads);
    the buyer's phone and e-mail are order properties, absent when not given."""
    contacts = [("PHONE", "Телефон", phone), ("EMAIL", "E-Mail", email)]
    return {
        "id": order_id,
        "accountNumber": account_number,
        "statusId": status,
        "payed": "Y" if payed else "N",
        "canceled": "Y" if canceled else "N",
        "price": price,
        "currency": "RUB",
        "dateInsert": created,
        "dateStatus": "2024-03-02T12:00:00+03:00",
        "basketItems": [
            {
                "id": "255",
                "name": "Кроссовки Runner",
                "productId": 348,
                "productXmlId": "SNK-001",
                "quantity": 1,
                "price": 4480.0,
                "currency": "RUB",
            }
        ],
        "propertyValues": [
            {"code": "FIO", "name": "Ф.И.О.", "value": "Анна Петрова"},
            *(
                {"code": code, "name": name, "value": value}
                for code, name, value in contacts
                if value is not None
            ),
            {"code": "ADDRESS", "name": "Адрес доставки", "value": address},
        ],
        "payments": [
            {"id": 123, "paid": "Y" if payed else "N", "sum": price},
        ],
        "shipments": [
            {"id": 1, "system": "Y", "deducted": "N", "statusId": "DN"},
            *(shipments or []),
        ],
    }


def shipment(
    deducted: bool = False,
    status: str = "DN",
    tracking: str = "",
    delivery: str = "СДЭК",
    canceled: bool = False,
) -> dict[str, Any]:
    return {
        "id": 338,
        "system": "N",
        "canceled": "Y" if canceled else "N",
        "deducted": "Y" if deducted else "N",
        "statusId": status,
        "deliveryName": delivery,
        "trackingNumber": tracking,
        "allowDelivery": "Y",
    }


def contact(contact_id: int, *phones: str) -> dict[str, Any]:
    """A contact as ``crm.contact.list`` returns it with ``PHONE`` selected."""
    return {
        "ID": str(contact_id),
        "PHONE": [
            {"ID": str(900 + n), "VALUE_TYPE": "WORK", "VALUE": value}
            for n, value in enumerate(phones)
        ],
    }


def deal(
    deal_id: int,
    stage: str,
    semantic: str = "P",
    amount: float = 15000.0,
    contact_id: int | None = None,
    created: str = "2024-07-22T18:00:08+03:00",
) -> dict[str, Any]:
    """A deal as ``crm.item.get`` with ``entityTypeId=2`` returns it."""
    return {
        "contactId": contact_id,
        "id": deal_id,
        "title": f"Заказ #{deal_id}",
        "stageId": stage,
        "stageSemanticId": semantic,
        "opportunity": amount,
        "currencyId": "RUB",
        "createdTime": created,
        "movedTime": "2024-07-25T10:00:00+03:00",
        "entityTypeId": 2,
    }


class BitrixPortal:
    def __init__(self, user_id: str = "1", code: str = "s3cr3tc0de") -> None:
        self.user_id = user_id
        self.code = code
        self.orders: dict[int, dict[str, Any]] = {}
        self.deals: dict[int, dict[str, Any]] = {}
        self.contacts: dict[int, dict[str, Any]] = {}
        # Store orders bound to deals: (order id, deal id).
        self.bindings: list[tuple[int, int]] = []
        self.methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "sale.order.list": self._order_list,
            "sale.order.get": self._order_get,
            "sale.order.update": self._order_update,
            "crm.item.get": self._item_get,
            "crm.item.list": self._item_list,
            "crm.duplicate.findbycomm": self._find_by_comm,
            "crm.contact.list": self._contact_list,
            "crm.orderentity.list": self._order_entity_list,
        }

    def webhook(self, base_url: str, code: str | None = None) -> str:
        return f"{base_url}/rest/{self.user_id}/{code or self.code}/"

    def add(self, order: dict[str, Any]) -> dict[str, Any]:
        self.orders[order["id"]] = order
        return order

    def __call__(self, call: Call) -> Any:
        parts = call.path.strip("/").split("/")
        if len(parts) != 4 or parts[0] != "rest":
            fail(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
        _, user_id, code, method = parts
        if code != self.code:
            fail(401, "NO_AUTH_FOUND", "Wrong authorization data")
        if user_id != self.user_id:
            fail(401, "INVALID_CREDENTIALS", "Invalid request credentials")
        handler = self.methods.get(method.removesuffix(".json"))
        if handler is None:
            fail(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
        answer = handler(call.json or {})
        return {**answer, "time": TIME}

    # --- sale ------------------------------------------------------------------

    def _order_list(self, params: dict[str, Any]) -> dict[str, Any]:
        rows = [o for o in self.orders.values() if _matches(o, params.get("filter"))]
        rows.sort(key=lambda o: o["id"])
        start = int(params.get("start") or 0)
        page = rows[start : start + PAGE]
        select = params.get("select") or []
        if select:
            page = [{k: v for k, v in o.items() if k in select} for o in page]
        answer: dict[str, Any] = {"result": {"orders": page}, "total": len(rows)}
        if start + PAGE < len(rows):
            answer["next"] = start + PAGE
        return answer

    def _order_get(self, params: dict[str, Any]) -> dict[str, Any]:
        order = self.orders.get(int(params.get("id") or 0))
        if order is None:
            fail(400, 201240400001, "order does not exist")
        return {"result": {"order": order}}

    def _order_update(self, params: dict[str, Any]) -> dict[str, Any]:
        order = self.orders.get(int(params.get("id") or 0))
        if order is None:
            fail(400, 200540400001, "order does not exist")
        fields = params.get("fields") or {}
        if not fields:
            fail(400, 100, "Required fields: fields")
        order.update(fields)
        flat = {k: v for k, v in order.items() if not isinstance(v, list)}
        return {"result": {"order": flat}}

    # --- crm -------------------------------------------------------------------

    def _item_get(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("entityTypeId") != 2:
            fail(400, "NOT_FOUND", "Smart process not found")
        item = self.deals.get(int(params.get("id") or 0))
        if item is None:
            fail(400, "NOT_FOUND", "Element not found")
        return {"result": {"item": item}}

    def _item_list(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("entityTypeId") != 2:
            fail(400, "NOT_FOUND", "Smart process not found")
        rows = [d for d in self.deals.values() if _matches(d, params.get("filter"))]
        for field, direction in (params.get("order") or {}).items():
            rows.sort(key=lambda d: d.get(field) or "", reverse=direction == "DESC")
        return {"result": {"items": rows[:PAGE]}, "total": len(rows)}

    def _find_by_comm(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("type"):
            fail(400, "Communication type is not defined", "Parameter 'type'")
        values = params.get("values")
        if not values:
            fail(400, "Communication values is not defined", "Parameter 'values'")
        if len(values) > 20:
            fail(400, "ERROR_CORE", "Too many values")
        wanted = {_digits(v) for v in values}
        found = [
            int(c["ID"])
            for c in self.contacts.values()
            if any(_digits(p["VALUE"]) in wanted for p in c["PHONE"])
        ]
        # Bitrix24 answers an empty array, not an object, when nothing matches.
        return {"result": {"CONTACT": found} if found else []}

    def _contact_list(self, params: dict[str, Any]) -> dict[str, Any]:
        ids = {int(i) for i in (params.get("filter") or {}).get("@ID") or []}
        rows = [c for i, c in sorted(self.contacts.items()) if i in ids]
        return {"result": rows, "total": len(rows)}

    def _order_entity_list(self, params: dict[str, Any]) -> dict[str, Any]:
        rows = [
            {"orderId": order, "ownerId": owner, "ownerTypeId": 2}
            for order, owner in self.bindings
        ]
        rows = [r for r in rows if _matches(r, params.get("filter"))]
        if (params.get("order") or {}).get("orderId") == "desc":
            rows.sort(key=lambda r: r["orderId"], reverse=True)
        page = [{"orderId": r["orderId"], "ownerId": r["ownerId"]} for r in rows]
        return {"result": {"orderEntity": page[:PAGE]}, "total": len(rows)}


def _digits(value: str) -> str:
    return "".join(ch for ch in str(value) if ch.isdigit())


def _matches(row: dict[str, Any], conditions: dict[str, Any] | None) -> bool:
    """The filter prefixes the source uses: none (equal) and ``@`` (IN)."""
    for key, wanted in (conditions or {}).items():
        if key.startswith("@"):
            if row.get(key[1:]) not in wanted:
                return False
        elif str(row.get(key.lstrip("="))) != str(wanted):
            return False
    return True
