"""Response generation that answers in the shopper's language.

Responses in ``domain.yml`` carry a Russian default variation and an English one
conditioned on the ``language`` slot. The slot is not stored: this generator derives
it for every response from the shopper's own messages (``common.language``), so a reply
is in the language of the latest message that tells, and short answers such as "ok"
or an order number keep the conversation's language.
"""

from __future__ import annotations

from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.dialogue import action_guard, speedups, turn_guard, typed_payloads
from common.language import DEFAULT_LANGUAGE, conversation_language

LANGUAGE_SLOT = "language"


def tracker_language(
    tracker: DialogueStateTracker, default: str = DEFAULT_LANGUAGE
) -> str:
    texts = (
        event.text
        for event in reversed(tracker.events)
        if isinstance(event, UserUttered)
    )
    return conversation_language(texts, default)


class LanguageAwareNLG(TemplatedNaturalLanguageGenerator):
    """Selected in ``endpoints.yml`` (``nlg.type``).

    Rasa builds it once per server, so it is also where the action guard
    (``bot.dialogue.action_guard``) and the turn guard
    (``bot.dialogue.turn_guard``) are set up: they
    belong to "the shopper always gets one reply".
    """

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        domain: Domain | None = None,
    ) -> None:
        super().__init__((domain or Domain.empty()).responses)
        kwargs = endpoint_config.kwargs if endpoint_config else {}
        self.default_language = str(kwargs.get("default_language", DEFAULT_LANGUAGE))
        action_guard.install(
            timeout_s=float(
                kwargs.get("action_timeout_s", action_guard.DEFAULT_TIMEOUT_S)
            )
        )
        turn_guard.install()
        typed_payloads.install()  # a typed /intent{…} only as an offered button
        # Same behaviour, less per-message CPU (speedups.py, bench/README.md).
        speedups.install()

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        filled_slots = tracker.current_slot_values()
        filled_slots[LANGUAGE_SLOT] = tracker_language(tracker, self.default_language)
        return self.generate_from_slots(
            utter_action, filled_slots, output_channel, **kwargs
        )
