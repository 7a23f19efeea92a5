"""Projects events onto the `payments` table: a payment link the bot sent (the
`payment_link` slot) and the payment Rasa was told about
(`EXTERNAL_payment_received`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from easyflow_api.models import Conversation, Event, Payment


def link_sent(
    session: Session, conversation: Conversation, timestamp: float, value: object
) -> None:
    """One payment row per conversation and order, from the first link sent."""
    order_id = str(value)[:128]
    exists = session.scalar(
        select(Payment.id).where(
            Payment.conversation_id == conversation.id,
            Payment.order_id == order_id,
        )
    )
    if exists is None:
        session.add(
            Payment(
                conversation_id=conversation.id,
                sender_id=conversation.sender_id,
                order_id=order_id,
                link_sent_at=timestamp,
            )
        )


def received(session: Session, row: Event, order_id: object) -> None:
    """Marks the shopper's latest unpaid link for the order as paid."""
    if not order_id:
        return
    payment = session.scalar(
        select(Payment)
        .where(
            Payment.sender_id == row.sender_id,
            Payment.order_id == str(order_id),
            Payment.paid_at.is_(None),
        )
        .order_by(Payment.link_sent_at.desc())
        .limit(1)
    )
    if payment is not None:
        payment.paid_at = row.timestamp
