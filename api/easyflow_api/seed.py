"""A demo data set: ten shopper conversations as Rasa 3.6 would publish them.

Used by `python -m easyflow_api seed-demo` (the dashboard's browser tests and
demos) and by the api tests, which assert the analytics of this exact set. The
events go through the same projector as live ingestion. Expected figures (any
base day; README "Demo data"): 10 conversations, 23 shopper messages, 4 fallback
turns, 3 handoffs (waiting, active, closed), 5 ratings averaging 3.8, 2 payment
links of which 1 paid, first replies averaging 700 ms.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from easyflow_api.core.metrics import EVENTS_INGESTED
from easyflow_api.db import Database
from easyflow_api.services.projection import Projector

TURN_GAP_S = 20.0


@dataclass
class ConversationScript:
    """Builds the event stream of one Rasa session."""

    sender_id: str
    start: float
    channel: str | None
    events: list[dict[str, Any]] = field(default_factory=list)
    clock: float = 0.0

    def __post_init__(self) -> None:
        self.clock = self.start
        self._add({"event": "action", "name": "action_session_start"}, -0.005)
        self._add({"event": "session_started"})
        self._action("action_listen", 0.002)
        self.clock += 3.0

    def _add(self, body: dict[str, Any], offset: float = 0.0) -> None:
        event = {
            "sender_id": self.sender_id,
            "timestamp": round(self.clock + offset, 3),
        }
        event.update(body)
        event.setdefault("metadata", {})
        self.events.append(event)

    def _action(self, name: str, offset: float, policy: str = "RulePolicy") -> None:
        self._add(
            {
                "event": "action",
                "name": name,
                "policy": policy,
                "confidence": 1.0,
                "action_text": None,
                "hide_rule_turn": False,
            },
            offset,
        )

    def _bot(
        self, text: str | None, utter: str | None, offset: float, custom: Any = None
    ) -> None:
        self._add(
            {
                "event": "bot",
                "metadata": {"utter_action": utter} if utter else {},
                "text": text,
                "data": {
                    "elements": None,
                    "quick_replies": None,
                    "buttons": None,
                    "attachment": None,
                    "image": None,
                    "custom": custom,
                },
            },
            offset,
        )

    def _user(
        self,
        text: str,
        intent: str,
        confidence: float,
        entities: dict[str, str] | None,
        ranking: list[tuple[str, float]] | None,
        channel: str | None,
    ) -> None:
        ents = [
            {
                "entity": k,
                "start": 0,
                "end": len(v),
                "value": v,
                "extractor": "RegexEntityExtractor",
            }
            for k, v in (entities or {}).items()
        ]
        message_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.sender_id}{self.clock}").hex
        ranked = ranking or [(intent, confidence)]
        self._add(
            {
                "event": "user",
                "text": text,
                "parse_data": {
                    "intent": {"name": intent, "confidence": confidence},
                    "entities": ents,
                    "text": text,
                    "message_id": message_id,
                    "metadata": {},
                    "intent_ranking": [{"name": n, "confidence": c} for n, c in ranked],
                },
                "input_channel": channel,
                "message_id": message_id,
            }
        )

    def turn(
        self,
        text: str,
        intent: str,
        confidence: float,
        *,
        action: str | None = None,
        reply: str | None = None,
        delay_ms: int = 500,
        slots: dict[str, Any] | None = None,
        entities: dict[str, str] | None = None,
        ranking: list[tuple[str, float]] | None = None,
    ) -> ConversationScript:
        """A shopper message, then (unless reply is None) the bot's answer."""
        self._user(text, intent, confidence, entities, ranking, self.channel)
        delay = delay_ms / 1000
        if action:
            self._action(action, delay - 0.05)
        if reply is not None:
            self._bot(
                reply, action if action and action.startswith("utter_") else None, delay
            )
        for offset, (name, value) in enumerate((slots or {}).items(), start=1):
            self._add(
                {"event": "slot", "name": name, "value": value}, delay + offset * 0.001
            )
        self._action("action_listen", delay + 0.01)
        self.clock += TURN_GAP_S
        return self

    def external(
        self,
        intent: str,
        entities: dict[str, str],
        *,
        reply: str | None,
        slots: dict[str, Any] | None = None,
        custom: Any = None,
    ) -> ConversationScript:
        """An intent triggered through Rasa's HTTP API (not a shopper message)."""
        self._user(f"/{intent}", intent, 1.0, entities, None, None)
        self._action("action_external", 0.05)
        for offset, (name, value) in enumerate((slots or {}).items(), start=1):
            self._add(
                {"event": "slot", "name": name, "value": value}, 0.06 + offset * 0.001
            )
        if reply is not None or custom is not None:
            self._bot(reply, None, 0.1, custom)
        self._action("action_listen", 0.11)
        self.clock += TURN_GAP_S
        return self

    def slot(self, name: str, value: Any) -> ConversationScript:
        self._add({"event": "slot", "name": name, "value": value})
        self.clock += 1.0
        return self


