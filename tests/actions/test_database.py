"""Tables of an earlier release brought up to date at start (``add_missing_columns``)
on the embedded default's SQLite and the production profile's PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect

from actions.proactive.notifier import RasaNotifier
from actions.proactive.queue import SENT, NoticeQueue
from tests.databases import fresh_postgres
from tests.emulators import Emulator

# The notices table as the first release created it (before order updates).
FIRST_RELEASE = """CREATE TABLE notices (
    id {id_type} PRIMARY KEY, sender_id TEXT NOT NULL, order_id TEXT NOT NULL,
    state TEXT NOT NULL, attempts INTEGER NOT NULL, next_at FLOAT NOT NULL,
    last_error TEXT, created_at TEXT NOT NULL)"""
OLD_ROW = (
    "INSERT INTO notices (id, sender_id, order_id, state, attempts, next_at,"
    " last_error, created_at) VALUES (7, 'telegram:42', 'A-10240', 'pending', 1,"
    " 0, 'Rasa did not take the notice', '2026-12-05T10:00:00')"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'notices.sqlite'}"
        return
    with fresh_postgres("easyflow_migrate_test") as url:
        yield url


@pytest.fixture
async def rasa(emulator_factory: Any) -> Emulator:
    return await emulator_factory(lambda call: {"tracker": {}, "messages": []})


def _target(url: str) -> Path | str:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite") else url


async def test_a_first_release_queue_is_upgraded_and_its_notice_still_goes_out(
    database: str, rasa: Emulator
) -> None:
    old = create_engine(database)
    with old.begin() as db:
        id_type = "SERIAL" if old.dialect.name == "postgresql" else "INTEGER"
        db.exec_driver_sql(FIRST_RELEASE.format(id_type=id_type))
        db.exec_driver_sql(OLD_ROW)
    old.dispose()
    # Two processes start on the old table at once (a worker and a replica).
    replicas = [NoticeQueue(_target(database), RasaNotifier(rasa.url))]
    replicas.append(NoticeQueue(_target(database), RasaNotifier(rasa.url)))
    await asyncio.gather(*(asyncio.to_thread(lambda q=q: q.engine) for q in replicas))

    columns = {c["name"] for c in inspect(replicas[0].engine).get_columns("notices")}
    assert {"intent", "entities", "dedupe"} <= columns
    indexes = {i["name"] for i in inspect(replicas[0].engine).get_indexes("notices")}
    assert "notices_dedupe" in indexes
    # The old payment notice is read as one, and goes out as one.
    assert await replicas[0].retry_due() == 1
    notice = await replicas[1].get(7)
    assert notice is not None and notice.state == SENT
    assert notice.intent == "EXTERNAL_payment_received"
    assert notice.entities == {"order_id": "A-10240"}
    [call] = [c for c in rasa.calls if c.raw_path.endswith("/trigger_intent")]
    assert call.json == {
        "name": "EXTERNAL_payment_received",
        "entities": {"order_id": "A-10240"},
    }
    # New notices keep their dedupe key on the upgraded table.
    assert await replicas[1].notify("vk:1", "X", {"order_id": "1"}, dedupe="k")
    assert not await replicas[0].notify("vk:1", "X", {"order_id": "1"}, dedupe="k")
    for queue in replicas:
        await queue.notifier.close()
        queue.engine.dispose()
