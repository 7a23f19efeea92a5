"""Events exported from a real Rasa 3.6 run (the repository's e2e handoff
scenario): shopper asks for a human, operator takes over and writes, hands back."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from easyflow_api.db import Database
from easyflow_api.seed import write_rasa_sql_broker
from easyflow_api.services.ingest import SqlBrokerIngestor
from easyflow_api.services.projection import Projector

DATA = Path(__file__).parent / "data" / "rasa36_handoff_session.jsonl"


def test_real_handoff_session(
    db: Database, tmp_path: Path, client: TestClient, admin
) -> None:
    events = [json.loads(line) for line in DATA.read_text().splitlines()]
    write_rasa_sql_broker(tmp_path / "events.db", events)
    ingestor = SqlBrokerIngestor(
        db, f"sqlite:///{tmp_path / 'events.db'}", Projector(0.6)
    )
    assert ingestor.run_once() == len(events) == 35
    ingestor.close()

    overview = client.get("/api/analytics/overview", headers=admin).json()
    assert overview["conversations"] == 1
    assert overview["messages"] == 2  # the EXTERNAL_* triggers are not shopper turns
    assert overview["handoff_rate"] == 1.0 and overview["containment_rate"] == 0.0

    (handoff,) = client.get("/api/handoffs", headers=admin).json()
    assert handoff["status"] == "closed" and handoff["operator"] == "admin"
    assert handoff["channel"] == "socketio" and handoff["language"] == "ru"
    messages = client.get(f"/api/handoffs/{handoff['id']}", headers=admin).json()[
        "messages"
    ]
    assert [m["actor"] for m in messages] == [
        "user",
        "bot",
        "bot",
        "operator",
        "user",
        "bot",
    ]
    assert messages[3]["text"].startswith("Здравствуйте! Я Анна из поддержки")
    assert messages[4]["text"] == "спасибо, заказ A-10234"
