"""Every list read that shows shopper data (handoff queue, NLU inbox, low
confidence messages) writes an audit row naming the reader and what was shown,
like the single transcript reads; a refused read writes none, and a poll that
shows the reader exactly what their latest read showed writes none either."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from easyflow_api.db import Database
from easyflow_api.seed import load_demo
from tests.conftest import BASE_DAY, add_user


@pytest.fixture
def seeded(db: Database) -> Database:
    load_demo(db, BASE_DAY, 0.6)
    return db


def _audit(client: TestClient, admin: dict[str, str], action: str) -> list[dict]:
    return client.get(f"/api/audit?action={action}", headers=admin).json()


def test_handoff_list_is_audited(
    seeded: Database, client: TestClient, admin: dict[str, str]
) -> None:
    olga = add_user(client, admin, "olga", "operator")
    ann = add_user(client, admin, "ann", "analyst")
    assert client.get("/api/handoffs", headers=ann).status_code == 403
    assert _audit(client, admin, "handoff.list") == []

    every = client.get("/api/handoffs", headers=olga).json()
    waiting = client.get("/api/handoffs?status=waiting", headers=olga).json()
    assert len(every) == 3 and len(waiting) == 1
    latest, first = _audit(client, admin, "handoff.list")
    assert (first["actor"], first["target"]) == ("olga", None)
    assert first["detail"] == {"status": None, "ids": [h["id"] for h in every]}
    assert latest["detail"] == {"status": "waiting", "ids": [waiting[0]["id"]]}


def test_inbox_list_is_audited(
    seeded: Database, client: TestClient, admin: dict[str, str]
) -> None:
    ann = add_user(client, admin, "ann", "analyst")
    olga = add_user(client, admin, "olga", "operator")
    assert client.get("/api/inbox", headers=olga).status_code == 403
    assert _audit(client, admin, "inbox.list") == []

    items = client.get("/api/inbox?status=open&limit=2", headers=ann).json()
    assert len(items) == 2
    (entry,) = _audit(client, admin, "inbox.list")
    assert entry["actor"] == "ann"
    assert entry["detail"] == {"status": "open", "ids": [i["id"] for i in items]}


def test_low_confidence_list_is_audited(
    seeded: Database, client: TestClient, admin: dict[str, str]
) -> None:
    ann = add_user(client, admin, "ann", "analyst")
    rows = client.get(
        "/api/analytics/low-confidence?start=2026-03-08&channel=telegram",
        headers=ann,
    ).json()
    assert rows, "the demo data has misunderstood telegram messages"
    (entry,) = _audit(client, admin, "analytics.low_confidence")
    assert entry["actor"] == "ann"
    assert entry["detail"] == {
        "start": "2026-03-08",
        "end": None,
        "channel": "telegram",
        "conversation_ids": sorted({r["conversation_id"] for r in rows}),
    }


def test_polling_the_same_view_is_audited_once(
    seeded: Database, client: TestClient, admin: dict[str, str]
) -> None:
    """The operator console polls the queue every 2 s: one row per distinct view
    per reader, not one per poll; a changed list or another reader is a new row."""
    olga = add_user(client, admin, "olga", "operator")
    anna = add_user(client, admin, "anna", "operator")
    for _ in range(5):
        shown = client.get("/api/handoffs", headers=olga).json()
    client.get("/api/handoffs?status=waiting", headers=olga)
    client.get("/api/handoffs", headers=olga)
    client.get("/api/handoffs", headers=anna)

    rows = _audit(client, admin, "handoff.list")
    assert [(r["actor"], r["detail"]["status"]) for r in reversed(rows)] == [
        ("olga", None),
        ("olga", "waiting"),
        ("olga", None),
        ("anna", None),
    ]
    assert rows[-1]["detail"]["ids"] == [h["id"] for h in shown]
