"""Wildberries and Ozon seller APIs as ``tests.emulators.Emulator`` replies.

They answer the endpoints the order sources call, as platform-protocols.md
(sections 7 and 8) and the vendors' OpenAPI descriptions say: the same auth
headers, bodies, pagination and error shapes. A reply raises an aiohttp HTTP
exception for a non-200 answer (401, 404, 409, …); the emulator records the call
first. ``Emulator.fail_next`` scripts one-off 429/5xx answers on top.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from tests.emulators import Call

UTC = timezone.utc


def _error(exception: type[web.HTTPException], body: Any) -> web.HTTPException:
    return exception(text=json.dumps(body), content_type="application/json")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Wildberries --------------------------------------------------------------


def wb_task(
    task_id: int,
    created: datetime,
    price_kopecks: int = 459000,
    article: str = "sneakers-aero-42-white",
    currency: int = 643,
) -> dict[str, Any]:
    """An FBS assembly task as ``GET /api/v3/orders`` returns it (schema ``Order``)."""
    return {
        "address": None,
        "scanPrice": None,
        "deliveryType": "fbs",
        "supplyId": "WB-GI-92937123",
        "orderUid": f"165918930_{task_id}",
        "article": article,
        "colorCode": "",
        "rid": f"f884001e44e511edb8780242ac{task_id}",
        "createdAt": iso(created),
        "offices": ["Коледино"],
        "skus": ["6665956397512"],
        "id": task_id,
        "warehouseId": 658434,
        "officeId": 123,
        "nmId": 12345678,
        "chrtId": 987654321,
        "price": price_kopecks,
        "convertedPrice": price_kopecks,
        "currencyCode": currency,
        "convertedCurrencyCode": 643,
        "cargoType": 1,
        "crossBorderType": 0,
        "comment": "",
        "isZeroOrder": False,
        "options": {"isB2b": False},
    }


@dataclass
class WildberriesApi:
    """``marketplace-api.wildberries.ru``: FBS orders, their statuses, cancel."""

    token: str
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[int, tuple[str, str]] = field(default_factory=dict)

    def add(self, task: dict[str, Any], supplier: str, wb: str) -> None:
        self.tasks[task["id"]] = task
        self.statuses[task["id"]] = (supplier, wb)

    def __call__(self, call: Call) -> Any:
        # Official samples send the raw token; some clients prefix "Bearer ".
        auth = call.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") != self.token:
            raise _error(
                web.HTTPUnauthorized,
                {
                    "title": "unauthorized",
                    "detail": "token is malformed or invalid",
                    "code": "",
                    "requestId": "3a8e6e5b0f2b",
                    "origin": "s2s-api-auth-marketplace",
                    "status": 401,
                    "statusText": "Unauthorized",
                    "timestamp": "2025-04-24T07:25:28Z",
                },
            )
        if call.method == "POST" and call.path == "/api/v3/orders/status":
            return self._status(call)
        if call.method == "GET" and call.path == "/api/v3/orders":
            return self._orders(call)
        parts = call.path.strip("/").split("/")
        if call.method == "PATCH" and len(parts) == 5 and parts[4] == "cancel":
            return self._cancel(int(parts[3]))
        raise _error(
            web.HTTPNotFound,
            {"title": "path not found", "status": 404, "statusText": "Not Found"},
        )

    def _bad_request(self, message: str) -> web.HTTPException:
        return _error(
            web.HTTPBadRequest,
            {"code": "IncorrectParameter", "message": message, "data": None},
        )

    def _status(self, call: Call) -> dict[str, Any]:
        ids = (call.json or {}).get("orders")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 1000:
            raise self._bad_request("orders: 1..1000 ids")
        return {
            "orders": [
                {
                    "id": task_id,
                    "supplierStatus": self.statuses[task_id][0],
                    "wbStatus": self.statuses[task_id][1],
                }
                for task_id in ids
                if task_id in self.statuses
            ]
        }

    def _orders(self, call: Call) -> dict[str, Any]:
        try:
            limit = int(call.query["limit"])
            cursor = int(call.query["next"])
        except (KeyError, ValueError):
            raise self._bad_request("limit and next are required") from None
        if not 1 <= limit <= 1000:
            raise self._bad_request("limit: 1..1000")
        now = datetime.now(UTC)
        date_to = int(call.query.get("dateTo", now.timestamp()))
        date_from = int(
            call.query.get("dateFrom", (now - timedelta(days=30)).timestamp())
        )
        if date_to - date_from > 30 * 86400:
            raise self._bad_request("the period must not exceed 30 days")
        matching = sorted(
            (
                task
                for task in self.tasks.values()
                if date_from <= _unix(task["createdAt"]) <= date_to
                and task["id"] > cursor
            ),
            key=lambda task: task["id"],
        )[:limit]
        return {
            "next": matching[-1]["id"] if matching else cursor,
            "orders": matching,
        }

    def _cancel(self, task_id: int) -> Any:
        if task_id not in self.statuses:
            raise _error(
                web.HTTPNotFound, {"code": "NotFound", "message": "Не найдено"}
            )
        supplier, wb = self.statuses[task_id]
        if supplier not in ("new", "confirm") or wb != "waiting":
            raise _error(
                web.HTTPConflict,
                {"code": "StatusMismatch", "message": "Несоответствие статусов"},
            )
        self.statuses[task_id] = ("cancel", "canceled")
        raise web.HTTPNoContent()


def _unix(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


# --- Ozon ---------------------------------------------------------------------


def ozon_posting(
    number: str,
    status: str,
    substatus: str = "",
    products: list[dict[str, Any]] | None = None,
    tracking: str = "",
    in_process_at: str = "2026-05-13T07:07:32.657Z",
) -> dict[str, Any]:
    """An FBS posting as ``/v3/posting/fbs/get`` returns it in ``result``."""
    return {
        "posting_number": number,
        "order_id": 680420041,
        "order_number": number.rsplit("-", 1)[0],
        "status": status,
        "substatus": substatus,
        "delivery_method": {
            "id": 21321684811000,
            "name": "Ozon Логистика курьеру, Москва",
            "warehouse_id": 21321684811000,
            "warehouse": "Склад на Ленина",
            "tpl_provider_id": 24,
            "tpl_provider": "Ozon Логистика",
        },
        "tracking_number": tracking,
        "tpl_integration_type": "ozon",
        "in_process_at": in_process_at,
        "shipment_date": "2026-05-14T10:00:00Z",
        "delivering_date": None,
        "cancellation": {
            "cancel_reason_id": 0,
            "cancel_reason": "",
            "cancellation_type": "",
            "cancelled_after_ship": False,
            "affect_cancellation_rating": False,
            "cancellation_initiator": "",
        },
        "customer": None,
        "products": products
        or [
            {
                "price": "4590.0000",
                "offer_id": "sneakers-aero-42-white",
                "name": "Кроссовки Aero, белые, 42",
                "sku": 1100526203,
                "quantity": 1,
                "mandatory_mark": [],
                "currency_code": "RUB",
            }
        ],
        "addressee": None,
        "barcodes": None,
        "analytics_data": {
            "region": "Москва",
            "city": "Москва",
            "delivery_type": "PVZ",
            "is_premium": False,
            "payment_type_group_name": "Карты оплаты",
            "warehouse_id": 21321684811000,
            "warehouse": "Склад на Ленина",
            "tpl_provider_id": 24,
            "tpl_provider": "Ozon Логистика",
            "delivery_date_begin": "2026-05-16T08:00:00Z",
            "delivery_date_end": "2026-05-16T18:00:00Z",
            "is_legal": False,
        },
        "financial_data": None,
        "is_express": False,
        "requirements": {},
    }


def ozon_fbo_posting(number: str, status: str) -> dict[str, Any]:
    """An FBO posting as ``/v2/posting/fbo/get`` returns it in ``result``."""
    return {
        "order_id": 354680487,
        "order_number": number.rsplit("-", 1)[0],
        "posting_number": number,
        "status": status,
        "cancel_reason_id": 0,
        "created_at": "2026-04-02T09:15:00Z",
        "in_process_at": "2026-04-02T09:16:00Z",
        "products": [
            {
                "sku": 160249683,
                "name": "Рюкзак городской, чёрный",
                "quantity": 2,
                "offer_id": "backpack-city-black",
                "price": "1990.50",
                "digital_codes": [],
                "currency_code": "RUB",
            }
        ],
        "analytics_data": {
            "city": "Санкт-Петербург",
            "delivery_type": "PVZ",
            "is_premium": False,
            "payment_type_group_name": "Карты оплаты",
            "warehouse_id": 15431806189000,
            "warehouse_name": "ХОРУГВИНО_РФЦ",
            "is_legal": False,
        },
        "financial_data": None,
        "additional_data": [],
    }


def ozon_return(
    return_id: int,
    number: str,
    sys_name: str,
    return_date: str = "2026-05-20T12:00:00Z",
    change_moment: str = "2026-05-22T09:30:00Z",
    kind: str = "ClientReturn",
    price: float = 4590.0,
    quantity: int = 1,
) -> dict[str, Any]:
    """One ``/v1/returns/list`` entry."""
    return {
        "exemplars": [{"id": 2001}],
        "id": return_id,
        "company_id": 3058,
        "return_reason_name": "Не подошёл размер",
        "type": kind,
        "schema": "Fbs",
        "order_id": 680420041,
        "order_number": number.rsplit("-", 1)[0],
        "place": {"id": 1, "name": "ПВЗ на Тверской", "address": "Москва"},
        "target_place": {"id": 2, "name": "Склад на Ленина", "address": "Москва"},
        "product": {
            "sku": 1100526203,
            "offer_id": "sneakers-aero-42-white",
            "name": "Кроссовки Aero, белые, 42",
            "price": {"currency_code": "RUB", "price": price},
            "price_without_commission": {"currency_code": "RUB", "price": price},
            "commission_percent": 0,
            "commission": {"currency_code": "RUB", "price": 0},
            "quantity": quantity,
        },
        "logistic": {
            "technical_return_moment": None,
            "final_moment": None,
            "cancelled_with_compensation_moment": None,
            "return_date": return_date,
            "barcode": "ii5275210303",
        },
        "visual": {
            "status": {"id": 1, "display_name": sys_name, "sys_name": sys_name},
            "change_moment": change_moment,
        },
        "additional_info": {"is_opened": False, "is_super_econom": False},
        "source_id": 0,
        "posting_number": number,
        "clearing_id": 0,
        "return_clearing_id": 0,
    }


OZON_CANCELLABLE = {"awaiting_packaging", "awaiting_deliver", "awaiting_registration"}


def ozon_product(
    product_id: int,
    offer_id: str,
    name: str,
    price: str = "6990.0000",
    model_id: int | None = None,
    stocks: dict[str, tuple[int, int]] | None = None,
    archived: bool = False,
) -> dict[str, Any]:
    """A product as ``/v3/product/info/list`` returns it, plus its stock by type
    (``"fbs": (present, reserved)``) and ``archived`` for ``/v3/product/list``."""
    return {
        "id": product_id,
        "offer_id": offer_id,
        "sku": 1_000_000_000 + product_id,
        "name": name,
        "barcodes": [f"46000000{product_id:05d}"],
        "price": price,
        "old_price": "",
        "currency_code": "RUB",
        "model_info": {"model_id": model_id or product_id, "count": 1},
        "statuses": {"status": "price_sent", "is_created": True},
        "created_at": "2025-03-01T10:00:00.000000Z",
        "_stocks": stocks or {},
        "_archived": archived,
    }


@dataclass
class OzonApi:
    """``api-seller.ozon.ru``: FBS/FBO postings, returns, cancel."""

    client_id: str
    api_key: str
    fbs: dict[str, dict[str, Any]] = field(default_factory=dict)
    fbo: dict[str, dict[str, Any]] = field(default_factory=dict)
    returns: list[dict[str, Any]] = field(default_factory=list)
    products: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, call: Call) -> Any:
        if (
            call.headers.get("Client-Id") != self.client_id
            or call.headers.get("Api-Key") != self.api_key
        ):
            # The Seller API documents 403 "Доступ запрещён" for its methods.
            raise _error(
                web.HTTPForbidden,
                {"code": 7, "message": "Invalid Api-Key, please contact support"},
            )
        if call.method != "POST":
            raise _error(web.HTTPMethodNotAllowed, {"code": 12, "message": "POST"})
        body = call.json or {}
        if call.path == "/v3/posting/fbs/get":
            return self._get(self.fbs, body)
        if call.path == "/v2/posting/fbo/get":
            return self._get(self.fbo, body)
        if call.path == "/v1/returns/list":
            return self._returns(body)
        if call.path == "/v2/posting/fbs/cancel":
            return self._cancel(body)
        if call.path == "/v3/product/list":
            return self._product_list(body)
        if call.path == "/v3/product/info/list":
            return self._product_info(body)
        if call.path == "/v4/product/info/stocks":
            return self._stocks(body)
        raise _error(web.HTTPNotFound, {"code": 5, "message": "Not Found"})

    @staticmethod
    def _public(product: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in product.items() if not k.startswith("_")}

    def _page(self, body: dict[str, Any], cursor_key: str) -> tuple[int, int]:
        limit = body.get("limit")
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise self._bad_request("limit: 1..1000")
        cursor = str(body.get(cursor_key) or "")
        if cursor and not cursor.isdigit():
            raise self._bad_request(f"{cursor_key} is invalid")
        return int(cursor or 0), limit

    def _product_list(self, body: dict[str, Any]) -> dict[str, Any]:
        start, limit = self._page(body, "last_id")
        page = self.products[start : start + limit]
        end = start + len(page)
        items = [
            {"product_id": p["id"], "offer_id": p["offer_id"],
             "archived": p["_archived"], "has_fbo_stocks": bool(p["_stocks"]),
             "has_fbs_stocks": bool(p["_stocks"]), "is_discounted": False,
             "quants": []}
            for p in page
        ]  # fmt: skip
        last_id = str(end) if end < len(self.products) else ""
        return {"result": {"items": items, "total": len(self.products),
                           "last_id": last_id}}  # fmt: skip

    def _product_info(self, body: dict[str, Any]) -> dict[str, Any]:
        given = [k for k in ("offer_id", "product_id", "sku") if body.get(k)]
        if len(given) != 1:
            raise self._bad_request("one of offer_id, product_id, sku is required")
        key = given[0]
        wanted = [str(v) for v in body[key]]
        if len(wanted) > 1000:
            raise self._bad_request("at most 1000 identifiers")
        field_name = {"offer_id": "offer_id", "product_id": "id", "sku": "sku"}[key]
        return {
            "items": [
                self._public(p) for p in self.products if str(p[field_name]) in wanted
            ]
        }

    def _stocks(self, body: dict[str, Any]) -> dict[str, Any]:
        start, limit = self._page(body, "cursor")
        offer_ids = (body.get("filter") or {}).get("offer_id") or []
        matching = [
            p for p in self.products if not offer_ids or p["offer_id"] in offer_ids
        ]
        page = matching[start : start + limit]
        end = start + len(page)
        items = [
            {
                "offer_id": p["offer_id"],
                "product_id": p["id"],
                "stocks": [
                    {
                        "type": kind,
                        "present": present,
                        "reserved": reserved,
                        "sku": p["sku"],
                        "shipment_type": "SHIPMENT_TYPE_GENERAL",
                        "warehouse_ids": [],
                    }
                    for kind, (present, reserved) in p["_stocks"].items()
                ],
            }  # fmt: skip
            for p in page
        ]
        cursor = str(end) if end < len(matching) else ""
        return {"items": items, "total": len(matching), "cursor": cursor}

    @staticmethod
    def _bad_request(message: str) -> web.HTTPException:
        return _error(
            web.HTTPBadRequest, {"code": 3, "message": message, "details": []}
        )

    def _get(self, table: dict[str, dict[str, Any]], body: dict[str, Any]) -> Any:
        number = body.get("posting_number")
        if not number:
            raise self._bad_request("posting_number is required")
        if number not in table:
            raise _error(
                web.HTTPNotFound,
                {"code": 5, "message": "Posting not found", "details": []},
            )
        return {"result": table[number]}

    def _returns(self, body: dict[str, Any]) -> dict[str, Any]:
        limit = body.get("limit")
        if not isinstance(limit, int) or not 1 <= limit <= 500:
            raise self._bad_request("limit: 1..500")
        numbers = (body.get("filter") or {}).get("posting_numbers") or []
        if len(numbers) > 50:
            raise self._bad_request("posting_numbers: at most 50")
        last_id = body.get("last_id") or 0
        matching = sorted(
            (
                r
                for r in self.returns
                if r["id"] > last_id and (not numbers or r["posting_number"] in numbers)
            ),
            key=lambda r: r["id"],
        )
        return {"returns": matching[:limit], "has_next": len(matching) > limit}

    def _cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        reason = body.get("cancel_reason_id")
        if reason not in (352, 400, 401, 402, 665, 666, 667):
            raise self._bad_request("HAS_INCORRECT_CANCEL_REASON")
        if reason == 402 and not body.get("cancel_reason_message"):
            raise self._bad_request("cancel_reason_message is required")
        posting = self.fbs.get(body.get("posting_number", ""))
        if posting is None:
            raise _error(
                web.HTTPNotFound,
                {"code": 5, "message": "Posting not found", "details": []},
            )
        if posting["status"] not in OZON_CANCELLABLE:
            raise self._bad_request("POSTING_ALREADY_SHIPPED")
        posting["status"], posting["substatus"] = "cancelled", "posting_canceled"
        return {"result": True}


# --- Wildberries questions (feedbacks-api) --------------------------------------


def wb_question(
    question_id: str,
    text: str,
    created: str = "2025-01-27T11:38:21.202143857Z",
    nm_id: int = 224747484,
    product: str = "Кроссовки Aero",
    article: str = "aero-black-42",
) -> dict[str, Any]:
    """A question as ``GET /api/v1/questions`` lists it (unanswered)."""
    return {
        "id": question_id,
        "text": text,
        "createdDate": created,
        "state": "suppliersPortalSynch",
        "answer": None,
        "productDetails": {
            "imtId": 202306781,
            "nmId": nm_id,
            "productName": product,
            "supplierArticle": article,
            "supplierName": "",
            "brandName": "Aero",
        },
        "wasViewed": False,
        "isWarned": False,
    }


@dataclass
class WildberriesQuestionsApi:
    """``feedbacks-api.wildberries.ru``: list questions, answer one."""

    token: str
    questions: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def _envelope(data: Any = None, error: str = "") -> dict[str, Any]:
        return {"data": data, "error": bool(error), "errorText": error,
                "additionalErrors": None}  # fmt: skip

    def __call__(self, call: Call) -> Any:
        if call.headers.get("Authorization", "").removeprefix("Bearer ") != self.token:
            raise _error(
                web.HTTPUnauthorized,
                {"title": "unauthorized", "detail": "token scope not allowed",
                 "status": 401, "statusText": "Unauthorized"},
            )  # fmt: skip
        if call.path != "/api/v1/questions":
            raise _error(web.HTTPNotFound, {"title": "path not found", "status": 404})
        if call.method == "GET":
            return self._list(call.query)
        if call.method == "PATCH":
            return self._patch(call.json or {})
        raise _error(web.HTTPMethodNotAllowed, {"title": "method not allowed"})

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        try:
            take, skip = int(query["take"]), int(query.get("skip", "0"))
        except (KeyError, ValueError):
            raise _error(
                web.HTTPBadRequest, self._envelope(error="take and skip are required")
            ) from None
        if not 1 <= take <= 10_000 or skip < 0:
            raise _error(web.HTTPBadRequest, self._envelope(error="take: 1..10000"))
        answered = query.get("isAnswered") == "true"
        matching = [q for q in self.questions if (q["answer"] is not None) == answered]
        matching.sort(
            key=lambda q: q["createdDate"], reverse=query.get("order") != "dateAsc"
        )
        unanswered = sum(1 for q in self.questions if q["answer"] is None)
        return self._envelope(
            {"countUnanswered": unanswered,
             "countArchive": len(self.questions) - unanswered,
             "questions": matching[skip : skip + take]}
        )  # fmt: skip

    def _patch(self, body: dict[str, Any]) -> dict[str, Any]:
        question = next((q for q in self.questions if q["id"] == body.get("id")), None)
        if question is None:
            raise _error(web.HTTPNotFound, self._envelope(error="Вопрос не найден"))
        if "wasViewed" in body:
            question["wasViewed"] = bool(body["wasViewed"])
            return self._envelope()
        answer = body.get("answer")
        if not isinstance(answer, dict):
            # WB answers a top-level "text" with a technical ok and changes nothing.
            return self._envelope()
        if body.get("state") not in ("wbRu", "none"):
            raise _error(web.HTTPBadRequest, self._envelope(error="state is invalid"))
        question["answer"] = {"text": answer.get("text", ""), "editable": True,
                              "createDate": "2025-07-28T08:24:37Z"}  # fmt: skip
        question["state"] = body["state"]
        return self._envelope()
