"""Text a shopper types is text: a typed ``/intent{…}`` counts only when offered.

Rasa's ``RegexMessageHandler`` reads any message that starts with ``/`` as an intent
with entities, on every channel. That is how button presses arrive (a button's
payload is sent back as the message text), but it also lets a shopper type
``/EXTERNAL_payment_received{"order_id": "A-10240"}`` and be told the payment
arrived, or end an operator's session with ``/EXTERNAL_handoff_returned``. The
legitimate senders of ``EXTERNAL_*`` intents (payment notifier, admin API) use the
authenticated ``trigger_intent`` API, which never goes through ``parse_message``.

``install`` wraps ``MessageProcessor.parse_message``, the one place every channel's
text is parsed, so the rule holds for REST, web chat and every messenger alike.
A message that starts with ``/`` is parsed as Rasa's payload only when it is

- exactly the payload of a button (or quick reply) the bot sent in its latest
  turn (after the shopper's previous message), or
- a bare intent on ``SHOPPER_INTENTS`` with nothing after it (``/greet``, not
  ``/greet{"order_id": "A-1"}`` nor ``/greet@0.9``), which includes the
  ``/shopper_sent_<kind>`` payloads messengers send for media.

Anything else is ordinary text: the event keeps what the shopper typed, and NLU
reads it with the leading slashes removed, so ``RegexMessageHandler`` never sees
it and the shopper gets the answer their words deserve. Whatever NLU predicts,
an internal intent (``EXTERNAL_*``, Rasa's ``restart``, ``back``,
``session_start``) never comes out of a shopper's text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.core.constants import (
    USER_INTENT_BACK,
    USER_INTENT_RESTART,
    USER_INTENT_SESSION_START,
)
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)

logger = logging.getLogger(__name__)

# Intents a shopper may type as ``/name`` (no entities): answers anyone could give
# in words, so the shortcut grants nothing the words would not.
# What a messenger connector sends for a photo, voice note, sticker, file, location
# or shared contact without a caption (connectors/media.py). Typing one gets the
# reply to that kind of message and nothing else: the media themselves travel in
# metadata only a connector writes, and the text forms and actions read is empty.
MEDIA_INTENTS = frozenset(
    {
        "shopper_sent_photo",
        "shopper_sent_voice",
        "shopper_sent_sticker",
        "shopper_sent_document",
        "shopper_sent_location",
        "shopper_sent_contact",
    }
)
SHOPPER_INTENTS = (
    frozenset(
        {
            "greet",
            "goodbye",
            "thanks",
            "affirm",
            "deny",
            "human_handoff",
            "stop_updates",
        }
    )
    | MEDIA_INTENTS
)
# Only the authenticated trigger_intent API may produce these.
EXTERNAL_PREFIX = "EXTERNAL_"
RASA_INTERNAL_INTENTS = frozenset(
    {USER_INTENT_RESTART, USER_INTENT_BACK, USER_INTENT_SESSION_START}
)
FALLBACK_INTENT = "nlu_fallback"
# Where offered choices live in a ``BotUttered``'s data.
_CHOICE_KEYS = ("buttons", "quick_replies")
_BARE_INTENT = re.compile(r"/(?P<intent>[A-Za-z0-9_]+)")
_LEADING = re.compile(r"^[\s/]+")


@dataclass(frozen=True)
class Screened:
    """What NLU should read, and why."""

    text: str
    verdict: str  # "text" | "offered" | "allowed" | "refused"


def is_internal(intent: str | None) -> bool:
    return bool(intent) and (
        str(intent).startswith(EXTERNAL_PREFIX) or intent in RASA_INTERNAL_INTENTS
    )


def _payloads(choices: Any) -> Iterable[str]:
    if not isinstance(choices, list):
        return
    for choice in choices:
        if isinstance(choice, dict) and isinstance(choice.get("payload"), str):
            yield choice["payload"].strip()


def offered_payloads(tracker: DialogueStateTracker | None) -> frozenset[str]:
    """Payloads of the buttons the bot sent since the shopper's previous message."""
    if tracker is None:
        return frozenset()
    offered: set[str] = set()
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            for key in _CHOICE_KEYS:
                offered.update(_payloads((event.data or {}).get(key)))
    offered.discard("")
    return frozenset(offered)


def screen(text: str | None, offered: frozenset[str]) -> Screened:
    """Decides whether ``text`` may reach Rasa as a typed payload."""
    stripped = (text or "").strip()
    if not stripped.startswith(INTENT_MESSAGE_PREFIX):
        return Screened(text or "", "text")
    if stripped in offered:
        return Screened(text or "", "offered")
    bare = _BARE_INTENT.fullmatch(stripped)
    if bare and bare.group("intent") in SHOPPER_INTENTS:
        return Screened(text or "", "allowed")
    return Screened(_LEADING.sub("", stripped), "refused")


def _without_internal_intents(parse_data: dict[str, Any]) -> dict[str, Any]:
    """Parse data with no internal intent, whichever component predicted one."""
    intent = (parse_data.get(INTENT) or {}).get(INTENT_NAME_KEY)
    ranking = parse_data.get(INTENT_RANKING_KEY)
    if isinstance(ranking, list):
        parse_data[INTENT_RANKING_KEY] = [
            r for r in ranking if not is_internal(r.get(INTENT_NAME_KEY))
        ]
    if is_internal(intent):
        parse_data[INTENT] = {
            INTENT_NAME_KEY: FALLBACK_INTENT,
            PREDICTED_CONFIDENCE_KEY: parse_data[INTENT].get(
                PREDICTED_CONFIDENCE_KEY, 0.0
            ),
        }
    return parse_data


_parse_message = MessageProcessor.parse_message


async def screened_parse(
    self: MessageProcessor,
    message: UserMessage,
    tracker: DialogueStateTracker | None = None,
    only_output_properties: bool = True,
) -> dict[str, Any]:
    """Rasa's ``parse_message`` for text that came from a shopper's channel."""
    screened = screen(message.text, offered_payloads(tracker))
    parsed_message = message
    if screened.verdict == "refused":
        logger.warning(
            "typed_payloads.refused",
            extra={
                "sender_id": message.sender_id,
                "input_channel": message.input_channel,
                "typed": (message.text or "")[:80],
            },
        )
        parsed_message = UserMessage(
            screened.text,
            message.output_channel,
            message.sender_id,
            input_channel=message.input_channel,
            message_id=message.message_id,
            metadata=message.metadata,
        )
    parse_data = await _parse_message(
        self, parsed_message, tracker, only_output_properties
    )
    if screened.verdict == "refused":
        parse_data[TEXT] = message.text  # what the shopper typed, as the event
    intent = (parse_data.get(INTENT) or {}).get(INTENT_NAME_KEY)
    if screened.verdict == "allowed" and intent in MEDIA_INTENTS:
        # A photo has no words: a form asking "which product?" must not take
        # "/shopper_sent_photo" for the answer. The event keeps the payload.
        parse_data[TEXT] = ""
    if is_internal(intent):
        logger.warning(
            "typed_payloads.internal_intent_dropped",
            extra={"sender_id": message.sender_id, "intent": intent},
        )
    return _without_internal_intents(parse_data)


def install() -> None:
    """Screens every message this process parses; safe to call more than once."""
    MessageProcessor.parse_message = screened_parse  # type: ignore[method-assign]
