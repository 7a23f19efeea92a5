"""What every connector does with a verified delivery: dedupe, hand to Rasa, answer.

A connector's blueprint authenticates the request and parses the platform payload
into ``Delivery`` objects; ``deliver`` then claims each delivery's id in the dedupe
store and awaits Rasa. If Rasa fails, the claim is released and ``DeliveryFailed``
is raised, so the webhook answers 5xx and the platform's retry is processed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage

from connectors.dedupe import DedupeStore

logger = logging.getLogger(__name__)


class DeliveryFailed(RuntimeError):
    """Rasa could not process a delivery; the platform should retry it."""


class ConfigError(ValueError):
    """A connector's credentials are missing or invalid; names the key."""


@dataclass(frozen=True)
class Delivery:
    key: str  # dedupe key, unique per platform delivery: "telegram:update:42"
    sender_id: str  # namespaced: "telegram:123456"
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


async def deliver(
    channel: str,
    delivery: Delivery,
    dedupe: DedupeStore,
    output: OutputChannel,
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    prepare: Callable[[Delivery], Awaitable[Delivery]] | None = None,
) -> bool:
    """Processes a delivery once. ``False`` when it was a duplicate.

    ``prepare`` (a voice note's transcription) runs once the delivery is claimed,
    so a platform's retry of it costs nothing."""
    if not await dedupe.claim(delivery.key):
        logger.info(f"{channel}.webhook.duplicate", extra={"key": delivery.key})
        return False
    if prepare is not None:
        delivery = await prepare(delivery)
    message = UserMessage(
        delivery.text,
        output,
        delivery.sender_id,
        input_channel=channel,
        metadata={"channel": channel, **delivery.metadata},
    )
    try:
        await on_new_message(message)
    except Exception as error:
        await dedupe.release(delivery.key)
        logger.exception(f"{channel}.webhook.failed", extra={"key": delivery.key})
        raise DeliveryFailed(delivery.key) from error
    return True


def require(credentials: dict[str, Any] | None, channel: str, *keys: str) -> None:
    """Fails fast, naming the missing key, when credentials.yml lacks a value."""
    credentials = credentials or {}
    for key in keys:
        if not str(credentials.get(key) or "").strip():
            raise ConfigError(f"credentials.yml: {channel}.{key} is required")


def button_payload(button: dict[str, Any]) -> str:
    return str(button.get("payload") or button.get("title") or "")
