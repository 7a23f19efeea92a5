"""Telling the shopper proactively, in the channel they wrote from last.

Uses Rasa's HTTP API: ``POST /conversations/<sender>/trigger_intent`` with
``output_channel=latest``, so the bot's reply goes out through the shopper's last
channel (Telegram, VK, WhatsApp, Viber, web chat; the app also gets a push). Each
``EXTERNAL_*`` intent has a rule that answers it from ``domain.yml``:
``EXTERNAL_payment_received`` (a payment settled) and
``EXTERNAL_order_status_changed`` (the shop moved a followed order on).
"""

from __future__ import annotations

import logging
from typing import Any

from common.http import (
    PlatformClient,
    PlatformError,
    RetryPolicy,
    rasa_conversation_path,
)

logger = logging.getLogger(__name__)

PAYMENT_INTENT = "EXTERNAL_payment_received"
ORDER_STATUS_INTENT = "EXTERNAL_order_status_changed"
# Log events per intent (alerts and tests read the payment ones by name).
_EVENTS = {
    PAYMENT_INTENT: ("payments.shopper_told", "payments.notify_failed"),
    ORDER_STATUS_INTENT: ("orders.update_told", "orders.update_failed"),
}


class RasaNotifier:
    def __init__(self, rasa_url: str, token: str = "") -> None:
        self.client = PlatformClient(
            "rasa", rasa_url, timeout_s=15, retry=RetryPolicy(max_attempts=3)
        )
        self.token = token

    async def close(self) -> None:
        await self.client.close()

    async def trigger(
        self, sender_id: str, intent: str, entities: dict[str, Any]
    ) -> bool:
        """Puts ``intent`` into the shopper's conversation; ``True`` when Rasa
        took it (its reply went out through the shopper's latest channel)."""
        params = {"output_channel": "latest"}
        if self.token:
            params["token"] = self.token
        order_id = entities.get("order_id")
        told, failed = _EVENTS.get(intent, ("proactive.told", "proactive.failed"))
        try:
            await self.client.post(
                rasa_conversation_path(sender_id, "trigger_intent"),
                json={"name": intent, "entities": entities},
                params=params,
            )
        except PlatformError:
            logger.error(
                failed,
                extra={"sender_id": sender_id, "order_id": order_id, "intent": intent},
            )
            return False
        logger.info(told, extra={"order_id": order_id})
        return True

    async def payment_received(self, sender_id: str, order_id: str) -> bool:
        return await self.trigger(sender_id, PAYMENT_INTENT, {"order_id": order_id})
