"""Telling the shopper proactively, in the channel they paid from.

Uses Rasa's HTTP API: ``POST /conversations/<sender>/trigger_intent`` with
``output_channel=latest``, so the bot's reply goes out through the shopper's last
channel (Telegram, VK, WhatsApp, Viber). The intent's rule answers with
``utter_payment_received`` from ``domain.yml``.
"""

from __future__ import annotations

import logging

from common.http import (
    PlatformClient,
    PlatformError,
    RetryPolicy,
    rasa_conversation_path,
)

logger = logging.getLogger(__name__)

PAYMENT_INTENT = "EXTERNAL_payment_received"


class RasaNotifier:
    def __init__(self, rasa_url: str, token: str = "") -> None:
        self.client = PlatformClient(
            "rasa", rasa_url, timeout_s=15, retry=RetryPolicy(max_attempts=3)
        )
        self.token = token

    async def close(self) -> None:
        await self.client.close()

    async def payment_received(self, sender_id: str, order_id: str) -> bool:
        params = {"output_channel": "latest"}
        if self.token:
            params["token"] = self.token
        try:
            await self.client.post(
                rasa_conversation_path(sender_id, "trigger_intent"),
                json={"name": PAYMENT_INTENT, "entities": {"order_id": order_id}},
                params=params,
            )
        except PlatformError:
            logger.error(
                "payments.notify_failed",
                extra={"sender_id": sender_id, "order_id": order_id},
            )
            return False
        logger.info("payments.shopper_told", extra={"order_id": order_id})
        return True
