"""The e-mail code of order privacy in real conversations: a Shopify shop on
loopback (orders with an e-mail, no phone), the real action server with the file
sender, the trained agent. The shopper's mailbox is ``codes.log``.

Needs the trained model (``make train``). Each test starts its own emulator,
action server and agent (~20 s to load).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.actions.integrations.shopify_store import ShopifyStore, fulfilment, order
from tests.emulators import Emulator
from tests.servers import action_server, agent_for, say

Factory = Callable[[Any], Awaitable[Emulator]]
TOKEN = "shpat_e2e_codes"
EMAIL = "anna.petrova@example.ru"
DETAILS = "Заказ 1001 в пути (СДЭК, трек-номер 1Z999AA10123456784)"


async def _shop(factory: Factory) -> dict[str, str]:
    store = ShopifyStore(token=TOKEN)
    store.add(
        order(1001, fulfillment="FULFILLED", fulfillments=[fulfilment()], email=EMAIL)
    )
    store.add(order(1002, email="john.smith@example.com"))
    emulator = await factory(store)
    return {
        "EASYFLOW_ORDER_SOURCES": "shopify",
        "SHOPIFY_SHOP_URL": emulator.url,
        "SHOPIFY_ACCESS_TOKEN": TOKEN,
    }


def _mailbox(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "codes.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def test_the_owner_reads_the_code_from_the_mail_and_sees_the_details(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    env = await _shop(emulator_factory)
    with action_server(tmp_path, env=env) as url:
        agent = await asyncio.to_thread(agent_for, url)
        await say(agent, "owner", "где мой заказ")
        asked = await say(agent, "owner", "#1001")
        [mail] = _mailbox(tmp_path)
        human = await say(agent, "owner", "а если письмо не придёт?")
        wrong = await say(agent, "owner", _wrong(mail["code"]))
        right = await say(agent, "owner", mail["code"])
        english = await say(agent, "john", "where is my order #1002")
        john = _mailbox(tmp_path)[-1]
        johns = await say(agent, "john", john["code"])
    assert "a***@e***.ru" in asked and "код" in asked, asked
    assert EMAIL not in asked and "1Z999AA10123456784" not in asked
    assert (mail["to"], mail["order_id"], mail["language"]) == (EMAIL, "1001", "ru")
    # Words are not an answer: their intent is answered, the question repeated,
    # and no second letter is sent.
    assert "не подходит" not in human and "Напишите 6-значный код" in human, human
    assert "Код не подходит" in wrong and "1Z999AA10123456784" not in wrong, wrong
    assert DETAILS in right, right
    assert "j***@e***.com" in english and john["language"] == "en", english
    assert "Order 1002 is paid and being packed" in johns, johns
    assert len(_mailbox(tmp_path)) == 2
    log = (tmp_path / "actions.log").read_text()
    assert EMAIL not in log and mail["code"] not in log
    assert "privacy.code_sent" in log


async def test_wrong_codes_lock_the_order_for_the_attackers_next_sender_id(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    env = await _shop(emulator_factory)
    with action_server(tmp_path, env=env) as url:
        agent = await asyncio.to_thread(agent_for, url)
        await say(agent, "attacker-1", "где мой заказ")
        await say(agent, "attacker-1", "#1001")
        first = _mailbox(tmp_path)[-1]["code"]
        answers = [await say(agent, "attacker-1", _wrong(first)) for _ in range(3)]
        await say(agent, "attacker-2", "где мой заказ")
        await say(agent, "attacker-2", "#1001")
        second = _mailbox(tmp_path)[-1]["code"]
        fourth = await say(agent, "attacker-2", _wrong(second))
        fifth = await say(agent, "attacker-2", _wrong(second))
        again = await say(agent, "attacker-2", "где мой заказ #1001")
        third_id = await say(agent, "attacker-3", "где мой заказ #1001")
    assert all("Код не подходит" in a for a in answers), answers
    assert "Не получилось подтвердить" in answers[-1], answers[-1]  # form over
    assert "Код не подходит" in fourth, fourth
    assert "Слишком много неверных попыток" in fifth, fifth
    for reply in (again, third_id):
        assert "Заказ 1001 в пути." in reply, reply
        assert "Слишком много неверных попыток" in reply, reply
        assert "1Z999AA10123456784" not in reply and "код" not in reply.lower()
    assert len(_mailbox(tmp_path)) == 2  # nothing sent once locked
