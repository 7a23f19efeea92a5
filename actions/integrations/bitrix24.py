"""Bitrix24 as an order source, through an incoming webhook (REST).

The webhook URL ``https://<portal>/rest/<user id>/<code>/`` is the whole credential:
its code is never logged (``endpoint`` is the redacted form). Methods are POSTed as
JSON to ``<webhook>/<method>.json``.

Two kinds of portal are supported (``BITRIX24_ENTITY``):

- ``order`` (default): online-store orders (``sale`` scope). The shopper's number is
  the order's ``accountNumber``: ``sale.order.list`` filtered by it finds the order
  id, ``sale.order.get`` reads the order with its basket, payments and shipments.
  By default the account number is the order id ("#45871" → "45871"); a portal whose
  number template adds a prefix ({PREFIX}{NUMBER}) gives codes such as "A-10234" or
  "A10234", so a letter code is looked up in both spellings.
- ``deal``: CRM deals (``crm`` scope) through ``crm.item.get`` with
  ``entityTypeId=2``; the shopper's number is the deal id, so letter codes are not
  deals. Deals carry no payment, shipment or address: the state comes from the
  stage, and "paid" is inferred from it.

The order's ``PHONE`` and ``EMAIL`` properties are the buyer's phone and e-mail
(``Order.customer_phone`` / ``customer_email``, used only to verify the shopper);
deals keep them on their contacts, so they have none.

Status ids are mapped as in a portal's default status table (N accepted, P paid,
S shipped, D cancelled, F completed; delivery DF dispatched) and deal stages by
their semantics (WON delivered, LOSE/APOLOGY cancelled). ``BITRIX24_STATUS_MAP``
adds a portal's own statuses or stages: ``"S=shipped,C1:DELIVERY=shipped"``.

Writes: cancelling an unpaid store order (``sale.order.update`` with
``canceled=Y``). Everything else (a paid order's cancellation and refund, address,
returns, refunds, payment marks) is done by the shop's staff, so it raises
``OperationUnsupported``. Product search is not wired to the catalogue: it returns
no products.

"Мои заказы" (``orders_by_phone``, a phone the bot verified): the buyer is a CRM
contact. ``crm.duplicate.findbycomm`` (``entity_type=CONTACT``, ``type=PHONE``, up
to 20 ``values``) finds contacts by the phone's usual spellings; the contacts'
own ``PHONE`` values (``crm.contact.list`` filtered by ``@ID``) must match on the
last ten digits. Their deals come from ``crm.item.list`` (``entityTypeId=2``,
``@contactId``, newest ``createdTime`` first) and are mapped like ``crm.item.get``;
a store portal reads the orders bound to those deals (``crm.orderentity.list``,
``ownerTypeId=2``) with ``sale.order.get``, mapped as above.
Sources (https://apidocs.bitrix24.com/api-reference/...):
crm/duplicates/crm-duplicate-find-by-comm.html,
crm/contacts/crm-contact-list.html (multi-fields filter only on the exact
value, hence the duplicate index), crm/universal/crm-item-list.html,
crm/universal/order-entity/crm-order-entity-list.html,
sale/order/sale-order-get.html (an order's ``clients`` are CRM contacts).
Confidence: the methods, parameters and answers are documented [V]; how the
duplicate index normalises a phone is not (so several spellings are sent and
the answer is checked here), nor that ``crm.item.list`` filters deals on
``contactId`` (the primary contact; documented as a deal field [M]), nor that
every store order has a deal (true for portals with CRM-linked store orders, the
default since 2021 [M]): an order without a deal is not found by phone.

Errors: ``QUERY_LIMIT_EXCEEDED`` (HTTP 503) and 5xx are retried by
``PlatformClient``; a wrong webhook (``NO_AUTH_FOUND``/``INVALID_CREDENTIALS``,
401/403) or any other failure is an ``OrderSourceError``; ``NOT_FOUND`` is no order.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Mapping
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
)
from actions.integrations.marketplace import (
    SOURCES_INCLUDE,
    parse_time,
    rounded,
    whole_units,
)
from actions.integrations.phones import same_phone, spellings
from common.http import BodyError, PlatformClient, PlatformError, RetryPolicy
from common.order_ids import OrderIdKind, normalize
from common.settings import Reader, SettingsError

logger = logging.getLogger(__name__)


ENTITIES = ("order", "deal")
DEAL_TYPE_ID = 2  # entityTypeId of deals in crm.item.*
CANCEL_REASON = "Cancelled by the customer through the Easy Flow assistant"

_WEBHOOK = re.compile(r"^(https?://[^/?#\s]+/rest/\d+/)([^/?#\s]+)/?$")
_NOT_FOUND = frozenset({"NOT_FOUND", "201240400001", "200540400001"})
_AUTH_FAILED = frozenset(
    {
        "NO_AUTH_FOUND",
        "INVALID_CREDENTIALS",
        "expired_token",
        "insufficient_scope",
        "ACCESS_DENIED",
        "user_access_error",
    }
)
_RETRYABLE = frozenset({"QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT"})
_DEAL_FIELDS = (
    "id",
    "stageId",
    "stageSemanticId",
    "opportunity",
    "currencyId",
    "createdTime",
    "movedTime",
)

# A portal's default order statuses (sale.status) and deal stages (crm).
_ORDER_STATUSES = {
    "S": OrderState.SHIPPED,
    "D": OrderState.CANCELLED,
    "F": OrderState.DELIVERED,
}
_SHIPPED_DELIVERY_STATUSES = frozenset({"DF"})
_DEAL_UNPAID_STAGES = frozenset({"NEW", "PREPARATION", "PREPAYMENT_INVOICE"})
_DEAL_WON_STAGES = frozenset({"WON"})
_DEAL_LOST_STAGES = frozenset({"LOSE", "APOLOGY"})
_PAID_STATES = frozenset(
    {
        OrderState.PROCESSING,
        OrderState.SHIPPED,
        OrderState.READY_FOR_PICKUP,
        OrderState.DELIVERED,
    }
)


class _Missing(LookupError):
    """Bitrix24 answered that the object does not exist."""


@dataclass(frozen=True)
class Bitrix24Config:
    """``BITRIX24_*`` settings of the Bitrix24 order source."""

    webhook_url: str = field(repr=False)  # the address itself is a credential
    entity: str = "order"
    status_map: Mapping[str, OrderState] = field(default_factory=dict)
    # The application token of the portal's outbound event handler
    # (actions/proactive/bitrix24_events.py); empty: no event route.
    event_token: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, reader: Reader) -> Bitrix24Config:
        url = reader.required("BITRIX24_WEBHOOK_URL", f"{SOURCES_INCLUDE} bitrix24")
        if not _WEBHOOK.match(url):
            # The value itself is a credential: never echo it.
            raise SettingsError(
                "BITRIX24_WEBHOOK_URL: expected the incoming webhook address "
                "https://<portal>/rest/<user id>/<code>/"
            )
        entity = reader.text("BITRIX24_ENTITY", "order").lower()
        if entity not in ENTITIES:
            raise SettingsError(
                f"BITRIX24_ENTITY: '{entity}' is not one of {', '.join(ENTITIES)}"
            )
        status_map = _parse_status_map(reader.text("BITRIX24_STATUS_MAP", ""))
        token = reader.text("BITRIX24_EVENT_TOKEN", "")
        return cls(url, entity, status_map, token)


class Bitrix24Source(OrderSource):
    name = "bitrix24"
    kinds = frozenset({OrderIdKind.SHOP.value})

    def __init__(
        self,
        webhook_url: str,
        entity: str = "order",
        status_map: Mapping[str, OrderState] | None = None,
        *,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
        event_token: str = "",
    ) -> None:
        self.event_token = event_token
        match = _WEBHOOK.match(webhook_url.strip())
        if match is None:
            raise ValueError("expected https://<portal>/rest/<user id>/<code>/")
        if entity not in ENTITIES:
            raise ValueError(f"entity must be one of {', '.join(ENTITIES)}")
        self.entity = entity
        self.status_map = dict(status_map or {})
        self.endpoint = f"{match.group(1)}***/"  # safe to log
        self._client = PlatformClient(
            "bitrix24",
            webhook_url.strip(),
            timeout_s=timeout_s,
            retry=retry,
            body_error=_body_error,
        )

    def __repr__(self) -> str:
        return f"Bitrix24Source({self.endpoint!r}, entity={self.entity!r})"

    @classmethod
    def from_config(cls, config: Bitrix24Config) -> Bitrix24Source:
        return cls(
            config.webhook_url,
            config.entity,
            config.status_map,
            event_token=config.event_token,
        )

    async def close(self) -> None:
        await self._client.close()

    # --- transport ------------------------------------------------------------

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        """The ``result`` of a REST method; raises ``_Missing`` or OrderSourceError."""
        try:
            answer = await self._client.post(f"/{method}.json", json=params)
        except PlatformError as error:
            code = _error_code(error.body)
            if code in _NOT_FOUND:
                raise _Missing(method) from error
            if code in _AUTH_FAILED or error.status in (401, 403):
                logger.error(
                    "bitrix24.auth.failed",
                    extra={
                        "method": method,
                        "status": error.status,
                        "error": code,
                        "endpoint": self.endpoint,
                    },
                )
            else:
                logger.error(
                    "bitrix24.request.failed",
                    extra={"method": method, "status": error.status, "error": code},
                )
            raise OrderSourceError(
                f"bitrix24 {method} failed: {error.status} {code}"
            ) from error
        if not isinstance(answer, dict) or "result" not in answer:
            logger.error("bitrix24.answer.unexpected", extra={"method": method})
            raise OrderSourceError(f"bitrix24 {method}: unexpected answer")
        return answer["result"]

    # --- reads ----------------------------------------------------------------

    async def get_order(self, order_id: str) -> Order | None:
        number = _number(order_id)
        if number is None:
            return None
        if self.entity == "deal":
            return await self._deal(number)
        found = await self._find_store_order(number)
        return None if found is None else found[1]

    async def order_by_id(self, internal_id: int) -> Order | None:
        """The order an outbound event names by the portal's own id: a store
        order's id (its shopper number is ``accountNumber``), or a deal's id."""
        if self.entity == "deal":
            return await self._deal(str(internal_id))
        try:
            result = await self._call("sale.order.get", {"id": internal_id})
        except _Missing:
            return None
        raw = result["order"]
        number = str(raw.get("accountNumber") or internal_id)
        return self._store_order(raw, number)

    async def _find_store_order(self, number: str) -> tuple[int, Order] | None:
        """The portal's order id and the mapped order for an account number."""
        variants = list(dict.fromkeys([number, number.replace("-", "")]))
        result = await self._call(
            "sale.order.list",
            {
                "select": ["id", "accountNumber"],
                "filter": {"@accountNumber": variants},
            },
        )
        rows = (result or {}).get("orders") or []
        if not rows:
            return None
        # Account numbers are unique; prefer the spelling the shopper used.
        row = next((r for r in rows if r.get("accountNumber") == number), rows[0])
        internal_id = int(row["id"])
        try:
            result = await self._call("sale.order.get", {"id": internal_id})
        except _Missing:
            return None
        return internal_id, self._store_order(result["order"], number)

    def _store_order(self, raw: dict[str, Any], number: str) -> Order:
        shipments = [
            s
            for s in raw.get("shipments") or []
            if s.get("system") != "Y" and s.get("canceled") != "Y"
        ]
        shipped = [
            s
            for s in shipments
            if s.get("deducted") == "Y"
            or s.get("statusId") in _SHIPPED_DELIVERY_STATUSES
        ]
        paid = raw.get("payed") == "Y"
        state = self._store_state(raw, paid, bool(shipped))
        tracked = next(
            (s for s in shipped + shipments if s.get("trackingNumber")), None
        )
        carrier_from = tracked or (shipped or shipments or [None])[0]
        return Order(
            order_id=number,
            channel=self.name,
            state=state,
            created_at=parse_time(raw.get("dateInsert")) or datetime.now(),
            expected_delivery=None,
            delivered_at=parse_time(raw.get("dateStatus"))
            if state is OrderState.DELIVERED
            else None,
            total=_amount(raw.get("price")),
            currency=raw.get("currency") or "RUB",
            paid=paid,
            address=_property(raw, "ADDRESS"),
            carrier=(carrier_from or {}).get("deliveryName") or None,
            tracking_number=(tracked or {}).get("trackingNumber") or None,
            customer_phone=_property(raw, "PHONE") or None,
            customer_email=_property(raw, "EMAIL") or None,
            items=tuple(
                OrderItem(
                    sku=str(
                        item.get("productXmlId")
                        or item.get("productId")
                        or item.get("id")
                        or ""
                    ),
                    title_ru=item.get("name") or "",
                    title_en=item.get("name") or "",
                    size=None,
                    color=None,
                    quantity=round(float(item.get("quantity") or 0)),
                    price=_amount(item.get("price")),
                )
                for item in raw.get("basketItems") or []
            ),
        )

    def _store_state(
        self, raw: dict[str, Any], paid: bool, shipped: bool
    ) -> OrderState:
        status = str(raw.get("statusId") or "")
        if raw.get("canceled") == "Y":
            return OrderState.CANCELLED
        if status in self.status_map:
            return self.status_map[status]
        if status in _ORDER_STATUSES:
            return _ORDER_STATUSES[status]
        if shipped:
            return OrderState.SHIPPED
        if paid or status == "P":
            return OrderState.PROCESSING
        return OrderState.AWAITING_PAYMENT

    async def _deal(self, number: str) -> Order | None:
        if not number.isdigit():
            return None  # deals are numbered by their id
        try:
            result = await self._call(
                "crm.item.get", {"entityTypeId": DEAL_TYPE_ID, "id": int(number)}
            )
        except _Missing:
            return None
        return self._deal_order((result or {}).get("item") or {}, number)

    def _deal_order(self, raw: dict[str, Any], number: str) -> Order:
        state = self._deal_state(raw)
        return Order(
            order_id=number,
            channel=self.name,
            state=state,
            created_at=parse_time(raw.get("createdTime")) or datetime.now(),
            expected_delivery=None,
            delivered_at=parse_time(raw.get("movedTime"))
            if state is OrderState.DELIVERED
            else None,
            total=_amount(raw.get("opportunity")),
            currency=raw.get("currencyId") or "RUB",
            paid=state in _PAID_STATES,
            address="",
            carrier=None,
            tracking_number=None,
        )

    def _deal_state(self, raw: dict[str, Any]) -> OrderState:
        stage = str(raw.get("stageId") or "")
        if stage in self.status_map:
            return self.status_map[stage]
        bare = stage.rsplit(":", 1)[-1]  # "C1:WON" in a second pipeline
        semantic = raw.get("stageSemanticId")
        if semantic == "S" or bare in _DEAL_WON_STAGES:
            return OrderState.DELIVERED
        if semantic == "F" or bare in _DEAL_LOST_STAGES:
            return OrderState.CANCELLED
        if bare in _DEAL_UNPAID_STAGES:
            return OrderState.AWAITING_PAYMENT
        return OrderState.PROCESSING

    async def orders_by_phone(self, phone: str, limit: int = 5) -> list[Order]:
        """The orders of the CRM contacts with this phone, newest first: the
        contacts' deals, or the store orders bound to those deals. Each carries
        the contact's phone where the order itself has none (a deal never has)."""
        contacts = await self._contacts_by_phone(phone)
        if not contacts or limit <= 0:
            return []
        result = await self._call(
            "crm.item.list",
            {
                "entityTypeId": DEAL_TYPE_ID,
                "select": list(_DEAL_FIELDS),
                "filter": {"@contactId": list(contacts)},
                "order": {"createdTime": "DESC"},
            },
        )
        deals = (result or {}).get("items") or []
        if self.entity == "deal":
            orders = [self._deal_order(raw, str(raw.get("id"))) for raw in deals]
        else:
            orders = await self._store_orders_of_deals(
                [int(raw["id"]) for raw in deals if raw.get("id")], limit
            )
        known = next(iter(contacts.values()))
        orders = [
            dataclasses.replace(o, customer_phone=o.customer_phone or known)
            for o in sorted(orders, key=lambda o: o.created_at, reverse=True)[:limit]
        ]
        logger.info(
            "bitrix24.orders_by_phone",
            extra={"contacts": len(contacts), "orders": len(orders)},
        )
        return orders

    async def _contacts_by_phone(self, phone: str) -> dict[int, str]:
        """The contacts with this phone and the phone as each keeps it: the
        duplicate index finds the spellings asked for, and each contact's own
        phones are checked on the last ten digits before its orders are shown."""
        variants = spellings(phone)
        if not variants:
            return {}
        result = await self._call(
            "crm.duplicate.findbycomm",
            {"entity_type": "CONTACT", "type": "PHONE", "values": variants},
        )
        found = result.get("CONTACT") if isinstance(result, dict) else None
        ids = sorted({int(i) for i in found or []})
        if not ids:
            return {}
        result = await self._call(
            "crm.contact.list",
            {"filter": {"@ID": ids}, "select": ["ID", "PHONE"]},
        )
        contacts = {}
        for row in result or []:
            values = [str(entry.get("VALUE") or "") for entry in row.get("PHONE") or []]
            matching = next((v for v in values if same_phone(phone, v)), None)
            if matching is not None:
                contacts[int(row["ID"])] = matching
        return contacts

    async def _store_orders_of_deals(
        self, deal_ids: list[int], limit: int
    ) -> list[Order]:
        """The newest store orders bound to these deals (``crm.orderentity``)."""
        if not deal_ids:
            return []
        result = await self._call(
            "crm.orderentity.list",
            {
                "select": ["orderId", "ownerId"],
                "filter": {"=ownerTypeId": DEAL_TYPE_ID, "@ownerId": deal_ids},
                "order": {"orderId": "desc"},
            },
        )
        rows = (result or {}).get("orderEntity") or []
        order_ids = list(dict.fromkeys(int(row["orderId"]) for row in rows))
        order_ids.sort(reverse=True)  # ids grow with time: newest first
        orders = []
        for internal_id in order_ids[:limit]:
            order = await self.order_by_id(internal_id)
            if order is not None:
                orders.append(order)
        return orders

    # --- writes ---------------------------------------------------------------

    async def cancel_order(self, order_id: str) -> Order:
        """Cancels an unpaid store order; a paid one is refunded by the shop."""
        if self.entity == "deal":
            raise self.unsupported("cancel_order")
        number = _number(order_id)
        found = None if number is None else await self._find_store_order(number)
        if found is None:
            raise KeyError(order_id)
        internal_id, order = found
        if not order.state.can_cancel:
            raise OrderNotChangeable(order.state)
        if order.paid:
            raise self.unsupported("cancel_paid_order")
        await self._call(
            "sale.order.update",
            {
                "id": internal_id,
                "fields": {"canceled": "Y", "reasonCanceled": CANCEL_REASON},
            },
        )
        logger.info("bitrix24.order.cancelled", extra={"order_id": order.order_id})
        return dataclasses.replace(
            order, state=OrderState.CANCELLED, expected_delivery=None
        )


