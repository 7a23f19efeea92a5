"""The OrderSource base: a source that implements only ``get_order`` refuses every
change with ``OperationUnsupported`` naming itself and the operation, and finds no
products; what a source overrides is what it supports."""

from __future__ import annotations

import pytest

from actions.integrations.base import OperationUnsupported, Order, OrderSource


class LookupOnly(OrderSource):
    name = "lookup-only"

    async def get_order(self, order_id: str) -> Order | None:
        return None


async def test_operations_default_to_unsupported_with_the_source_name() -> None:
    source = LookupOnly()
    calls = {
        "cancel_order": source.cancel_order("A-1"),
        "change_address": source.change_address("A-1", "Moscow, Tverskaya 1"),
        "start_return": source.start_return("A-1"),
        "get_returns": source.get_returns("A-1"),
        "get_refunds": source.get_refunds("A-1"),
        "mark_paid": source.mark_paid("A-1"),
    }
    for operation, call in calls.items():
        with pytest.raises(OperationUnsupported) as raised:
            await call
        assert raised.value.source == "lookup-only"
        assert raised.value.operation == operation


async def test_product_search_defaults_to_nothing() -> None:
    assert await LookupOnly().find_products("кроссовки") == []


def test_get_order_stays_required() -> None:
    class Nothing(OrderSource):
        pass

    with pytest.raises(TypeError):
        Nothing()  # type: ignore[abstract]
