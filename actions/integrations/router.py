"""One order source made of several: a shop may sell on Wildberries, Ozon, its own
site (Bitrix24, Shopify) and the demo store at once.

The order number's format decides which sources can hold it (``kinds``); those are
asked concurrently. One match answers; none means not found; several raise
``AmbiguousOrder`` so the assistant asks the shopper where they bought, and
``get_order_from`` then reads it from the source they name. A source
that fails is skipped when another answers, and reported when none does.
"""

from __future__ import annotations

import asyncio
import logging

from actions.integrations.base import (
    AmbiguousOrder,
    ExchangeRequest,
    OperationUnsupported,
    Order,
    OrderSource,
    OrderSourceError,
    Product,
    Refund,
    ReturnRequest,
)
from common.order_ids import normalize

logger = logging.getLogger(__name__)


class RoutingOrderSource(OrderSource):
    name = "router"

    def __init__(self, sources: list[OrderSource]) -> None:
        if not sources:
            raise ValueError("at least one order source is needed")
        self.sources = sources
        self.kinds = frozenset().union(*(s.kinds for s in sources))
        self._owners: dict[str, OrderSource] = {}

    def replace(self, sources: list[OrderSource]) -> None:
        """Routes to ``sources`` from now on (integrations picked up while
        running); a call already under way finishes with the list it read."""
        if not sources:
            raise ValueError("at least one order source is needed")
        self.kinds = frozenset().union(*(s.kinds for s in sources))
        self._owners = {
            order: source for order, source in self._owners.items() if source in sources
        }
        self.sources = list(sources)

    def candidates(self, order_id: str) -> list[OrderSource]:
        parsed = normalize(order_id, allow_short=True)
        if parsed is None:
            return []
        kinds = {parsed.kind.value}
        if order_id.isdigit() and len(order_id) <= 8:
            # "#1234567" is stored as "1234567": short digits alone may be a
            # shop's order number as well as a Wildberries one.
            kinds |= {"shop", "wildberries"}
        return [s for s in self.sources if kinds & s.kinds]

    async def get_order(self, order_id: str) -> Order | None:
        candidates = self.candidates(order_id)
        if len(candidates) == 1:  # the common case: no concurrency needed
            order = await candidates[0].get_order(order_id)
            if order is not None:
                self._owners[order.order_id] = candidates[0]
            return order
        results = await asyncio.gather(
            *(source.get_order(order_id) for source in candidates),
            return_exceptions=True,
        )
        found: list[tuple[OrderSource, Order]] = []
        failures = []
        for source, result in zip(candidates, results, strict=True):
            if isinstance(result, Order):
                found.append((source, result))
            elif isinstance(result, BaseException):
                failures.append(source.name)
                logger.warning(
                    "orders.source_failed",
                    extra={"source": source.name, "error": repr(result)},
                )
        if len(found) > 1:
            raise AmbiguousOrder(order_id, [source.name for source, _ in found])
        if found:
            source, order = found[0]
            self._owners[order.order_id] = source
            return order
        if failures and len(failures) == len(candidates):
            raise OrderSourceError(f"no source answered for {order_id}: {failures}")
        return None

    async def orders_by_phone(self, phone: str, limit: int = 5) -> list[Order]:
        """Every source that can search by phone, asked concurrently, newest
        first; the others are skipped. A source that fails is skipped (and
        logged) when another answers; ``OrderSourceError`` when none does,
        ``OperationUnsupported`` when none can search."""
        sources = list(self.sources)
        results = await asyncio.gather(
            *(source.orders_by_phone(phone, limit) for source in sources),
            return_exceptions=True,
        )
        found: list[tuple[OrderSource, Order]] = []
        answered = 0
        failures = []
        for source, result in zip(sources, results, strict=True):
            if isinstance(result, OperationUnsupported):
                continue
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                failures.append(source.name)
                logger.warning(
                    "orders.source_failed",
                    extra={"source": source.name, "error": type(result).__name__},
                )
                continue
            answered += 1
            found += [(source, order) for order in result]
        if not answered and not failures:
            raise self.unsupported("orders_by_phone")
        if not answered:
            raise OrderSourceError(f"no source answered by phone: {failures}")
        found.sort(key=lambda pair: pair[1].created_at, reverse=True)
        for source, order in found[:limit]:
            self._owners[order.order_id] = source
        return [order for _, order in found[:limit]]

    async def get_order_from(self, order_id: str, source: str) -> Order | None:
        """The order as ``source`` has it: the shopper said where they bought an
        order number that several sources have (``AmbiguousOrder``)."""
        chosen = next((s for s in self.candidates(order_id) if s.name == source), None)
        if chosen is None:
            return None
        order = await chosen.get_order(order_id)
        if order is not None:
            self._owners[order.order_id] = chosen
        return order

    async def _owner(self, order_id: str) -> OrderSource:
        if order_id not in self._owners:
            await self.get_order(order_id)
        if order_id not in self._owners:
            raise KeyError(order_id)
        return self._owners[order_id]

    async def cancel_order(self, order_id: str) -> Order:
        return await (await self._owner(order_id)).cancel_order(order_id)

    async def change_address(self, order_id: str, address: str) -> Order:
        return await (await self._owner(order_id)).change_address(order_id, address)

    async def start_return(self, order_id: str) -> ReturnRequest:
        return await (await self._owner(order_id)).start_return(order_id)

    async def start_exchange(
        self, order_id: str, sku: str, size: str | None, color: str | None
    ) -> ExchangeRequest:
        owner = await self._owner(order_id)
        return await owner.start_exchange(order_id, sku, size, color)

    async def can_exchange(self, order_id: str) -> bool:
        return await (await self._owner(order_id)).can_exchange(order_id)

    async def get_returns(self, order_id: str) -> list[ReturnRequest]:
        return await (await self._owner(order_id)).get_returns(order_id)

    async def get_refunds(self, order_id: str) -> list[Refund]:
        return await (await self._owner(order_id)).get_refunds(order_id)

    async def mark_paid(self, order_id: str) -> Order:
        return await (await self._owner(order_id)).mark_paid(order_id)

    async def find_products(self, query: str) -> list[Product]:
        results = await asyncio.gather(
            *(source.find_products(query) for source in self.sources),
            return_exceptions=True,
        )
        products: list[Product] = []
        for source, result in zip(self.sources, results, strict=True):
            if isinstance(result, BaseException):
                logger.warning("products.source_failed", extra={"source": source.name})
                continue
            products.extend(result)
        if not products and all(isinstance(r, BaseException) for r in results):
            raise OrderSourceError("no product source answered")
        return products
