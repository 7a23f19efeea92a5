"""Ozon (FBS and FBO postings) as an order source, via the Ozon Seller API.

Every request goes to ``OZON_API_URL`` (``https://api-seller.ozon.ru``) as a JSON
POST with the headers ``Client-Id`` and ``Api-Key``.

Finding an order by number (``48213307-0051-1`` is a posting, ``48213307-0051``
the order it belongs to):

1. ``POST /v3/posting/fbs/get`` with the posting number (FBS and rFBS postings);
2. if Ozon does not know it (404, or a 400 — the number is the only thing that
   varies), ``POST /v2/posting/fbo/get`` (postings shipped from Ozon's warehouses);
3. an order number without the posting suffix is looked up as its first posting,
   ``<order number>-1``: posting numbers are the order number plus ``-N`` (as in
   every documented example, ``order_number`` ``05708065-0029`` → posting
   ``05708065-0029-1``). ``/v3/posting/fbs/list`` cannot filter by order number (its
   ``filter.order_id`` is Ozon's internal integer id; the method is also being
   replaced by ``/v4/posting/fbs/list``), so it is not used.

Status mapping (``substatus`` refines ``status``):

=================================================================  ================
Ozon ``status`` / ``substatus``                                    ``OrderState``
=================================================================  ================
``cancelled``, ``cancelled_from_split_pending``                    CANCELLED
``delivered``; substatus ``posting_delivered``,                    DELIVERED
``posting_received``, ``posting_conditionally_delivered``
substatus ``posting_in_pickup_point``                              READY_FOR_PICKUP
``delivering``, ``driver_pickup``, ``sent_by_seller``,             SHIPPED
``arbitration``, ``client_arbitration``
``awaiting_registration``, ``acceptance_in_progress``,             PROCESSING
``awaiting_approve``, ``awaiting_packaging``, ``awaiting_deliver``,
``awaiting_verification``, ``not_accepted``; anything else (logged)
=================================================================  ================

Items come from ``products[]`` (``name``, ``offer_id``, ``quantity``, ``price`` as a
decimal string, rounded to whole roubles); the total is their sum. ``created_at`` is
``in_process_at`` (FBS) or ``created_at`` (FBO); the expected delivery date is
``analytics_data.delivery_date_end`` (or ``client_delivery_date_end``); the carrier
is ``delivery_method.tpl_provider``. Ozon takes the payment, so ``paid`` is true.
Ozon reports no delivery date to the seller, so ``delivered_at`` stays empty.

Returns: ``POST /v1/returns/list`` filtered by ``posting_numbers`` (paged by
``last_id`` while ``has_next``). ``Cancellation`` (before handover) and ``Unknown``
(technical) returns are not the shopper's returns and are left out. Return states:
``Rejected``, ``CrmRejected``, ``Cancelled``, ``CancelledDisputeNotOpen`` → REJECTED;
the goods received or the money returned (``ReceivedBySeller``, ``ReturnedToOzon``,
``MoneyReturned``, ``MoneyReturnedBySystem``, ``ReturnMoneyApproved``,
``PartialCompensationReturned``, ``ReturnCompensated``, ``Utilizing``,
``Utilized`` and the seller-compensation statuses) → RECEIVED; everything else
(on the way, awaiting approval, in a dispute) → REQUESTED.

Refunds are derived from those returns: ``MoneyReturned`` and
``MoneyReturnedBySystem`` are completed refunds (at ``visual.change_moment``),
``ReturnMoneyApproved`` a pending one, for the returned item's price × quantity.
Partial compensations are left out (their amount is not in the answer).

Cancel: ``POST /v2/posting/fbs/cancel`` with ``cancel_reason_id`` 402 ("other
reason", the only generic reason; it requires ``cancel_reason_message``). Only FBS
postings can be cancelled by the seller; FBO postings raise ``OperationUnsupported``.
A seller cancellation may count against the seller's cancellation rating.
Address changes, opening returns and payments are done in the Ozon app:
``OperationUnsupported``. Products (info, stock, availability by name) come from
the seller's Ozon catalogue: ``actions.integrations.ozon_catalog``.

Errors: 401/403 (wrong Client-Id/Api-Key) and other failures raise
``OrderSourceError`` with an ``ozon.*`` log record; 429 (``{"code": 8, …}``) and 5xx
are retried by ``PlatformClient``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NoReturn

from actions.integrations.base import (
    Order,
    OrderItem,
    OrderNotChangeable,
    OrderSource,
    OrderState,
    Product,
    Refund,
    RefundState,
    ReturnRequest,
    ReturnState,
)
from actions.integrations.marketplace import (
    SOURCES_INCLUDE,
    parse_date,
    parse_time,
    raise_source_error,
    rounded,
    whole_units,
)
from actions.integrations.ozon_catalog import OzonCatalog
from common.http import PlatformClient, PlatformError, RetryPolicy
from common.settings import Reader

logger = logging.getLogger(__name__)

NAME = "ozon"
API_URL = "https://api-seller.ozon.ru"
CANCEL_REASON_OTHER = 402
CANCEL_MESSAGE = "Покупатель попросил отменить заказ в чате поддержки магазина"
RETURNS_PAGE = 500  # the most /v1/returns/list returns in one page
MAX_RETURN_PAGES = 20

_STATES = {
    "cancelled": OrderState.CANCELLED,
    "cancelled_from_split_pending": OrderState.CANCELLED,
    "delivered": OrderState.DELIVERED,
    "delivering": OrderState.SHIPPED,
    "driver_pickup": OrderState.SHIPPED,
    "sent_by_seller": OrderState.SHIPPED,
    "arbitration": OrderState.SHIPPED,
    "client_arbitration": OrderState.SHIPPED,
    "awaiting_registration": OrderState.PROCESSING,
    "acceptance_in_progress": OrderState.PROCESSING,
    "awaiting_approve": OrderState.PROCESSING,
    "awaiting_packaging": OrderState.PROCESSING,
    "awaiting_deliver": OrderState.PROCESSING,
    "awaiting_verification": OrderState.PROCESSING,
    "not_accepted": OrderState.PROCESSING,
}
_DELIVERED_SUBSTATUSES = frozenset(
    {"posting_delivered", "posting_received", "posting_conditionally_delivered"}
)
_REJECTED_RETURNS = frozenset(
    {"Rejected", "CrmRejected", "Cancelled", "CancelledDisputeNotOpen"}
)
_RECEIVED_RETURNS = frozenset(
    {
        "ReceivedBySeller",
        "ReturnedToOzon",
        "MoneyReturned",
        "MoneyReturnedBySystem",
        "ReturnMoneyApproved",
        "PartialCompensationReturned",
        "ReturnCompensated",
        "Utilizing",
        "Utilized",
        # The seller's compensation dispute with Ozon comes after the goods are back.
        "DisputeYouOpened",
        "DisputeOpening",
        "CompensationOffered",
        "WaitingCompensation",
        "CompensationRejected",
        "CompensationRejectedBySla",
        "CompensationRejectedBySeller",
        "SendingError",
    }
)
_NOT_SHOPPER_RETURNS = frozenset({"Cancellation", "Unknown"})
_REFUND_COMPLETED = frozenset({"MoneyReturned", "MoneyReturnedBySystem"})
_REFUND_PENDING = frozenset({"ReturnMoneyApproved"})
_ORDER_NUMBER = re.compile(r"^\d{6,10}-\d{4}$")


def map_status(status: str, substatus: str = "") -> OrderState:
    """The shopper-facing state of a posting; see the module docstring."""
    state = _STATES.get(status or "")
    if state is None:
        logger.warning(
            "ozon.status.unknown", extra={"status": status, "substatus": substatus}
        )
        state = OrderState.PROCESSING
    if state is OrderState.CANCELLED:
        return state
    if substatus in _DELIVERED_SUBSTATUSES:
        return OrderState.DELIVERED
    if substatus == "posting_in_pickup_point" and state is not OrderState.DELIVERED:
        return OrderState.READY_FOR_PICKUP
    return state


def map_return_state(sys_name: str) -> ReturnState:
    if sys_name in _REJECTED_RETURNS:
        return ReturnState.REJECTED
    if sys_name in _RECEIVED_RETURNS:
        return ReturnState.RECEIVED
    return ReturnState.REQUESTED


def posting_number(order_id: str) -> str:
    """The posting to ask for: an order number stands for its first posting."""
    text = str(order_id).strip()
    return f"{text}-1" if _ORDER_NUMBER.match(text) else text


@dataclass(frozen=True)
class OzonConfig:
    """``OZON_*`` settings of the Ozon order source."""

    client_id: str
    api_key: str = field(repr=False)
    api_url: str = API_URL
    timeout_s: float = 10.0

    @classmethod
    def from_env(cls, reader: Reader) -> OzonConfig:
        chosen = f"{SOURCES_INCLUDE} {NAME}"
        return cls(
            reader.required("OZON_CLIENT_ID", chosen),
            reader.required("OZON_API_KEY", chosen),
            api_url=reader.url("OZON_API_URL", API_URL),
            timeout_s=reader.seconds("OZON_TIMEOUT_S", 10.0),
        )


class OzonSource(OrderSource):
    name = NAME
    kinds = frozenset({"ozon"})

    def __init__(
        self,
        client_id: str,
        api_key: str,
        api_url: str = API_URL,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.headers = {"Client-Id": client_id, "Api-Key": api_key}
        self.client = PlatformClient(NAME, api_url, timeout_s=timeout_s, retry=retry)
        # Product info and stock by offer_id / sku, and availability by name.
        self.catalog = OzonCatalog(self.client, self.headers, _failed)

    @classmethod
    def from_config(cls, config: OzonConfig) -> OzonSource:
        return cls(
            config.client_id,
            config.api_key,
            api_url=config.api_url,
            timeout_s=config.timeout_s,
        )

    async def close(self) -> None:
        await self.client.close()

    # --- HTTP ---------------------------------------------------------------

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            return await self.client.post(path, json=body, headers=self.headers)
        except PlatformError as error:
            _failed(error, path)

    async def _get_posting(self, path: str, body: dict[str, Any]) -> dict | None:
        """A posting's ``result``; ``None`` when Ozon does not know the number."""
        try:
            answer = await self.client.post(path, json=body, headers=self.headers)
        except PlatformError as error:
            if error.status in (400, 404):
                if error.status == 400:
                    logger.warning(
                        "ozon.lookup.rejected",
                        extra={"path": path, "body": error.body[:300]},
                    )
                return None
            _failed(error, path)
        result = (answer or {}).get("result") if isinstance(answer, dict) else None
        return result or None

    async def _find(self, order_id: str) -> tuple[str, dict[str, Any]] | None:
        number = posting_number(order_id)
        fbs = await self._get_posting(
            "/v3/posting/fbs/get",
            {
                "posting_number": number,
                "with": {
                    "analytics_data": True,
                    "barcodes": False,
                    "financial_data": False,
                    "translit": False,
                },
            },
        )
        if fbs is not None:
            return "fbs", fbs
        fbo = await self._get_posting(
            "/v2/posting/fbo/get",
            {
                "posting_number": number,
                "translit": False,
                "with": {"analytics_data": True, "financial_data": False},
            },
        )
        if fbo is not None:
            return "fbo", fbo
        return None

    # --- reads --------------------------------------------------------------

    async def get_order(self, order_id: str) -> Order | None:
        found = await self._find(order_id)
        return None if found is None else _order(found[1])

    async def _returns(self, order_id: str) -> list[dict[str, Any]]:
        number = posting_number(order_id)
        items: list[dict[str, Any]] = []
        last_id = 0
        for _ in range(MAX_RETURN_PAGES):
            answer = await self._post(
                "/v1/returns/list",
                {
                    "filter": {"posting_numbers": [number]},
                    "limit": RETURNS_PAGE,
                    "last_id": last_id,
                },
            )
            page = (answer or {}).get("returns") or []
            items.extend(page)
            if not (answer or {}).get("has_next") or not page:
                break
            last_id = page[-1].get("id") or 0
        return [r for r in items if r.get("type") not in _NOT_SHOPPER_RETURNS]

    async def get_returns(self, order_id: str) -> list[ReturnRequest]:
        requests = []
        for item in await self._returns(order_id):
            created = _return_time(item)
            if created is None:
                logger.warning("ozon.return.undated", extra={"id": item.get("id")})
                continue
            sys_name = ((item.get("visual") or {}).get("status") or {}).get(
                "sys_name", ""
            )
            requests.append(
                ReturnRequest(
                    return_id=str(item.get("id")),
                    order_id=item.get("posting_number") or posting_number(order_id),
                    state=map_return_state(sys_name),
                    created_at=created,
                )
            )
        return sorted(requests, key=lambda r: r.created_at, reverse=True)

    async def get_refunds(self, order_id: str) -> list[Refund]:
        """Derived from returns whose money went (or is going) back; see above."""
        refunds = []
        for item in await self._returns(order_id):
            visual = item.get("visual") or {}
            sys_name = (visual.get("status") or {}).get("sys_name", "")
            if sys_name not in _REFUND_COMPLETED | _REFUND_PENDING:
                continue
            product = item.get("product") or {}
            price = product.get("price") or {}
            amount = whole_units(price.get("price")) * int(product.get("quantity") or 1)
            changed = parse_time(visual.get("change_moment"))
            created = _return_time(item) or changed
            if created is None:
                continue
            completed = sys_name in _REFUND_COMPLETED
            refunds.append(
                Refund(
                    refund_id=str(item.get("id")),
                    order_id=item.get("posting_number") or posting_number(order_id),
                    amount=rounded(amount),
                    currency=price.get("currency_code") or "RUB",
                    state=RefundState.COMPLETED if completed else RefundState.PENDING,
                    created_at=created,
                    expected_by=None,
                    completed_at=changed if completed else None,
                )
            )
        return sorted(refunds, key=lambda r: r.created_at, reverse=True)

    async def find_products(self, query: str) -> list[Product]:
        return await self.catalog.find_products(query)

    # --- writes -------------------------------------------------------------

    async def cancel_order(self, order_id: str) -> Order:
        found = await self._find(order_id)
        if found is None:
            raise KeyError(order_id)
        scheme, posting = found
        order = _order(posting)
        if not order.state.can_cancel:
            raise OrderNotChangeable(order.state)
        if scheme != "fbs":
            raise self.unsupported("cancel_order")
        path = "/v2/posting/fbs/cancel"
        body = {
            "cancel_reason_id": CANCEL_REASON_OTHER,
            "cancel_reason_message": CANCEL_MESSAGE,
            "posting_number": order.order_id,
        }
        try:
            answer = await self.client.post(path, json=body, headers=self.headers)
            refused = not (isinstance(answer, dict) and answer.get("result"))
            reason = str(answer)[:300]
        except PlatformError as error:
            if error.status not in (400, 404, 409):
                _failed(error, path)
            refused, reason = True, error.body[:300]
        current = await self.get_order(order.order_id)
        if current is not None and current.state is OrderState.CANCELLED:
            logger.info("ozon.cancel.done", extra={"order_id": order.order_id})
            return current
        if refused:
            logger.warning(
                "ozon.cancel.refused",
                extra={"order_id": order.order_id, "body": reason},
            )
            raise OrderNotChangeable(current.state if current else order.state)
        return current or order


