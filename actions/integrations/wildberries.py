"""Wildberries (FBS assembly orders) as an order source, via the Seller API.

What a shopper calls "my Wildberries order number" here is the FBS assembly task id
(``id``, 7-12 digits) that the seller sees in the seller portal and on the sticker.
Orders fulfilled from WB warehouses (FBO) are not reachable through this API.

Lookup of a number (both on ``marketplace-api.wildberries.ru``, header
``Authorization: <token>``, a token of the Marketplace category):

1. ``POST /api/v3/orders/status`` with ``{"orders": [id]}`` — the current
   ``supplierStatus`` and ``wbStatus``. No entry (or a 404) means no such task, and
   nothing else is asked.
2. ``GET /api/v3/orders?limit=&next=&dateFrom=&dateTo=`` — the task's details (price,
   article, created date, address), which this method returns *without* a status.
   It allows at most 30 days per request, so the last ``lookback_days`` are read
   window by window, newest first, each window paged with the ``next`` cursor until
   the task is found. Details never change, so they are cached per process; the
   status is asked again on every lookup.

Status mapping (the first matching row wins):

=============================================  ==========================
WB status                                      ``OrderState``
=============================================  ==========================
wbStatus ``canceled``, ``canceled_by_client``, CANCELLED
``declined_by_client``, ``defect``,
``canceled_by_missed_call``; supplierStatus
``cancel``, ``reject``, ``cancel_missed_call``
wbStatus ``sold``; supplierStatus ``receive``  DELIVERED
wbStatus ``ready_for_pickup``                  READY_FOR_PICKUP
wbStatus ``sorted``, ``accepted_by_carrier``,  SHIPPED
``sent_to_carrier``, ``postponed_delivery``;
supplierStatus ``complete``, ``deliver``
supplierStatus ``confirm`` (assembling)        PROCESSING
supplierStatus ``new`` (WB orders are prepaid) PROCESSING
anything else (logged)                         PROCESSING
=============================================  ==========================

Money: ``price`` is the sale price in the sale currency (``currencyCode``, ISO 4217
numeric) multiplied by 100, i.e. kopecks for roubles; it is rounded to whole units.
One assembly task is one item; its title is the seller's article (the orders API
carries no product name). Marketplace orders are paid on the marketplace, so
``paid`` is true.

Writes: ``cancel_order`` uses ``PATCH /api/v3/orders/{id}/cancel`` (new or assembling
tasks only; WB answers 409 otherwise). Address changes, returns, refunds and payment
are done by the shopper in the Wildberries app: those raise ``OperationUnsupported``.
Products come from the demo store / catalogue for now: ``find_products`` returns
nothing.

Errors: 404 means "no such order"; 401/403 (wrong, expired or wrong-category token)
and other failures raise ``OrderSourceError`` with a ``wildberries.*`` log record;
429 and 5xx are retried by ``PlatformClient``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, NoReturn

from actions.integrations.base import (
    Order,
    OrderItem,
    OrderNotChangeable,
    OrderSource,
    OrderState,
)
from actions.integrations.marketplace import (
    SOURCES_INCLUDE,
    parse_time,
    raise_source_error,
)
from common.http import PlatformClient, PlatformError, RetryPolicy
from common.settings import Reader

logger = logging.getLogger(__name__)

NAME = "wildberries"
MARKETPLACE_URL = "https://marketplace-api.wildberries.ru"
WINDOW_DAYS = 30  # the most GET /api/v3/orders allows in one request
PAGE_LIMIT = 1000  # the most GET /api/v3/orders returns in one page
MAX_PAGES_PER_WINDOW = 100
_DETAILS_CACHE_SIZE = 2048

_CANCELLED_WB = frozenset(
    {
        "canceled",
        "canceled_by_client",
        "declined_by_client",
        "defect",
        "canceled_by_missed_call",
    }
)
_CANCELLED_SUPPLIER = frozenset({"cancel", "reject", "cancel_missed_call"})
_SHIPPED_WB = frozenset(
    {"sorted", "accepted_by_carrier", "sent_to_carrier", "postponed_delivery"}
)
_SHIPPED_SUPPLIER = frozenset({"complete", "deliver"})
_PROCESSING_SUPPLIER = frozenset({"new", "confirm"})
_CURRENCIES = {643: "RUB", 933: "BYN", 398: "KZT", 51: "AMD", 417: "KGS", 860: "UZS"}


def map_status(supplier_status: str, wb_status: str) -> OrderState:
    """The shopper-facing state of a task; see the table in the module docstring."""
    supplier, wb = (supplier_status or "").lower(), (wb_status or "").lower()
    if wb in _CANCELLED_WB or supplier in _CANCELLED_SUPPLIER:
        return OrderState.CANCELLED
    if wb == "sold" or supplier == "receive":
        return OrderState.DELIVERED
    if wb == "ready_for_pickup":
        return OrderState.READY_FOR_PICKUP
    if wb in _SHIPPED_WB or supplier in _SHIPPED_SUPPLIER:
        return OrderState.SHIPPED
    if supplier not in _PROCESSING_SUPPLIER:
        logger.warning(
            "wildberries.status.unknown",
            extra={"supplier_status": supplier_status, "wb_status": wb_status},
        )
    return OrderState.PROCESSING


@dataclass(frozen=True)
class WildberriesConfig:
    """``WB_*`` settings of the Wildberries order source."""

    token: str = field(repr=False)
    marketplace_url: str = MARKETPLACE_URL
    timeout_s: float = 10.0
    lookback_days: int = 90

    @classmethod
    def from_env(cls, reader: Reader) -> WildberriesConfig:
        return cls(
            reader.required("WB_API_TOKEN", f"{SOURCES_INCLUDE} {NAME}"),
            marketplace_url=reader.url("WB_MARKETPLACE_URL", MARKETPLACE_URL),
            timeout_s=reader.seconds("WB_TIMEOUT_S", 10.0),
            lookback_days=reader.integer("WB_LOOKBACK_DAYS", 90, 1, 365),
        )


class WildberriesSource(OrderSource):
    name = NAME
    kinds = frozenset({"wildberries"})

    def __init__(
        self,
        token: str,
        marketplace_url: str = MARKETPLACE_URL,
        timeout_s: float = 10.0,
        lookback_days: int = 90,
        page_limit: int = PAGE_LIMIT,
        retry: RetryPolicy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.token = token
        self.client = PlatformClient(
            NAME, marketplace_url, timeout_s=timeout_s, retry=retry
        )
        self.lookback_days = lookback_days
        self.page_limit = page_limit
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._details: dict[int, dict[str, Any]] = {}

    @classmethod
    def from_config(cls, config: WildberriesConfig) -> WildberriesSource:
        return cls(
            config.token,
            marketplace_url=config.marketplace_url,
            timeout_s=config.timeout_s,
            lookback_days=config.lookback_days,
        )

    async def close(self) -> None:
        await self.client.close()

    # --- HTTP ---------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """The parsed answer; ``None`` for a 404. Other failures: OrderSourceError."""
        try:
            return await self.client.request(
                method,
                path,
                json=json,
                params=params,
                headers={"Authorization": self.token},
            )
        except PlatformError as error:
            if error.status == 404:
                return None
            _failed(error, path)

    # --- reads --------------------------------------------------------------

    async def get_order(self, order_id: str) -> Order | None:
        task_id = _task_id(order_id)
        if task_id is None:
            return None
        status = await self._status(task_id)
        if status is None:
            return None
        details = await self._find_details(task_id)
        if details is None:
            logger.warning(
                "wildberries.order.outside_lookback",
                extra={"order_id": order_id, "lookback_days": self.lookback_days},
            )
            return None
        return _order(details, status)

    async def _status(self, task_id: int) -> dict[str, Any] | None:
        answer = await self._call(
            "POST", "/api/v3/orders/status", json={"orders": [task_id]}
        )
        for entry in (answer or {}).get("orders") or []:
            if entry.get("id") == task_id and (
                entry.get("supplierStatus") or entry.get("wbStatus")
            ):
                return entry
        return None

    async def _find_details(self, task_id: int) -> dict[str, Any] | None:
        if task_id in self._details:
            return self._details[task_id]
        now = self.clock()
        end = now
        oldest = now - timedelta(days=self.lookback_days)
        while end > oldest:
            start = max(end - timedelta(days=WINDOW_DAYS), oldest)
            found = await self._find_in_window(task_id, start, end)
            if found is not None:
                if len(self._details) >= _DETAILS_CACHE_SIZE:
                    self._details.pop(next(iter(self._details)))
                self._details[task_id] = found
                return found
            end = start
        return None

    async def _find_in_window(
        self, task_id: int, start: datetime, end: datetime
    ) -> dict[str, Any] | None:
        cursor = 0
        for _ in range(MAX_PAGES_PER_WINDOW):
            page = await self._call(
                "GET",
                "/api/v3/orders",
                params={
                    "limit": self.page_limit,
                    "next": cursor,
                    "dateFrom": int(start.timestamp()),
                    "dateTo": int(end.timestamp()),
                },
            )
            orders = (page or {}).get("orders") or []
            for order in orders:
                if order.get("id") == task_id:
                    return order
            following = (page or {}).get("next")
            if len(orders) < self.page_limit or not following or following == cursor:
                return None
            cursor = following
        logger.warning(
            "wildberries.orders.too_many_pages",
            extra={"window_start": start.isoformat()},
        )
        return None

    # --- writes -------------------------------------------------------------

    async def cancel_order(self, order_id: str) -> Order:
        order = await self.get_order(order_id)
        if order is None:
            raise KeyError(order_id)
        if not order.state.can_cancel:
            raise OrderNotChangeable(order.state)
        task_id = int(order.order_id)
        try:
            await self.client.request(
                "PATCH",
                f"/api/v3/orders/{task_id}/cancel",
                headers={"Authorization": self.token},
            )
        except PlatformError as error:
            if error.status == 404:
                raise KeyError(order_id) from error
            if error.status != 409:
                _failed(error, "/api/v3/orders/{id}/cancel")
            # 409: the status no longer allows it (or an earlier try went through).
            current = await self.get_order(order_id)
            if current is not None and current.state is OrderState.CANCELLED:
                return current
            logger.warning(
                "wildberries.cancel.refused",
                extra={"order_id": order_id, "body": error.body[:300]},
            )
            raise OrderNotChangeable(
                current.state if current else order.state
            ) from error
        logger.info("wildberries.cancel.done", extra={"order_id": order_id})
        updated = await self.get_order(order_id)
        return updated or order


def _order(details: dict[str, Any], status: dict[str, Any]) -> Order:
    state = map_status(status.get("supplierStatus", ""), status.get("wbStatus", ""))
    amount, currency = _money(details)
    article = str(details.get("article") or details.get("nmId") or "")
    address = (details.get("address") or {}).get("fullAddress") or ", ".join(
        details.get("offices") or []
    )
    shipped = state in (
        OrderState.SHIPPED,
        OrderState.READY_FOR_PICKUP,
        OrderState.DELIVERED,
    )
    return Order(
        order_id=str(details["id"]),
        channel=NAME,
        state=state,
        created_at=parse_time(details.get("createdAt")) or datetime.now(),
        expected_delivery=None,
        delivered_at=None,
        total=amount,
        currency=currency,
        paid=True,
        address=address,
        carrier="Wildberries" if shipped else None,
        tracking_number=None,
        items=(OrderItem(article, article, article, None, None, 1, amount),),
    )


def _money(details: dict[str, Any]) -> tuple[int, str]:
    """The shopper's price in whole units of the sale currency (WB sends × 100)."""
    if details.get("price") is not None:
        cents, code = details["price"], details.get("currencyCode")
    else:
        cents, code = (
            details.get("convertedPrice") or 0,
            details.get("convertedCurrencyCode"),
        )
    currency = _CURRENCIES.get(int(code), str(code)) if code else "RUB"
    return (int(cents) + 50) // 100, currency


def _task_id(order_id: str) -> int | None:
    text = str(order_id).strip()
    return int(text) if re.fullmatch(r"\d{1,19}", text) else None


def _failed(error: PlatformError, path: str) -> NoReturn:
    raise_source_error(
        NAME, error, path, "WB_API_TOKEN (a token of the Marketplace category)"
    )
