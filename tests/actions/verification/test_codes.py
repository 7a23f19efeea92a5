"""One-time codes on both stores: SQLite (embedded default) and real Redis.

A file sender delivers them (what a test reads as the shopper's mailbox); a
clock the test moves stands in for ten minutes and an hour.
"""

from __future__ import annotations

import hmac
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from actions.integrations.base import Order, OrderState
from actions.verification.codes import (
    Asked,
    Checked,
    CodeStore,
    CodesUnavailable,
    OneTimeCodes,
    digest,
)
from actions.verification.senders import FileCodeSender
from actions.verification.stores import RedisCodeStore, SqliteCodeStore

REDIS_URL = "redis://127.0.0.1:6379/0"
EMAIL = "tanya@example.ru"


def shopify_order(number: str = "1001", email: str | None = EMAIL) -> Order:
    return Order(
        order_id=number,
        channel="shopify",
        state=OrderState.SHIPPED,
        created_at=datetime(2025, 1, 10, 9, 30),
        expected_delivery=None,
        delivered_at=None,
        total=5980,
        currency="RUB",
        paid=True,
        address="ул. Тверская, 7, Москва",
        carrier="СДЭК",
        tracking_number="1Z999AA10123456784",
        customer_email=email,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1_760_000_000.0

    def __call__(self) -> float:
        return self.now


class Mailbox:
    """The file sender's log, read as the shopper reads their mail."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def codes(self) -> list[str]:
        if not self.path.exists():
            return []
        return [json.loads(x)["code"] for x in self.path.read_text().splitlines()]

    def last(self) -> str:
        return self.codes()[-1]


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: Any, tmp_path: Path) -> AsyncIterator[CodeStore]:
    if request.param == "sqlite":
        yield SqliteCodeStore(tmp_path / "verification.sqlite")
        return
    redis_store = RedisCodeStore(
        REDIS_URL, prefix=f"easyflow:test-code:{uuid.uuid4()}:"
    )
    yield redis_store
    await redis_store.close()


@pytest.fixture
def mailbox(tmp_path: Path) -> Mailbox:
    return Mailbox(tmp_path / "codes.log")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def codes(store: CodeStore, mailbox: Mailbox, clock: Clock) -> OneTimeCodes:
    return OneTimeCodes(store, FileCodeSender(mailbox.path), clock=clock)


async def test_a_code_is_six_random_digits_sent_to_the_order_email(
    codes: OneTimeCodes, mailbox: Mailbox
) -> None:
    asked = await codes.ask(shopify_order(), "tg:1", "ru")

    assert asked.outcome is Asked.SENT and asked.masked_email == "t***@e***.ru"
    [code] = mailbox.codes()
    assert len(code) == 6 and code.isdigit()
    sent = json.loads(mailbox.path.read_text())
    assert (sent["to"], sent["order_id"], sent["ttl_minutes"]) == (EMAIL, "1001", 10)


async def test_codes_are_random(codes: OneTimeCodes, mailbox: Mailbox) -> None:
    for number in range(20):
        await codes.ask(shopify_order(f"20{number:02d}"), "tg:1", "ru")
    sent = mailbox.codes()
    assert all(len(c) == 6 and c.isdigit() for c in sent)
    assert len(set(sent)) >= 19  # one repeat in 20 draws of 10^6 is already rare


async def test_the_right_code_verifies_once(
    codes: OneTimeCodes, mailbox: Mailbox
) -> None:
    order = shopify_order()
    await codes.ask(order, "tg:1", "ru")
    code = mailbox.last()

    assert await codes.check(order, "tg:1", code) is Checked.RIGHT
    assert await codes.check(order, "tg:1", code) is Checked.NO_CODE  # used


async def test_a_code_is_accepted_with_words_around_it(
    codes: OneTimeCodes, mailbox: Mailbox
) -> None:
    order = shopify_order()
    await codes.ask(order, "tg:1", "ru")
    code = mailbox.last()
    assert await codes.check(order, "tg:1", f"код {code[:3]} {code[3:]}") is (
        Checked.RIGHT
    )


async def test_a_wrong_code_is_wrong_and_the_right_one_still_works(
    codes: OneTimeCodes, mailbox: Mailbox
) -> None:
    order = shopify_order()
    await codes.ask(order, "tg:1", "ru")
    code = mailbox.last()
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    for answer in (wrong, code[:5], code + "0", ""):
        assert await codes.check(order, "tg:1", answer) is Checked.WRONG
    assert await codes.check(order, "tg:1", code) is Checked.RIGHT


async def test_a_code_expires_after_ten_minutes(
    codes: OneTimeCodes, mailbox: Mailbox, clock: Clock
) -> None:
    order = shopify_order()
    await codes.ask(order, "tg:1", "ru")
    old = mailbox.last()
    clock.now += 601

    assert await codes.check(order, "tg:1", old) is Checked.NO_CODE
    assert (await codes.ask(order, "tg:1", "ru")).outcome is Asked.SENT
    assert await codes.check(order, "tg:1", mailbox.last()) is Checked.RIGHT


async def test_a_code_works_only_in_the_conversation_that_asked(
    codes: OneTimeCodes, mailbox: Mailbox
) -> None:
    order = shopify_order()
    await codes.ask(order, "tg:owner", "ru")
    code = mailbox.last()

    assert await codes.check(order, "tg:attacker", code) is Checked.NO_CODE
    assert await codes.check(shopify_order("1002"), "tg:owner", code) is (
        Checked.NO_CODE
    )
    assert await codes.check(order, "tg:owner", code) is Checked.RIGHT


async def test_asking_again_while_a_code_lives_sends_nothing(
    codes: OneTimeCodes, mailbox: Mailbox
) -> None:
    order = shopify_order()
    await codes.ask(order, "tg:1", "ru")
    again = await codes.ask(order, "tg:1", "ru")

    assert again.outcome is Asked.WAITING and again.masked_email == "t***@e***.ru"
    assert len(mailbox.codes()) == 1


async def test_sends_per_order_and_hour_are_limited_for_every_conversation(
    codes: OneTimeCodes, mailbox: Mailbox, clock: Clock
) -> None:
    order = shopify_order()
    for sender in ("tg:1", "tg:2", "tg:3"):
        assert (await codes.ask(order, sender, "ru")).outcome is Asked.SENT
        clock.now += 60

    assert await codes.can_ask(order, "tg:4") is False
    assert (await codes.ask(order, "tg:4", "ru")).outcome is Asked.LIMIT
    assert len(mailbox.codes()) == 3
    # The conversations with a live code still answer it; other orders are open.
    assert await codes.can_ask(order, "tg:3") is True
    assert await codes.can_ask(shopify_order("1002"), "tg:4") is True
    # Expired codes are not resent within the hour either...
    clock.now += 600
    assert (await codes.ask(order, "tg:1", "ru")).outcome is Asked.LIMIT
    # ...and an hour after the first send one goes out again.
    clock.now += 3600 - 780 + 1
    assert (await codes.ask(order, "tg:4", "ru")).outcome is Asked.SENT


async def test_the_store_holds_no_code_only_a_salted_hmac(
    tmp_path: Path, mailbox: Mailbox, clock: Clock
) -> None:
    path = tmp_path / "verification.sqlite"
    codes = OneTimeCodes(
        SqliteCodeStore(path), FileCodeSender(mailbox.path), clock=clock
    )
    for sender in ("tg:1", "tg:2"):
        await codes.ask(shopify_order(), sender, "ru")
    first, second = mailbox.codes()

    raw = path.read_bytes()
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT holder, salt, digest FROM codes").fetchall()
        sends = db.execute("SELECT order_key FROM code_sends").fetchall()
    for code in (first, second):
        assert code.encode() not in raw
    assert b"1001" not in raw and b"tg:1" not in raw and EMAIL.encode() not in raw
    assert len(rows) == 2 and len({salt for _, salt, _ in rows}) == 2
    for _, salt, kept in rows:  # each row is HMAC(salt, one of the codes sent)
        assert [c for c in (first, second) if digest(salt, c) == kept]
    assert all(k.startswith("order:") for (k,) in sends)


async def test_codes_are_compared_in_constant_time(
    codes: OneTimeCodes, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def recording(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    order = shopify_order()
    await codes.ask(order, "tg:1", "ru")

    assert await codes.check(order, "tg:1", "000000") in (Checked.WRONG, Checked.RIGHT)
    [(expected, given)] = compared
    assert len(expected) == len(given) == 64  # HMAC-SHA256 digests, not the codes


async def test_a_broken_store_fails_closed(tmp_path: Path, mailbox: Mailbox) -> None:
    (tmp_path / "broken").mkdir()  # a directory where the database should be
    codes = OneTimeCodes(
        SqliteCodeStore(tmp_path / "broken"), FileCodeSender(mailbox.path)
    )
    order = shopify_order()

    with pytest.raises(CodesUnavailable):
        await codes.can_ask(order, "tg:1")
    assert (await codes.ask(order, "tg:1", "ru")).outcome is Asked.FAILED
    assert await codes.check(order, "tg:1", "123456") is Checked.NO_CODE
    assert mailbox.codes() == []


async def test_a_failed_send_keeps_no_code(
    store: CodeStore, tmp_path: Path, clock: Clock
) -> None:
    (tmp_path / "codes.log").mkdir()  # the sender cannot write
    codes = OneTimeCodes(store, FileCodeSender(tmp_path / "codes.log"), clock=clock)

    asked = await codes.ask(shopify_order(), "tg:1", "ru")

    assert asked.outcome is Asked.FAILED
    assert await codes.check(shopify_order(), "tg:1", "123456") is Checked.NO_CODE


async def test_two_processes_share_one_sqlite_file(
    tmp_path: Path, mailbox: Mailbox, clock: Clock
) -> None:
    path = tmp_path / "verification.sqlite"
    first, second = (
        OneTimeCodes(SqliteCodeStore(path), FileCodeSender(mailbox.path), clock=clock)
        for _ in range(2)
    )
    order = shopify_order()
    await first.ask(order, "tg:1", "ru")
    assert await second.check(order, "tg:1", mailbox.last()) is Checked.RIGHT
    assert await first.check(order, "tg:1", mailbox.last()) is Checked.NO_CODE