def _order(posting: dict[str, Any]) -> Order:
    state = map_status(posting.get("status", ""), posting.get("substatus", ""))
    analytics = posting.get("analytics_data") or {}
    method = posting.get("delivery_method") or {}
    address = ((posting.get("customer") or {}).get("address") or {}).get(
        "address_tail"
    ) or (analytics.get("city") or "")
    items = []
    total = Decimal(0)
    currency = "RUB"
    for product in posting.get("products") or []:
        price = whole_units(product.get("price"))
        quantity = int(product.get("quantity") or 1)
        total += price * quantity
        currency = product.get("currency_code") or currency
        name = product.get("name") or product.get("offer_id") or ""
        items.append(
            OrderItem(
                sku=str(product.get("offer_id") or product.get("sku") or ""),
                title_ru=name,
                title_en=name,
                size=None,
                color=None,
                quantity=quantity,
                price=rounded(price),
            )
        )
    open_state = state in (
        OrderState.PROCESSING,
        OrderState.SHIPPED,
        OrderState.READY_FOR_PICKUP,
    )
    expected = analytics.get("delivery_date_end") or analytics.get(
        "client_delivery_date_end"
    )
    created = parse_time(posting.get("created_at")) or parse_time(
        posting.get("in_process_at")
    )
    return Order(
        order_id=posting.get("posting_number") or "",
        channel=NAME,
        state=state,
        created_at=created or datetime.now(),
        expected_delivery=parse_date(expected) if open_state else None,
        delivered_at=None,
        total=rounded(total),
        currency=currency,
        paid=True,
        address=address,
        carrier=method.get("tpl_provider") or analytics.get("tpl_provider") or None,
        tracking_number=posting.get("tracking_number") or None,
        items=tuple(items),
    )


def _return_time(item: dict[str, Any]) -> datetime | None:
    return parse_time((item.get("logistic") or {}).get("return_date")) or parse_time(
        (item.get("visual") or {}).get("change_moment")
    )


def _failed(error: PlatformError, path: str) -> NoReturn:
    raise_source_error(NAME, error, path, "OZON_CLIENT_ID and OZON_API_KEY")