def _at(base: date, day_offset: int, hour: int, minute: int) -> float:
    moment = datetime.combine(base, time(hour, minute), tzinfo=UTC)
    return moment.timestamp() + day_offset * 86400


def demo_events(base_day: date) -> list[dict[str, Any]]:
    """The demo conversations on base_day-2, base_day-1 and base_day (UTC)."""
    c: list[ConversationScript] = []
    widget_ru = "3f2a9c1e-5b7d-4e21-9a0f-widget000001"
    # C1 — day 0, web widget, ru: order status, rated 5
    c.append(
        ConversationScript(widget_ru, _at(base_day, -2, 9, 5), "socketio")
        .turn(
            "привет",
            "greet",
            0.98,
            action="utter_greet",
            reply="Здравствуйте! Чем помочь?",
            delay_ms=400,
        )
        .turn(
            "где мой заказ A-10234",
            "order_status",
            0.93,
            action="action_order_status",
            reply="Заказ A-10234 в пути (СДЭК).",
            entities={"order_id": "A-10234"},
            slots={"order_id": "A-10234", "language": "ru"},
        )
        .slot("csat", 5)
    )
    # C2 — day 0, Telegram, ru: a return and a knowledge question (fallback)
    c.append(
        ConversationScript("512034871", _at(base_day, -2, 11, 40), "telegram")
        .turn(
            "хочу вернуть товар",
            "return_item",
            0.88,
            action="order_form",
            reply="Назовите номер заказа.",
            delay_ms=1200,
        )
        .turn(
            "48213307-0051-1",
            "inform",
            0.91,
            action="action_return_item",
            reply="Возврат по заказу 48213307-0051-1 оформлен.",
            entities={"order_id": "48213307-0051-1"},
        )
        .turn(
            "вы упаковываете подарки?",
            "nlu_fallback",
            0.3,
            action="action_llm_fallback",
            reply="Да, подарочная упаковка бесплатна. Источник: Подарочная упаковка",
            ranking=[
                ("nlu_fallback", 0.3),
                ("delivery_info", 0.27),
                ("out_of_scope", 0.2),
            ],
        )
    )
    # C3 — day 0, REST, en: pays through the link
    c.append(
        ConversationScript("shop-site-7781", _at(base_day, -2, 15, 20), "rest")
        .turn(
            "where is my order A-10240",
            "order_status",
            0.95,
            action="action_order_status",
            reply="Order A-10240 is awaiting payment.",
            delay_ms=800,
            entities={"order_id": "A-10240"},
            slots={"language": "en"},
        )
        .turn(
            "pay for order A-10240",
            "pay_order",
            0.9,
            action="action_pay_order",
            reply="Here is your payment link: http://localhost:5055/pay/1",
            entities={"order_id": "A-10240"},
            slots={"payment_link": "A-10240"},
        )
        .external(
            "EXTERNAL_payment_received",
            {"order_id": "A-10240"},
            reply="Payment for order A-10240 received. Thank you!",
        )
        .slot("csat", 4)
    )
    # C4 — day 1, web widget, ru: complaint → operator Anna → back to the bot
    c.append(
        ConversationScript(
            "8c41d2aa-0e3b-4f7a-b1c5-widget000004",
            _at(base_day, -1, 10, 15),
            "socketio",
        )
        .turn(
            "курьер нахамил",
            "complaint",
            0.85,
            action="action_complaint",
            reply="Жалоба записана. Позвать оператора?",
            delay_ms=600,
        )
        .turn(
            "позовите оператора",
            "human_handoff",
            0.97,
            action="action_handoff",
            reply="Передаю разговор оператору, он скоро подключится.",
            slots={"handoff": "requested"},
        )
        .external(
            "EXTERNAL_handoff_taken",
            {"operator": "Anna"},
            reply="К разговору подключилась оператор Anna.",
            slots={"handoff": "active"},
        )
        .turn("мне нужен возврат денег", "refund_status", 0.8, reply=None)
        .external(
            "EXTERNAL_operator_message",
            {"operator": "Anna", "operator_text": "Сейчас проверю ваш возврат."},
            reply="Сейчас проверю ваш возврат.",
        )
        .external(
            "EXTERNAL_handoff_returned",
            {},
            reply="Оператор завершил разговор, я снова с вами.",
            slots={"handoff": None},
            custom={"easyflow_handoff": "ended"},
        )
        .slot("csat", 3)
    )
    # C5 — day 1, VK, ru: gibberish (fallback), then waits for a human
    c.append(
        ConversationScript("vk-204411987", _at(base_day, -1, 13, 0), "vk")
        .turn(
            "какие способы оплаты",
            "payment_methods",
            0.92,
            action="utter_payment_methods",
            reply="Картой, СБП или при получении.",
            delay_ms=1000,
        )
        .turn(
            "asdfgh",
            "nlu_fallback",
            0.3,
            action="action_llm_fallback",
            reply="Не нашёл ответа. Позвать оператора?",
            ranking=[("nlu_fallback", 0.3), ("greet", 0.2)],
        )
        .turn(
            "позовите человека",
            "human_handoff",
            0.95,
            action="action_handoff",
            reply="Передаю разговор оператору, он скоро подключится.",
            slots={"handoff": "requested"},
        )
    )
    # C6 — day 1, REST, en: out of scope (knowledge fallback), an unpaid link
    c.append(
        ConversationScript("shop-site-9902", _at(base_day, -1, 18, 30), "rest")
        .turn(
            "hi",
            "greet",
            0.99,
            action="utter_greet",
            reply="Hello! How can I help?",
            delay_ms=500,
            slots={"language": "en"},
        )
        .turn(
            "can I pay with crypto",
            "out_of_scope",
            0.62,
            action="action_llm_fallback",
            reply="We accept cards, SBP and cash on delivery. Source: Payment methods",
        )
        .turn(
            "pay order A-10236",
            "pay_order",
            0.93,
            action="action_pay_order",
            reply="Here is your payment link: http://localhost:5055/pay/2",
            entities={"order_id": "A-10236"},
            slots={"payment_link": "A-10236"},
        )
        .slot("csat", 2)
    )
    # C7 — day 2, Telegram, en: operator Boris still talking
    c.append(
        ConversationScript("733190442", _at(base_day, 0, 8, 45), "telegram")
        .turn(
            "I want a human",
            "human_handoff",
            0.96,
            action="action_handoff",
            reply="Connecting you to an operator.",
            delay_ms=300,
            slots={"handoff": "requested", "language": "en"},
        )
        .external(
            "EXTERNAL_handoff_taken",
            {"operator": "Boris"},
            reply="Operator Boris joined the conversation.",
            slots={"handoff": "active"},
            custom={"easyflow_handoff": "active", "operator": "Boris"},
        )
    )
    # C8 — day 2, web widget, ru: a low-confidence product question
    c.append(
        ConversationScript(
            "d19e7b30-77a1-4c4e-8f00-widget000008", _at(base_day, 0, 12, 10), "socketio"
        )
        .turn(
            "есть чёрные кроссовки 42?",
            "product_availability",
            0.55,
            action="action_product_availability",
            reply="Чёрные кроссовки 42 размера есть в наличии.",
            delay_ms=700,
        )
        .turn("спасибо", "thanks", 0.99, action="utter_thanks", reply="Рада помочь!")
    )
    # C9 — day 2, WhatsApp, ru: order status by number, rated 5
    c.append(
        ConversationScript("79161234567", _at(base_day, 0, 14, 5), "whatsapp")
        .turn(
            "где мой заказ",
            "order_status",
            0.9,
            action="order_form",
            reply="Назовите номер заказа.",
            delay_ms=900,
        )
        .turn(
            "3728419056",
            "inform",
            0.88,
            action="action_order_status",
            reply="Заказ 3728419056 оплачен и собирается.",
            entities={"order_id": "3728419056"},
        )
        .slot("csat", 5)
    )
    # C10 — day 2: the widget opened a session but the shopper wrote nothing
    c.append(
        ConversationScript(
            "f0a7c3d2-1111-4b7e-9c3a-widget000010", _at(base_day, 0, 16, 0), "socketio"
        )
    )
    # C11 — day 2, the C1 shopper again in a new session: gibberish again
    c.append(
        ConversationScript(widget_ru, _at(base_day, 0, 17, 30), "socketio")
        .turn(
            "снова я, где заказ A-10234",
            "order_status",
            0.91,
            action="action_order_status",
            reply="Заказ A-10234 в пути (СДЭК).",
            delay_ms=600,
            entities={"order_id": "A-10234"},
        )
        .turn(
            "Asdfgh!",
            "nlu_fallback",
            0.3,
            action="action_llm_fallback",
            reply="Не нашёл ответа. Позвать оператора?",
            ranking=[("nlu_fallback", 0.3), ("greet", 0.15)],
        )
    )
    events = [e for script in c for e in script.events]
    events.sort(key=lambda e: e["timestamp"])
    return events


def write_rasa_sql_broker(path: Path, events: list[dict[str, Any]]) -> None:
    """Appends events to a SQLite file in Rasa's SQL event broker schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS events (id INTEGER NOT NULL PRIMARY KEY, "
            "sender_id VARCHAR(255), data TEXT)"
        )
        conn.executemany(
            "INSERT INTO events (sender_id, data) VALUES (?, ?)",
            [(e["sender_id"], json.dumps(e, ensure_ascii=False)) for e in events],
        )


def load_demo(db: Database, base_day: date, low_confidence: float) -> int:
    """Projects the demo events into the api database; returns events stored."""
    projector = Projector(low_confidence)
    stored = 0
    with db.session() as session:
        for event in demo_events(base_day):
            stored += projector.apply(session, event, "seed").stored
        session.commit()
    EVENTS_INGESTED.labels(source="seed").inc(stored)
    return stored
