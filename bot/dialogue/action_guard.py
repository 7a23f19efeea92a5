"""The shopper gets an apology, not silence, when the action server fails.

Stock Rasa waits up to five minutes for a custom action and, when the action server
is down or errors, logs the exception and sends nothing. ``install`` swaps Rasa's
``RemoteAction`` for one that gives up after ``timeout_s`` and answers with
``utter_action_failed`` from ``domain.yml`` instead.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import rasa.core.actions.action as rasa_action
import rasa.core.actions.forms as rasa_forms
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.events import Event
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from bot.dialogue.action_client import pooled

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
APOLOGY_RESPONSE = "utter_action_failed"


class GuardedRemoteAction(RemoteAction):
    """A ``RemoteAction`` with a deadline and an apology on failure, calling the
    action server over a kept-alive connection (``bot.dialogue.action_client``)."""

    timeout_s: float = DEFAULT_TIMEOUT_S

    def __init__(self, name: str, action_endpoint: EndpointConfig | None) -> None:
        super().__init__(name, pooled(action_endpoint))

    async def run(
        self,
        output_channel: Any,
        nlg: Any,
        tracker: Any,
        domain: Any,
    ) -> list[Event]:
        try:
            return await asyncio.wait_for(
                super().run(output_channel, nlg, tracker, domain), self.timeout_s
            )
        except ActionExecutionRejection:
            raise
        except (RasaException, asyncio.TimeoutError) as error:
            logger.error(
                "action_guard.action_failed",
                extra={
                    "action": self.name(),
                    "sender_id": tracker.sender_id,
                    "error": repr(error),
                },
            )
            apology = await nlg.generate(
                APOLOGY_RESPONSE, tracker, output_channel.name()
            )
            if not apology:
                return []
            apology["utter_action"] = APOLOGY_RESPONSE
            return [rasa_action.create_bot_utterance(apology)]


def install(timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
    """Makes every custom action and form validation in this process guarded."""
    GuardedRemoteAction.timeout_s = timeout_s
    rasa_action.RemoteAction = GuardedRemoteAction  # type: ignore[misc]
    rasa_forms.RemoteAction = GuardedRemoteAction  # type: ignore[misc]
