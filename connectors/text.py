"""Splitting long replies at the platform's length limit, at sentence boundaries,
and the output-channel part that sends them."""

from __future__ import annotations

import abc
import re
from typing import Any, ClassVar

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def split_text(text: str, limit: int) -> list[str]:
    """Parts of at most ``limit`` characters, cut between sentences where possible,
    else between words, else anywhere. Empty text gives no parts."""
    if limit < 1:
        raise ValueError("limit must be positive")
    text = text.strip()
    if not text:
        return []
    if len(text) <= limit:
        return [text]  # keeps line breaks; only long texts are re-flowed
    parts: list[str] = []
    current = ""
    for sentence in (s.strip() for s in _SENTENCE_END.split(text)):
        if not sentence:
            continue
        for piece in _fit(sentence, limit):
            joined = f"{current} {piece}" if current else piece
            if len(joined) <= limit:
                current = joined
            else:
                parts.append(current)
                current = piece
    if current:
        parts.append(current)
    return parts


def _fit(sentence: str, limit: int) -> list[str]:
    """A sentence longer than the limit, cut between words (or hard, if a word is)."""
    if len(sentence) <= limit:
        return [sentence]
    pieces: list[str] = []
    current = ""
    for word in sentence.split():
        while len(word) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:limit])
            word = word[limit:]
        joined = f"{current} {word}" if current else word
        if len(joined) <= limit:
            current = joined
        else:
            pieces.append(current)
            current = word
    if current:
        pieces.append(current)
    return pieces


class PartsOutput(abc.ABC):
    """Text and buttons for a platform that takes at most ``max_text`` characters a
    message: long texts go out in parts, the buttons with the last one. A platform
    output channel mixes this in and says how one part is sent."""

    max_text: ClassVar[int]
    empty_text: ClassVar[str] = ""  # what carries buttons when there is no text
    # True for the proactive output (WebhookChannel.get_output_channel): a send
    # the platform refused raises instead of being logged and skipped.
    strict: bool = False

    @abc.abstractmethod
    async def send_part(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]] | None = None,
    ) -> None: ...

    async def send_text_message(
        self, recipient_id: str, text: str, **kwargs: Any
    ) -> None:
        for part in split_text(text, self.max_text):
            await self.send_part(recipient_id, part)

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        parts = split_text(text, self.max_text) or [self.empty_text]
        for part in parts[:-1]:
            await self.send_part(recipient_id, part)
        await self.send_part(recipient_id, parts[-1], buttons)
