"""Routing between several order sources (real demo stores on temporary files)."""

from pathlib import Path

import pytest

from actions.integrations.base import AmbiguousOrder, OrderSourceError
from actions.integrations.demo_store import DemoStore
from actions.integrations.router import RoutingOrderSource


class ShopOnlyStore(DemoStore):
    """A demo store that, like a shop platform, holds only shop-format numbers."""

    name = "shop"
    kinds = frozenset({"shop"})


async def test_the_number_format_picks_the_sources(tmp_path: Path) -> None:
    demo = DemoStore(tmp_path / "demo.sqlite")
    shop = ShopOnlyStore(tmp_path / "shop.sqlite")
    router = RoutingOrderSource([demo, shop])
    assert router.candidates("48213307-0051-1") == [demo]
    assert router.candidates("A-10234") == [demo, shop]
    assert router.candidates("nonsense") == []
    order = await router.get_order("3728419056")
    assert order is not None and order.order_id == "3728419056"


async def test_same_number_in_two_sources_is_ambiguous(tmp_path: Path) -> None:
    router = RoutingOrderSource(
        [DemoStore(tmp_path / "a.sqlite"), ShopOnlyStore(tmp_path / "b.sqlite")]
    )
    with pytest.raises(AmbiguousOrder) as error:
        await router.get_order("A-10234")
    assert error.value.sources == ["demo", "shop"]


async def test_writes_go_to_the_source_that_has_the_order(tmp_path: Path) -> None:
    demo = DemoStore(tmp_path / "demo.sqlite")
    router = RoutingOrderSource([demo, ShopOnlyStore(tmp_path / "shop.sqlite")])
    await router.cancel_order("3728419056")
    order = await demo.get_order("3728419056")
    assert order is not None and order.state.value == "cancelled"


async def test_a_failing_source_is_skipped_when_another_answers(tmp_path: Path) -> None:
    broken = ShopOnlyStore(Path("/proc/easyflow/cannot/exist.sqlite"))
    router = RoutingOrderSource([DemoStore(tmp_path / "demo.sqlite"), broken])
    order = await router.get_order("A-10234")
    assert order is not None
    only_broken = RoutingOrderSource([broken, ShopOnlyStore(Path("/proc/x/y.sqlite"))])
    with pytest.raises(OrderSourceError):
        await only_broken.get_order("A-10234")
