"""Analytics over the projected conversations (definitions in api/README.md).

Every figure is computed over *counted conversations*: Rasa sessions with at
least one shopper message, whose start day (UTC) lies in [start, end], optionally
of one channel. Rates are exact ratios (not rounded); a rate whose denominator is
zero is null.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from easyflow_api.core.csvsafe import write_csv
from easyflow_api.core.times import iso_required
from easyflow_api.models import Conversation, Event, Payment

UNKNOWN_CHANNEL = "unknown"
# Order updates (actions/orders/updates.py): what marks each in Rasa's events.
UPDATE_TOLD = "EXTERNAL_order_status_changed"  # user event (trigger_intent)
UPDATE_OPT_IN = "utter_order_updates_on"  # bot event after "да"
UPDATE_OPT_OUT = "action_stop_order_updates"  # action event
STATUS_QUESTION = "order_status"  # "where is my order"


@dataclass(frozen=True)
class Filters:
    start: date | None = None
    end: date | None = None
    channel: str | None = None


def conversation_conditions(filters: Filters) -> list:  # type: ignore[type-arg]
    conditions = [Conversation.turns > 0]
    if filters.start:
        conditions.append(Conversation.day >= filters.start.isoformat())
    if filters.end:
        conditions.append(Conversation.day <= filters.end.isoformat())
    if filters.channel:
        if filters.channel == UNKNOWN_CHANNEL:
            conditions.append(Conversation.channel.is_(None))
        else:
            conditions.append(Conversation.channel == filters.channel)
    return conditions


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def overview(session: Session, filters: Filters) -> dict[str, object]:
    where = and_(*conversation_conditions(filters))
    row = session.execute(
        select(
            func.count(Conversation.id),
            func.coalesce(func.sum(Conversation.turns), 0),
            func.coalesce(func.sum(Conversation.fallbacks), 0),
            func.coalesce(func.sum(case((Conversation.handoff, 1), else_=0)), 0),
            func.avg(Conversation.first_reply_ms),
            func.avg(Conversation.csat),
            func.count(Conversation.csat),
        ).where(where)
    ).one()
    conversations, turns, fallbacks, handoffs, reply_ms, csat_avg, csat_count = row
    conversations, turns = int(conversations), int(turns)
    links, paid = session.execute(
        select(func.count(Payment.id), func.count(Payment.paid_at))
        .join(Conversation, Conversation.id == Payment.conversation_id)
        .where(where)
    ).one()
    return {
        "conversations": conversations,
        "messages": turns,
        "containment_rate": _ratio(conversations - int(handoffs), conversations),
        "fallback_rate": _ratio(int(fallbacks), turns),
        "handoff_rate": _ratio(int(handoffs), conversations),
        "avg_turns": _ratio(turns, conversations),
        "avg_first_reply_ms": _float(reply_ms),
        "csat_avg": _float(csat_avg),
        "csat_count": int(csat_count),
        "payment_links": int(links),
        "payments_paid": int(paid),
        "payment_conversion": _ratio(int(paid), int(links)),
        **order_updates(session, filters),
        **status_questions(session, filters),
    }


def _day_start(day: date) -> float:
    return datetime.combine(day, time(0), tzinfo=UTC).timestamp()


def order_updates(session: Session, filters: Filters) -> dict[str, int]:
    """Order updates told, opt-ins and opt-outs, counted by the day (UTC) each
    happened: an update may open a session the shopper never writes in."""
    conditions = []
    if filters.start:
        conditions.append(Event.timestamp >= _day_start(filters.start))
    if filters.end:
        conditions.append(Event.timestamp < _day_start(filters.end + timedelta(1)))
    # A session holding only an update has no shopper channel: the update's own.
    channel = func.coalesce(Conversation.channel, Event.channel)
    if filters.channel:
        if filters.channel == UNKNOWN_CHANNEL:
            conditions.append(channel.is_(None))
        else:
            conditions.append(channel == filters.channel)

    def count(*where: object) -> int:
        return int(
            session.scalar(
                select(func.count(Event.id))
                .join(Conversation, Conversation.id == Event.conversation_id)
                .where(*conditions, *where)
            )
            or 0
        )

    return {
        "order_updates_sent": count(Event.kind == "user", Event.intent == UPDATE_TOLD),
        "order_updates_opt_ins": count(
            Event.kind == "bot", Event.action == UPDATE_OPT_IN
        ),
        "order_updates_opt_outs": count(
            Event.kind == "action", Event.action == UPDATE_OPT_OUT
        ),
    }


def status_questions(session: Session, filters: Filters) -> dict[str, object]:
    """Did order updates spare shoppers the "where is my order" question?

    For every shopper told of an order update in the period (by the day it was
    told, as ``order_updates``), their conversations with a shopper message are
    split at the first update: started before it, or after. The rates are the
    share of each that asked about an order's status; ``prevented`` estimates
    the questions the updates saved: (rate before - rate after) x conversations
    after, rounded, never below zero. Null while either side has none."""
    conditions = [Event.kind == "user", Event.intent == UPDATE_TOLD]
    if filters.start:
        conditions.append(Event.timestamp >= _day_start(filters.start))
    if filters.end:
        conditions.append(Event.timestamp < _day_start(filters.end + timedelta(1)))
    if filters.channel and filters.channel != UNKNOWN_CHANNEL:
        conditions.append(Event.channel == filters.channel)
    first_update = dict(
        session.execute(
            select(Event.sender_id, func.min(Event.timestamp))
            .where(*conditions)
            .group_by(Event.sender_id)
        ).all()
    )
    before = after = asked_before = asked_after = 0
    if first_update:
        asked = (
            select(Event.id)
            .where(
                Event.conversation_id == Conversation.id,
                Event.kind == "user",
                Event.intent == STATUS_QUESTION,
            )
            .exists()
        )
        rows = session.execute(
            select(Conversation.sender_id, Conversation.started_at, asked).where(
                Conversation.sender_id.in_(list(first_update)), Conversation.turns > 0
            )
        ).all()
        for sender_id, started_at, did_ask in rows:
            if started_at < first_update[sender_id]:
                before, asked_before = before + 1, asked_before + int(did_ask)
            else:
                after, asked_after = after + 1, asked_after + int(did_ask)
    rate_before = _ratio(asked_before, before)
    rate_after = _ratio(asked_after, after)
    prevented = None
    if rate_before is not None and rate_after is not None:
        prevented = max(0, round((rate_before - rate_after) * after))
    return {
        "status_question_rate_before_updates": rate_before,
        "status_question_rate_after_updates": rate_after,
        "status_questions_prevented": prevented,
    }


def daily(session: Session, filters: Filters) -> list[dict[str, object]]:
    channel = func.coalesce(Conversation.channel, UNKNOWN_CHANNEL)
    rows = session.execute(
        select(Conversation.day, channel, func.count(Conversation.id))
        .where(*conversation_conditions(filters))
        .group_by(Conversation.day, channel)
        .order_by(Conversation.day, channel)
    ).all()
    return [{"day": d, "channel": c, "conversations": int(n)} for d, c, n in rows]


def _turns(filters: Filters) -> Select:  # type: ignore[type-arg]
    return (
        select(Event)
        .join(Conversation, Conversation.id == Event.conversation_id)
        .where(Event.actor == "user", *conversation_conditions(filters))
    )


def intents(session: Session, filters: Filters, limit: int) -> list[dict[str, object]]:
    count = func.count(Event.id)
    rows = session.execute(
        select(Event.intent, count, func.avg(Event.confidence))
        .join(Conversation, Conversation.id == Event.conversation_id)
        .where(
            Event.actor == "user",
            Event.intent.is_not(None),
            *conversation_conditions(filters),
        )
        .group_by(Event.intent)
        .order_by(count.desc(), Event.intent)
        .limit(limit)
    ).all()
    return [
        {"intent": name, "count": int(n), "avg_confidence": _float(avg)}
        for name, n, avg in rows
    ]


def low_confidence(
    session: Session, filters: Filters, threshold: float, limit: int
) -> list[dict[str, object]]:
    rows = session.scalars(
        _turns(filters)
        .where(or_(Event.fallback.is_(True), Event.confidence < threshold))
        .order_by(Event.timestamp.desc(), Event.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "conversation_id": e.conversation_id,
            "text": e.text,
            "intent": e.intent,
            "confidence": e.confidence,
            "timestamp": iso_required(e.timestamp),
            "fallback": e.fallback,
        }
        for e in rows
    ]


CSV_COLUMNS = (
    "day",
    "channel",
    "conversations",
    "messages",
    "fallback_turns",
    "handoffs",
    "containment_rate",
    "fallback_rate",
    "csat_avg",
    "csat_count",
    "payment_links",
    "payments_paid",
)


def export_csv(session: Session, filters: Filters) -> str:
    channel = func.coalesce(Conversation.channel, UNKNOWN_CHANNEL)
    conditions = conversation_conditions(filters)
    rows = session.execute(
        select(
            Conversation.day,
            channel,
            func.count(Conversation.id),
            func.sum(Conversation.turns),
            func.sum(Conversation.fallbacks),
            func.sum(case((Conversation.handoff, 1), else_=0)),
            func.avg(Conversation.csat),
            func.count(Conversation.csat),
        )
        .where(*conditions)
        .group_by(Conversation.day, channel)
        .order_by(Conversation.day, channel)
    ).all()
    payments = {
        (d, c): (int(links), int(paid))
        for d, c, links, paid in session.execute(
            select(
                Conversation.day,
                channel,
                func.count(Payment.id),
                func.count(Payment.paid_at),
            )
            .join(Conversation, Conversation.id == Payment.conversation_id)
            .where(*conditions)
            .group_by(Conversation.day, channel)
        ).all()
    }
    lines: list[list[object]] = []
    for day, chan, convs, turns, fallbacks, handoffs, csat_avg, csat_n in rows:
        convs, turns, fallbacks, handoffs = (
            int(convs),
            int(turns),
            int(fallbacks),
            int(handoffs),
        )
        links, paid = payments.get((day, chan), (0, 0))
        containment = _ratio(convs - handoffs, convs)
        fallback_rate = _ratio(fallbacks, turns)
        lines.append(
            [
                day,
                chan,
                convs,
                turns,
                fallbacks,
                handoffs,
                "" if containment is None else f"{containment:.4f}",
                "" if fallback_rate is None else f"{fallback_rate:.4f}",
                "" if csat_avg is None else f"{float(csat_avg):.2f}",
                int(csat_n),
                links,
                paid,
            ]
        )
    return write_csv(CSV_COLUMNS, lines)
