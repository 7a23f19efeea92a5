import asyncio
import multiprocessing
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from actions.integrations.base import OrderNotChangeable, OrderState
from actions.integrations.demo_store import DemoStore
from actions.integrations.demo_store.data import SHOWCASE


async def test_missing_file_is_created_and_seeded(tmp_path: Path) -> None:
    store = DemoStore(tmp_path / "nested" / "store.sqlite")
    order = await store.get_order("A-10234")
    assert order is not None and order.state is OrderState.SHIPPED
    with sqlite3.connect(store.path) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM orders").fetchone()
    assert count >= 36
    states = {s.state for s in SHOWCASE}
    assert states == set(OrderState)


async def test_corrupt_file_is_moved_aside_and_recreated(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    store = DemoStore(path, clock=lambda: datetime(2026, 11, 29, 12, 0, 0))
    assert (await store.get_order("3728419056")) is not None
    backups = list(tmp_path.glob("store.sqlite.corrupt-*"))
    assert [b.name for b in backups] == ["store.sqlite.corrupt-20261129120000"]


async def test_store_from_another_schema_version_is_recreated(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('schema_version', '0')")
    assert (await DemoStore(path).get_order("A-10234")) is not None


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    await DemoStore(path).cancel_order("3728419056")
    order = await DemoStore(path).get_order("3728419056")
    assert order is not None and order.state is OrderState.CANCELLED


async def test_only_open_orders_change(tmp_path: Path) -> None:
    store = DemoStore(tmp_path / "store.sqlite")
    with pytest.raises(OrderNotChangeable) as error:
        await store.cancel_order("A-10234")
    assert error.value.state is OrderState.SHIPPED
    with pytest.raises(OrderNotChangeable):
        await store.change_address("45871", "Москва, ул. Ленина, д. 1")
    with pytest.raises(OrderNotChangeable):
        await store.start_return("A-10234")


async def test_unpaid_cancel_makes_no_refund(tmp_path: Path) -> None:
    store = DemoStore(tmp_path / "store.sqlite")
    await store.cancel_order("A-10240")
    assert await store.get_refunds("A-10240") == []


async def test_products_match_russian_word_forms_and_english(tmp_path: Path) -> None:
    store = DemoStore(tmp_path / "store.sqlite")
    for query in ("кроссовок", "кросовки", "running sneakers"):
        products = await store.find_products(query)
        assert products and products[0].sku == "SNK-VIHR", query
    assert await store.find_products("утюг") == []
    boots = (await store.find_products("ботинки челси"))[0]
    assert boots.available("39", "brown")
    sneakers = (await store.find_products("кроссовки"))[0]
    assert not sneakers.available("42", "black")  # sold out on purpose


def _start(path: str) -> None:
    DemoStore(Path(path)).ensure_ready()


def test_action_servers_starting_together_seed_one_store(tmp_path: Path) -> None:
    """The production profile starts several action servers on one data dir."""
    path = tmp_path / "store.sqlite"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_start, args=(str(path),)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    assert not list(tmp_path.glob("*.corrupt-*"))
    assert not list(tmp_path.glob("*.tmp"))
    assert asyncio.run(DemoStore(path).get_order("A-10234")) is not None
