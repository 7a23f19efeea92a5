"""What a shopper sends that is not text: photos, voice notes, stickers, files.

Each messenger connector reads its platform's media fields into ``Media`` and
hands Rasa one message for them instead of dropping the update:

- a caption (or text sent with the attachment) is read as the shopper's words;
- without one, the text is the bare payload of the media's intent
  (``/shopper_sent_photo``), which ``bot/dialogue/typed_payloads.py`` lets through
  like ``/greet``: typing it grants nothing the words would not, and NLU never
  has to guess what a photo means.

Either way the media themselves travel in the message metadata under ``media``:
a list of dicts with the kind, the channel and the platform's handle (file id,
media id or URL), MIME type and size, so a later step can fetch them through the
platform's file API. Only the messenger connectors write that key: the web chat
drops it from what a browser sends (``strip_reserved``), and a shopper who types
``/shopper_sent_photo`` sends no ``media`` at all.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

MEDIA_KEY = "media"
INTENT_PREFIX = "shopper_sent_"


class Kind(enum.Enum):
    """What the shopper sent; several kinds share one answer (``intent``)."""

    PHOTO = "photo"
    VIDEO = "video"
    VOICE = "voice"
    AUDIO = "audio"
    STICKER = "sticker"
    DOCUMENT = "document"
    LOCATION = "location"
    CONTACT = "contact"

    @property
    def intent(self) -> str:
        return INTENT_PREFIX + _ANSWERED_AS[self]


# A video and any file are answered like a document; an audio file like a voice
# note (neither can be listened to yet).
_ANSWERED_AS = {
    Kind.PHOTO: "photo",
    Kind.VIDEO: "document",
    Kind.VOICE: "voice",
    Kind.AUDIO: "voice",
    Kind.STICKER: "sticker",
    Kind.DOCUMENT: "document",
    Kind.LOCATION: "location",
    Kind.CONTACT: "contact",
}
# The intents media arrive as, each a bare payload a shopper may also type.
MEDIA_INTENTS = frozenset(INTENT_PREFIX + name for name in set(_ANSWERED_AS.values()))


@dataclass(frozen=True)
class Media:
    """One attachment as the platform described it; ``None`` fields are unknown."""

    kind: Kind
    channel: str
    file_id: str | None = None  # the platform's handle: file id, media id
    url: str | None = None  # a direct link, where the platform gives one
    mime_type: str | None = None
    size: int | None = None  # bytes
    details: dict[str, Any] = field(default_factory=dict)  # duration, coordinates…

    def as_metadata(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind.value,
            "channel": self.channel,
            "file_id": self.file_id,
            "url": self.url,
            "mime_type": self.mime_type,
            "size": self.size,
            **self.details,
        }
        return {key: value for key, value in data.items() if value is not None}


def payload(kind: Kind) -> str:
    """The bare payload a message of this kind reaches Rasa as."""
    return f"/{kind.intent}"


def message_text(media: Sequence[Media], caption: Any) -> str | None:
    """The caption when there are words, else the first attachment's payload."""
    if isinstance(caption, str) and caption.strip():
        return caption
    return payload(media[0].kind) if media else None


def media_metadata(media: Sequence[Media]) -> dict[str, Any]:
    return {MEDIA_KEY: [m.as_metadata() for m in media]} if media else {}


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def as_str(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        text = str(value)
        return text if text else None
    return None


def strip_reserved(metadata: dict[str, Any]) -> dict[str, Any]:
    """Client-supplied metadata without the keys only a connector may set."""
    return {key: value for key, value in metadata.items() if key != MEDIA_KEY}
