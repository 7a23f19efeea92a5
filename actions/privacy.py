"""Order details only for their owner: verify the shopper before revealing them.

Policies (``EASYFLOW_ORDER_PRIVACY``):

- ``none`` — anyone who knows the order number sees its details (the demo default);
- ``phone_last4`` — the shopper confirms the last four digits of the phone on the
  order, unless the channel already proved that phone (a WhatsApp sender *is* a
  phone number). A verified order stays verified for the conversation.

Digits are compared in constant time; the phone itself is never shown or logged.
"""

from __future__ import annotations

import re
from enum import Enum

from rasa_sdk import Tracker

from actions.integrations.base import Order
from connectors.security import secrets_equal

VERIFIED_SLOT = "verified_orders"
# Channels whose sender id is the shopper's own, platform-verified phone number.
_PHONE_CHANNELS = ("whatsapp:",)


class PrivacyPolicy(str, Enum):
    NONE = "none"
    PHONE_LAST4 = "phone_last4"


def _digits(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def channel_phone(tracker: Tracker) -> str | None:
    """The phone the channel vouches for, if the conversation comes from one."""
    sender = tracker.sender_id or ""
    if sender.startswith(_PHONE_CHANNELS):
        return _digits(sender.split(":", 1)[1]) or None
    return None


def is_verified(policy: PrivacyPolicy, order: Order, tracker: Tracker) -> bool:
    if policy is PrivacyPolicy.NONE or not order.customer_phone:
        return True
    if order.order_id in (tracker.get_slot(VERIFIED_SLOT) or []):
        return True
    known = channel_phone(tracker)
    # Compare the last ten digits: +7 916… and 8 916… are the same phone.
    return bool(known) and secrets_equal(
        _digits(order.customer_phone)[-10:], (known or "")[-10:]
    )


def last4_matches(order: Order, answer: str | None) -> bool:
    given = _digits(answer)
    expected = _digits(order.customer_phone)[-4:]
    return len(given) == 4 and secrets_equal(expected, given)


def verified(tracker: Tracker, order_id: str) -> list[str]:
    """The verified-orders slot value with ``order_id`` added."""
    current = list(tracker.get_slot(VERIFIED_SLOT) or [])
    return current if order_id in current else [*current, order_id]
