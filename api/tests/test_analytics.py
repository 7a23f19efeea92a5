"""Analytics of the seeded conversations, asserted exactly (README "Metrics").

The seed (easyflow_api/seed.py) holds, by hand count:
C1 socketio ru  day0: 2 turns, csat 5
C2 telegram ru  day0: 3 turns, 1 fallback (nlu_fallback)
C3 rest en      day0: 2 turns, payment link A-10240 paid, csat 4
C4 socketio ru  day1: 3 turns, handoff closed (Anna), csat 3
C5 vk ru        day1: 3 turns, 1 fallback, handoff waiting
C6 rest en      day1: 3 turns, 1 fallback (out_of_scope answered by the LLM
                      fallback), payment link A-10236 unpaid, csat 2
C7 telegram en  day2: 1 turn, handoff active (Boris)
C8 socketio ru  day2: 2 turns (one at confidence 0.55)
C9 whatsapp ru  day2: 2 turns, csat 5
C10 socketio    day2: session without messages (not counted)
C11 socketio ru day2: the C1 shopper again, 2 turns, 1 fallback
First replies: 400 1200 800 600 1000 500 300 700 900 600 ms.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from easyflow_api.db import Database
from easyflow_api.seed import ConversationScript, load_demo
from easyflow_api.services.projection import Projector
from tests.conftest import BASE_DAY

DAY0, DAY1, DAY2 = "2026-03-08", "2026-03-09", "2026-03-10"


@pytest.fixture
def seeded(db: Database) -> Database:
    assert load_demo(db, BASE_DAY, 0.6) > 100
    return db


def test_overview_all_days(seeded: Database, client: TestClient, admin) -> None:
    body = client.get(
        f"/api/analytics/overview?start={DAY0}&end={DAY2}", headers=admin
    ).json()
    assert body == {
        "conversations": 10,
        "messages": 23,
        "containment_rate": 7 / 10,
        "fallback_rate": 4 / 23,
        "handoff_rate": 3 / 10,
        "avg_turns": 23 / 10,
        "avg_first_reply_ms": 700.0,
        "csat_avg": 19 / 5,
        "csat_count": 5,
        "payment_links": 2,
        "payments_paid": 1,
        "payment_conversion": 0.5,
        "order_updates_sent": 0,
        "order_updates_opt_ins": 0,
        "order_updates_opt_outs": 0,
        "status_question_rate_before_updates": None,
        "status_question_rate_after_updates": None,
        "status_questions_prevented": None,
    }
    # no range means all time
    assert client.get("/api/analytics/overview", headers=admin).json() == body


def test_overview_filters(seeded: Database, client: TestClient, admin) -> None:
    day1 = client.get(
        f"/api/analytics/overview?start={DAY1}&end={DAY1}", headers=admin
    ).json()
    assert day1["conversations"] == 3
    assert day1["messages"] == 9
    assert day1["fallback_rate"] == 2 / 9
    assert day1["handoff_rate"] == 2 / 3
    assert day1["csat_avg"] == 2.5
    assert (day1["payment_links"], day1["payments_paid"]) == (1, 0)
    assert day1["payment_conversion"] == 0.0
    assert day1["avg_first_reply_ms"] == 700.0  # (600 + 1000 + 500) / 3

    telegram = client.get(
        "/api/analytics/overview?channel=telegram", headers=admin
    ).json()
    assert telegram["conversations"] == 2
    assert telegram["messages"] == 4
    assert telegram["fallback_rate"] == 1 / 4
    assert telegram["containment_rate"] == 0.5
    assert telegram["csat_count"] == 0 and telegram["csat_avg"] is None
    assert telegram["payment_conversion"] is None

    empty = client.get(
        "/api/analytics/overview?start=2020-01-01&end=2020-01-31", headers=admin
    ).json()
    assert empty["conversations"] == 0
    assert empty["containment_rate"] is None and empty["fallback_rate"] is None

    bad = client.get(f"/api/analytics/overview?start={DAY2}&end={DAY0}", headers=admin)
    assert bad.status_code == 422
    assert (
        client.get("/api/analytics/overview?start=yesterday", headers=admin).status_code
        == 422
    )


def test_daily(seeded: Database, client: TestClient, admin) -> None:
    rows = client.get("/api/analytics/daily", headers=admin).json()
    assert rows == [
        {"day": DAY0, "channel": "rest", "conversations": 1},
        {"day": DAY0, "channel": "socketio", "conversations": 1},
        {"day": DAY0, "channel": "telegram", "conversations": 1},
        {"day": DAY1, "channel": "rest", "conversations": 1},
        {"day": DAY1, "channel": "socketio", "conversations": 1},
        {"day": DAY1, "channel": "vk", "conversations": 1},
        {"day": DAY2, "channel": "socketio", "conversations": 2},
        {"day": DAY2, "channel": "telegram", "conversations": 1},
        {"day": DAY2, "channel": "whatsapp", "conversations": 1},
    ]


def test_intents(seeded: Database, client: TestClient, admin) -> None:
    rows = client.get("/api/analytics/intents?limit=6", headers=admin).json()
    assert [(r["intent"], r["count"]) for r in rows] == [
        ("order_status", 4),
        ("human_handoff", 3),
        ("nlu_fallback", 3),
        ("greet", 2),
        ("inform", 2),
        ("pay_order", 2),
    ]
    assert rows[0]["avg_confidence"] == pytest.approx((0.93 + 0.95 + 0.9 + 0.91) / 4)
    everything = client.get("/api/analytics/intents?limit=100", headers=admin).json()
    assert sum(r["count"] for r in everything) == 23
    assert not any(r["intent"].startswith("EXTERNAL_") for r in everything)


def test_low_confidence(seeded: Database, client: TestClient, admin) -> None:
    rows = client.get("/api/analytics/low-confidence", headers=admin).json()
    assert [(r["text"], r["fallback"]) for r in rows] == [
        ("Asdfgh!", True),
        ("есть чёрные кроссовки 42?", False),
        ("can I pay with crypto", True),
        ("asdfgh", True),
        ("вы упаковываете подарки?", True),
    ]
    assert rows[1]["confidence"] == 0.55 and rows[1]["intent"] == "product_availability"
    assert rows[0]["timestamp"].startswith(DAY2 + "T17:30")
    limited = client.get("/api/analytics/low-confidence?limit=2", headers=admin)
    assert len(limited.json()) == 2


def test_export_csv(seeded: Database, client: TestClient, admin) -> None:
    response = client.get(f"/api/analytics/export.csv?start={DAY1}", headers=admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["day"], r["channel"]) for r in rows] == [
        (DAY1, "rest"),
        (DAY1, "socketio"),
        (DAY1, "vk"),
        (DAY2, "socketio"),
        (DAY2, "telegram"),
        (DAY2, "whatsapp"),
    ]
    vk = rows[2]
    assert vk == {
        "day": DAY1,
        "channel": "vk",
        "conversations": "1",
        "messages": "3",
        "fallback_turns": "1",
        "handoffs": "1",
        "containment_rate": "0.0000",
        "fallback_rate": "0.3333",
        "csat_avg": "",
        "csat_count": "0",
        "payment_links": "0",
        "payments_paid": "0",
    }
    assert rows[0]["payment_links"] == "1" and rows[0]["csat_avg"] == "2.00"


def test_conversation_list_and_filters(
    seeded: Database, client: TestClient, admin
) -> None:
    page = client.get("/api/conversations?limit=3", headers=admin).json()
    assert page["total"] == 10
    assert len(page["items"]) == 3
    newest = page["items"][0]
    assert newest["channel"] == "socketio" and newest["turns"] == 2
    assert newest["sender_id"] == "3f2a9c1e-5b7d-4e21-9a0f-widget000001"

    by_text = client.get("/api/conversations?q=ГДЕ МОЙ ЗАКАЗ", headers=admin).json()
    assert by_text["total"] == 2  # C1 and C9 ("где мой заказ ...")
    assert {i["channel"] for i in by_text["items"]} == {"socketio", "whatsapp"}
    assert client.get("/api/conversations?q=100%", headers=admin).json()["total"] == 0

    handoffs = [
        c
        for c in client.get("/api/conversations?limit=50", headers=admin).json()[
            "items"
        ]
        if c["handoff"]
    ]
    assert len(handoffs) == 3
    assert (
        client.get(f"/api/conversations?start={DAY1}&end={DAY1}", headers=admin).json()[
            "total"
        ]
        == 3
    )


def test_tags_review_and_audit(seeded: Database, client: TestClient, admin) -> None:
    first = client.get("/api/conversations?limit=1", headers=admin).json()["items"][0]
    cid = first["id"]
    assert client.post(
        f"/api/conversations/{cid}/tags", headers=admin, json={"tag": "bug"}
    ).json()["tags"] == ["bug"]
    client.post(f"/api/conversations/{cid}/tags", headers=admin, json={"tag": "bug"})
    client.post(f"/api/conversations/{cid}/tags", headers=admin, json={"tag": "vip"})
    reviewed = client.post(
        f"/api/conversations/{cid}/review", headers=admin, json={"reviewed": True}
    ).json()
    assert reviewed["reviewed"] is True and reviewed["tags"] == ["bug", "vip"]
    assert client.get("/api/conversations?tag=bug", headers=admin).json()["total"] == 1
    assert (
        client.get("/api/conversations?reviewed=true", headers=admin).json()["total"]
        == 1
    )
    assert (
        client.get("/api/conversations?reviewed=false", headers=admin).json()["total"]
        == 9
    )
    removed = client.delete(f"/api/conversations/{cid}/tags/bug", headers=admin)
    assert removed.json()["tags"] == ["vip"]
    assert (
        client.delete(f"/api/conversations/{cid}/tags/bug", headers=admin).status_code
        == 404
    )
    assert client.get("/api/conversations/999999", headers=admin).status_code == 404
    actions = [a["action"] for a in client.get("/api/audit", headers=admin).json()]
    assert actions[:4] == [
        "conversation.untag",
        "conversation.review",
        "conversation.tag",
        "conversation.tag",
    ]


def test_transcript(seeded: Database, client: TestClient, admin) -> None:
    items = client.get("/api/conversations?channel=socketio", headers=admin).json()
    c4 = next(i for i in items["items"] if i["csat"] == 3)
    detail = client.get(f"/api/conversations/{c4['id']}", headers=admin).json()
    said = [(e["actor"], e["text"]) for e in detail["events"] if e["text"]]
    assert said == [
        ("user", "курьер нахамил"),
        ("bot", "Жалоба записана. Позвать оператора?"),
        ("user", "позовите оператора"),
        ("bot", "Передаю разговор оператору, он скоро подключится."),
        ("bot", "К разговору подключилась оператор Anna."),
        ("user", "мне нужен возврат денег"),
        ("operator", "Сейчас проверю ваш возврат."),  # its bot echo is hidden
        ("bot", "Оператор завершил разговор, я снова с вами."),
    ]
    first = detail["events"][0]
    assert first["actor"] == "user" and first["intent"] == "complaint"
    assert first["confidence"] == 0.85
    assert any(
        e["actor"] == "action" and e["action"] == "action_handoff"
        for e in detail["events"]
    )


def test_inbox_label_dismiss_export(
    seeded: Database, client: TestClient, admin
) -> None:
    import yaml

    items = client.get("/api/inbox?status=open", headers=admin).json()
    assert sorted((i["text"], i["occurrences"]) for i in items) == [
        ("asdfgh", 2),  # "Asdfgh!" in C11 is the same normalised text
        ("вы упаковываете подарки?", 1),
        ("есть чёрные кроссовки 42?", 1),
    ]
    gift = next(i for i in items if i["text"].startswith("вы"))
    assert gift["predicted_intent"] == "delivery_info" and gift["language"] == "ru"
    shoes = next(i for i in items if i["text"].startswith("есть"))
    gibberish = next(i for i in items if i["text"] == "asdfgh")

    assert (
        client.get("/api/inbox/export", headers=admin).text
        == 'version: "3.1"\nnlu: []\n'
    )
    labelled = client.post(
        f"/api/inbox/{gift['id']}/label",
        headers=admin,
        json={"intent": "delivery_info"},
    ).json()
    assert labelled["status"] == "labelled" and labelled["label"] == "delivery_info"
    client.post(
        f"/api/inbox/{shoes['id']}/label",
        headers=admin,
        json={"intent": "product_availability"},
    )
    dismissed = client.post(f"/api/inbox/{gibberish['id']}/dismiss", headers=admin)
    assert dismissed.json()["status"] == "dismissed"
    bad = client.post(
        f"/api/inbox/{shoes['id']}/label", headers=admin, json={"intent": "two words"}
    )
    assert bad.status_code == 422

    export = client.get("/api/inbox/export", headers=admin)
    assert export.headers["content-type"].startswith("text/yaml")
    assert export.text == (
        'version: "3.1"\n'
        "nlu:\n"
        "- intent: delivery_info\n"
        "  examples: |\n"
        "    - вы упаковываете подарки?\n"
        "- intent: product_availability\n"
        "  examples: |\n"
        "    - есть чёрные кроссовки 42?\n"
    )
    parsed = yaml.safe_load(export.text)
    assert parsed["nlu"][0]["examples"] == "- вы упаковываете подарки?\n"
    assert [
        i["status"] for i in client.get("/api/inbox?status=open", headers=admin).json()
    ] == []
    assert len(client.get("/api/inbox?status=labelled", headers=admin).json()) == 2

    intents = client.get("/api/intents", headers=admin).json()
    assert "order_status" in intents and "human_handoff" in intents
    assert "nlu_fallback" not in intents
    assert not any(i.startswith("EXTERNAL_") for i in intents)


def _order_updates_conversation(sender: str, start: float, channel: str) -> list:
    """A shopper follows an order, hears of two changes, then says «стоп»; the
    second update arrives a day later, in a session the shopper never writes in."""
    first = ConversationScript(sender, start, channel)
    first.turn("где мой заказ A-10234", "order_status", 0.98, reply="…")
    first.turn("да", "affirm", 0.99, action="utter_order_updates_on", reply="Хорошо")
    first.external(
        "EXTERNAL_order_status_changed",
        {"order_id": "A-10234", "order_state": "shipped"},
        reply="Заказ A-10234 в пути",
    )
    first.turn("стоп", "deny", 0.97, action="action_stop_order_updates", reply="Ок")
    later = ConversationScript(sender, start + 86400, channel)
    later.external(
        "EXTERNAL_order_status_changed",
        {"order_id": "A-10234", "order_state": "delivered"},
        reply="Заказ A-10234 доставлен",
    )
    events = first.events + later.events
    for event in events:  # Rasa names the output channel as the trigger's input
        if event["event"] == "user" and event["text"].startswith("/EXTERNAL_"):
            event["input_channel"] = channel
    return events


def test_order_updates_are_counted_by_the_day_they_happened(
    seeded: Database, client: TestClient, admin
) -> None:
    start = datetime.fromisoformat(f"{DAY0}T15:00:00+00:00").timestamp()
    projector = Projector(0.6)
    with seeded.session() as session:
        for event in _order_updates_conversation("telegram:77", start, "telegram"):
            projector.apply(session, event, "test")
        session.commit()

    def figures(query: str) -> tuple[int, int, int]:
        body = client.get(f"/api/analytics/overview?{query}", headers=admin).json()
        return (
            body["order_updates_sent"],
            body["order_updates_opt_ins"],
            body["order_updates_opt_outs"],
        )

    assert figures(f"start={DAY0}&end={DAY2}") == (2, 1, 1)
    assert figures(f"start={DAY0}&end={DAY0}") == (1, 1, 1)
    assert figures(f"start={DAY1}&end={DAY1}") == (1, 0, 0)  # no shopper message
    assert figures(f"start={DAY0}&end={DAY2}&channel=telegram") == (2, 1, 1)
    assert figures(f"start={DAY0}&end={DAY2}&channel=vk") == (0, 0, 0)


def test_status_questions_before_and_after_updates_estimate_what_was_prevented(
    db: Database, client: TestClient, admin
) -> None:
    day = 86400
    start = datetime.fromisoformat(f"{DAY0}T09:00:00+00:00").timestamp()
    scripts = []
    # Before the first update: two conversations, both ask where the order is.
    for offset in (0, 2 * 3600):
        asked = ConversationScript("telegram:81", start + offset, "telegram")
        asked.turn("где мой заказ A-10234", "order_status", 0.98, reply="…")
        scripts.append(asked)
    told = ConversationScript("telegram:81", start + 3 * 3600, "telegram")
    told.turn("да", "affirm", 0.99, action="utter_order_updates_on", reply="Хорошо")
    told.external(
        "EXTERNAL_order_status_changed",
        {"order_id": "A-10234", "order_state": "shipped"},
        reply="Заказ A-10234 в пути",
    )
    scripts.append(told)
    # After it: four conversations, one still asks.
    for offset, (text, intent) in enumerate(
        [
            ("где заказ?", "order_status"),
            ("спасибо", "thanks"),
            ("как вернуть", "return_item"),
            ("привет", "greet"),
        ],
        start=1,
    ):
        later = ConversationScript("telegram:81", start + offset * day, "telegram")
        later.turn(text, intent, 0.97, reply="…")
        scripts.append(later)
    # A shopper never told of an update counts on neither side.
    other = ConversationScript("telegram:82", start, "telegram")
    other.turn("где мой заказ", "order_status", 0.98, reply="…")
    scripts.append(other)
    projector = Projector(0.6)
    with db.session() as session:
        for script in scripts:
            for event in script.events:
                projector.apply(session, event, "test")
        session.commit()

    body = client.get(
        f"/api/analytics/overview?start={DAY0}&end=2026-03-20", headers=admin
    ).json()

    # Before: 2 of 3 asked (the conversation with the update began before it).
    assert body["status_question_rate_before_updates"] == 2 / 3
    assert body["status_question_rate_after_updates"] == 1 / 4
    assert body["status_questions_prevented"] == round((2 / 3 - 1 / 4) * 4)
    # No update in the period: nothing to compare.
    empty = client.get(
        "/api/analytics/overview?start=2026-04-01&end=2026-04-02", headers=admin
    ).json()
    assert empty["status_question_rate_before_updates"] is None
    assert empty["status_questions_prevented"] is None
