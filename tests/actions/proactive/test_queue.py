"""Payment notices kept until Rasa takes them (real SQLite, Rasa emulator)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from actions.integrations.demo_store import DemoStore
from actions.payments.ledger import PaymentLedger
from actions.payments.settlement import Outcome, Settlement
from actions.proactive.notifier import RasaNotifier
from actions.proactive.queue import FAILED, PENDING, SENT, NoticeQueue
from tests.emulators import Emulator

TOLD = "/conversations/telegram:42/trigger_intent"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def rasa(emulator_factory: Any) -> Emulator:
    return await emulator_factory(lambda call: {"tracker": {}, "messages": []})


def rasa_down(rasa: Emulator, answers: int = 3) -> None:
    """Rasa answers 503 (no wait) to the notifier's next ``answers`` tries."""
    for _ in range(answers):
        rasa.fail_next(503, {"message": "loading"}, {"Retry-After": "0"})


def queue_at(path: Path, rasa: Emulator, clock: Clock, **kwargs: Any) -> NoticeQueue:
    return NoticeQueue(path, RasaNotifier(rasa.url), clock=clock, **kwargs)


def told(rasa: Emulator) -> int:
    """Notices Rasa took (the 503s it was scripted to give do not count)."""
    refused = rasa.refused - len(rasa.scripted)  # type: ignore[attr-defined]
    return sum(1 for c in rasa.calls if c.raw_path == TOLD) - refused


@pytest.fixture(autouse=True)
def count_refusals(rasa: Emulator) -> None:
    rasa.refused = 0  # type: ignore[attr-defined]
    original = rasa.fail_next

    def fail_next(*args: Any) -> None:
        rasa.refused += 1  # type: ignore[attr-defined]
        original(*args)

    rasa.fail_next = fail_next  # type: ignore[method-assign]


async def test_a_notice_rasa_refused_goes_out_when_rasa_is_back(
    tmp_path: Path, rasa: Emulator
) -> None:
    clock = Clock()
    queue = queue_at(tmp_path / "notices.sqlite", rasa, clock, first_delay_s=5)
    rasa_down(rasa)

    assert not await queue.payment_received("telegram:42", "A-10240")
    assert await queue.retry_due() == 0  # not due yet: backoff
    clock.now += 5
    assert await queue.retry_due() == 1
    assert await queue.retry_due() == 0  # sent once, not again

    notice = await queue.get(1)
    assert notice is not None and (notice.state, notice.attempts) == (SENT, 2)
    assert told(rasa) == 1


async def test_a_restarted_action_server_sends_what_was_left(
    tmp_path: Path, rasa: Emulator
) -> None:
    clock = Clock()
    path = tmp_path / "notices.sqlite"
    rasa_down(rasa)
    assert not await queue_at(path, rasa, clock).payment_received("telegram:42", "A-1")

    clock.now += 3600
    restarted = queue_at(path, rasa, clock)
    assert await restarted.retry_due() == 1
    assert told(rasa) == 1


async def test_after_the_last_try_the_notice_is_kept_as_failed_with_the_reason(
    tmp_path: Path, rasa: Emulator
) -> None:
    clock = Clock()
    queue = queue_at(tmp_path / "n.sqlite", rasa, clock, max_attempts=3)
    rasa_down(rasa, answers=9)

    await queue.payment_received("telegram:42", "A-10240")
    for _ in range(5):
        clock.now += 3600
        await queue.retry_due()

    (failed,) = await queue.failed()
    assert (failed.state, failed.attempts, failed.order_id) == (FAILED, 3, "A-10240")
    assert failed.last_error
    assert told(rasa) == 0


async def test_replicas_retrying_together_send_a_notice_once(
    tmp_path: Path, rasa: Emulator
) -> None:
    clock = Clock()
    path = tmp_path / "shared.sqlite"
    replicas = [queue_at(path, rasa, clock) for _ in range(4)]
    rasa_down(rasa)
    await replicas[0].payment_received("telegram:42", "A-10240")
    clock.now += 60

    sent = await asyncio.gather(*(r.retry_due() for r in replicas))

    assert sum(sent) == 1 and told(rasa) == 1
    notice = await replicas[3].get(1)
    assert notice is not None and notice.state == SENT


async def test_settlement_pays_the_order_even_while_rasa_is_down(
    tmp_path: Path, rasa: Emulator, store: DemoStore
) -> None:
    ledger = PaymentLedger(tmp_path / "ledger.sqlite")
    await ledger.record("yookassa", "pay-9", "A-10240", 8990, "RUB", "telegram:42")
    queue = queue_at(tmp_path / "n.sqlite", rasa, Clock())
    rasa_down(rasa)

    outcome = await Settlement(ledger, store, queue).succeeded(
        "yookassa", "pay-9", 8990, "RUB"
    )

    assert outcome is Outcome.PAID
    order = await store.get_order("A-10240")
    assert order is not None and order.paid
    notice = await queue.get(1)
    assert notice is not None and notice.state == PENDING


async def test_a_failed_notice_tried_again_on_request_goes_out_once(
    tmp_path: Path, rasa: Emulator
) -> None:
    clock = Clock()
    queue = queue_at(tmp_path / "n.sqlite", rasa, clock, max_attempts=1)
    rasa_down(rasa)
    await queue.payment_received("telegram:42", "A-10240")
    (failed,) = await queue.failed()

    assert await queue.requeue(failed.id) is True
    assert await queue.requeue(failed.id) is None  # sent: nothing to try again
    assert await queue.requeue(999) is None
    assert await queue.failed() == [] and told(rasa) == 1