def _number(order_id: str) -> str | None:
    """The shop number a Bitrix24 account number or deal id can be."""
    parsed = normalize(order_id, allow_short=True)
    if parsed is None or parsed.kind is OrderIdKind.OZON:
        return None
    return parsed.value  # "#45871" → "45871"; a long "#1234567" parses as digits


def _parse_status_map(raw: str) -> dict[str, OrderState]:
    mapping = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        key, _, value = pair.partition("=")
        try:
            mapping[key.strip()] = OrderState(value.strip().lower())
        except ValueError:
            raise SettingsError(
                f"BITRIX24_STATUS_MAP: '{pair}' must be <status id>=<state>, the "
                f"state one of {', '.join(s.value for s in OrderState)}"
            ) from None
        if not key.strip():
            raise SettingsError(f"BITRIX24_STATUS_MAP: '{pair}' has no status id")
    return mapping


def _body_error(body: Any) -> BodyError | None:
    """An error reported inside a 2xx answer (Bitrix24 normally uses 4xx/5xx)."""
    if isinstance(body, dict) and "error" in body and "result" not in body:
        return BodyError(retryable=str(body["error"]) in _RETRYABLE)
    return None


def _error_code(body: str) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return ""
    return str(parsed.get("error", "")) if isinstance(parsed, dict) else ""


def _property(raw: dict[str, Any], code: str) -> str:
    for prop in raw.get("propertyValues") or []:
        if prop.get("code") == code and prop.get("value"):
            return str(prop["value"])
    return ""


def _amount(value: Any) -> int:
    return rounded(whole_units(value))
