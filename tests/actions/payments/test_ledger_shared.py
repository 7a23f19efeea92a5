"""The payment ledger shared by action-server replicas: each "replica" here has its
own ledger object, engine and connections on one real database (PostgreSQL, the
production profile's; and one SQLite file, the embedded default's)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actions.integrations.demo_store import DemoStore
from actions.payments.ledger import PaymentLedger, RefundRefused
from actions.payments.settlement import Outcome, Settlement
from actions.proactive.notifier import RasaNotifier
from tests.databases import fresh_postgres
from tests.emulators import Emulator

REPLICAS = 4


@pytest.fixture(params=["postgresql", "sqlite"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    if request.param == "sqlite":
        yield tmp_path / "ledger.sqlite"
        return
    with fresh_postgres("easyflow_ledger_test") as url:
        yield url


@pytest.fixture
def replicas(database: Path | str) -> Iterator[list[PaymentLedger]]:
    ledgers = [PaymentLedger(database) for _ in range(REPLICAS)]
    yield ledgers
    for ledger in ledgers:
        ledger.engine.dispose()


async def test_a_payment_recorded_by_one_replica_is_known_to_the_others(
    replicas: list[PaymentLedger],
) -> None:
    first, *others = replicas
    await first.record("stripe", "cs_1", "A-10240", 8990, "RUB", "telegram:42")
    await others[0].record("stripe", "cs_1", "A-99999", 1, "USD", None)  # a retry

    seen = [await ledger.get("stripe", "cs_1") for ledger in others]

    assert {(e.order_id, e.amount, e.sender_id) for e in seen if e} == {
        ("A-10240", 8990, "telegram:42")
    }
    assert all(seen)


async def test_concurrent_webhooks_on_every_replica_settle_the_payment_once(
    replicas: list[PaymentLedger], store: DemoStore, emulator_factory: Any
) -> None:
    """The provider retries, and each retry lands on another replica at the same
    moment: the order is paid and the shopper told exactly once."""
    rasa: Emulator = await emulator_factory(lambda call: {"messages": []})
    await replicas[0].record("yookassa", "pay-7", "A-10240", 8990, "RUB", "vk:7")
    settlements = [
        Settlement(ledger, store, RasaNotifier(rasa.url)) for ledger in replicas
    ]

    outcomes = await asyncio.gather(
        *(s.succeeded("yookassa", "pay-7", 8990, "RUB") for s in settlements * 3)
    )

    assert sorted(o.value for o in outcomes) == sorted(
        [Outcome.PAID.value] + [Outcome.DUPLICATE.value] * (len(outcomes) - 1)
    )
    assert [c.raw_path for c in rasa.calls] == ["/conversations/vk:7/trigger_intent"]
    order = await store.get_order("A-10240")
    assert order is not None and order.paid


async def test_concurrent_refunds_on_every_replica_never_overbook(
    replicas: list[PaymentLedger],
) -> None:
    """Refunds of one payment booked at the same time on different replicas: no
    more than the payment's amount is ever reserved."""
    await replicas[0].record("tbank", "p-1", "A-10240", 1000, "RUB", None)
    assert await replicas[1].mark_succeeded("tbank", "p-1")

    async def refund(ledger: PaymentLedger, key: str) -> int:
        try:
            entry, ask = await ledger.reserve_refund("tbank", "p-1", key, 300)
        except RefundRefused:
            return 0
        return entry.amount if ask else 0

    booked = await asyncio.gather(
        *(refund(replicas[i % REPLICAS], f"r{i}") for i in range(10))
    )

    assert sum(booked) == 900 and booked.count(300) == 3
    # A booked key again, on another replica, is the same refund, not a new one.
    key = f"r{booked.index(300)}"
    entry, ask = await replicas[3].reserve_refund("tbank", "p-1", key, 300)
    assert (entry.refund_key, entry.state, ask) == (key, "requested", True)
