"""The order-source interface and the typed results actions map to responses."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum


class OrderState(str, Enum):
    AWAITING_PAYMENT = "awaiting_payment"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    READY_FOR_PICKUP = "ready_for_pickup"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    @property
    def can_cancel(self) -> bool:
        return self in (OrderState.AWAITING_PAYMENT, OrderState.PROCESSING)

    @property
    def can_change_delivery(self) -> bool:
        return self in (OrderState.AWAITING_PAYMENT, OrderState.PROCESSING)


class ReturnState(str, Enum):
    REQUESTED = "requested"
    RECEIVED = "received"
    REJECTED = "rejected"


class RefundState(str, Enum):
    PENDING = "pending"
    COMPLETED = "completed"


@dataclass(frozen=True)
class OrderItem:
    sku: str
    title_ru: str
    title_en: str
    size: str | None
    color: str | None
    quantity: int
    price: int


@dataclass(frozen=True)
class Order:
    order_id: str
    channel: str  # where it was sold: shop, wildberries, ozon, bitrix24, shopify
    state: OrderState
    created_at: datetime
    expected_delivery: date | None
    delivered_at: datetime | None
    total: int
    currency: str
    paid: bool
    address: str
    carrier: str | None
    tracking_number: str | None
    items: tuple[OrderItem, ...] = field(default_factory=tuple)
    # The buyer's phone as the source knows it (any format); used only to verify
    # the shopper before showing order details (actions/privacy.py), never shown.
    customer_phone: str | None = None
    # The buyer's e-mail as the source knows it: where a one-time code goes when
    # the order has no phone (actions/verification/); never shown in full.
    customer_email: str | None = None


@dataclass(frozen=True)
class ReturnRequest:
    return_id: str
    order_id: str
    state: ReturnState
    created_at: datetime


@dataclass(frozen=True)
class ExchangeRequest:
    """An exchange: the return of the item and the order for the new variant."""

    return_id: str
    order_id: str
    replacement_order_id: str
    sku: str
    size: str | None
    color: str | None
    created_at: datetime


@dataclass(frozen=True)
class Refund:
    refund_id: str
    order_id: str
    amount: int
    currency: str
    state: RefundState
    created_at: datetime
    expected_by: date | None
    completed_at: datetime | None


@dataclass(frozen=True)
class StockLine:
    size: str | None
    color: str | None
    quantity: int


@dataclass(frozen=True)
class Product:
    sku: str
    title_ru: str
    title_en: str
    price: int
    currency: str
    stock: tuple[StockLine, ...]

    def available(self, size: str | None, color: str | None) -> tuple[StockLine, ...]:
        """Stock lines with goods left that match the size and colour, if given."""
        return tuple(
            line
            for line in self.stock
            if line.quantity > 0
            and (size is None or (line.size or "").lower() == size.lower())
            and (color is None or (line.color or "").lower() == color.lower())
        )


class OrderSourceError(RuntimeError):
    """The order source cannot answer now (network, credentials, broken store)."""


class OperationUnsupported(RuntimeError):
    """The source cannot do this through its API (the shopper does it there)."""

    def __init__(self, source: str, operation: str) -> None:
        super().__init__(f"{source} does not support {operation}")
        self.source = source
        self.operation = operation


class VariantUnavailable(ValueError):
    """The size and colour asked for are not in stock (any more)."""

    def __init__(self, sku: str, size: str | None, color: str | None) -> None:
        super().__init__(f"{sku} {size or '-'} {color or '-'} is out of stock")
        self.sku = sku
        self.size = size
        self.color = color


class AmbiguousOrder(LookupError):
    """More than one configured source has an order with this number."""

    def __init__(self, order_id: str, sources: list[str]) -> None:
        super().__init__(f"{order_id} found in {', '.join(sources)}")
        self.order_id = order_id
        self.sources = sources


class OrderNotChangeable(ValueError):
    """The order's state does not allow the change; carries the state."""

    def __init__(self, state: OrderState) -> None:
        super().__init__(f"order is {state.value}")
        self.state = state


class OrderSource(abc.ABC):
    """Where orders come from. Methods raise ``OrderSourceError`` when unreachable
    and ``OperationUnsupported`` for what the source's API cannot do.

    Only ``get_order`` is required: every other operation defaults to "not
    supported" (the shopper does it in the marketplace app or on the shop's site)
    and product search to finding nothing, so a source overrides only what its
    platform offers.

    ``name`` is stored in ``Order.channel``; ``kinds`` are the order-number formats
    (``common.order_ids.OrderIdKind``) this source can hold, used for routing.
    """

    name: str = "source"
    kinds: frozenset[str] = frozenset()
    # Whether ``start_exchange`` works: the shopper hears before agreeing what
    # an exchange will be for this order (an exchange, a return, the app).
    exchanges: bool = False

    @abc.abstractmethod
    async def get_order(self, order_id: str) -> Order | None:
        """The order with this canonical number, or ``None`` when there is none."""

    def unsupported(self, operation: str) -> OperationUnsupported:
        """The error for an operation this source's API cannot do."""
        return OperationUnsupported(self.name, operation)

    async def cancel_order(self, order_id: str) -> Order:
        """Cancels; a paid order gets a pending refund. Raises OrderNotChangeable."""
        raise self.unsupported("cancel_order")

    async def change_address(self, order_id: str, address: str) -> Order:
        """Changes the delivery address. Raises ``OrderNotChangeable``."""
        raise self.unsupported("change_address")

    async def start_return(self, order_id: str) -> ReturnRequest:
        """Opens a return for a delivered order (eligibility is the caller's job)."""
        raise self.unsupported("start_return")

    async def start_exchange(
        self, order_id: str, sku: str, size: str | None, color: str | None
    ) -> ExchangeRequest:
        """Exchanges an item of a delivered order for another size or colour: a
        return of the item and a new order for the variant (eligibility and stock
        are the caller's job). Marketplaces do not let sellers exchange."""
        raise self.unsupported("start_exchange")

    async def can_exchange(self, order_id: str) -> bool:
        """Whether ``start_exchange`` is open to this order."""
        return self.exchanges

    async def get_returns(self, order_id: str) -> list[ReturnRequest]:
        """Returns opened for the order, newest first."""
        raise self.unsupported("get_returns")

    async def get_refunds(self, order_id: str) -> list[Refund]:
        """Refunds for the order, newest first."""
        raise self.unsupported("get_refunds")

    async def find_products(self, query: str) -> list[Product]:
        """Products whose name matches the shopper's words, best first; none where
        the source's catalogue is not wired (its options are shop-specific)."""
        return []

    async def mark_paid(self, order_id: str) -> Order:
        """Records a confirmed payment (called by a payment provider)."""
        raise self.unsupported("mark_paid")

    async def orders_by_phone(self, phone: str, limit: int = 5) -> list[Order]:
        """The buyer's recent orders, newest first, matched on the last ten
        digits of ``phone`` (a phone the bot verified, never one typed in).
        Marketplaces give sellers no buyer contacts: ``OperationUnsupported``."""
        raise self.unsupported("orders_by_phone")
