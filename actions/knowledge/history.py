"""The conversation before the question, as the answerers and their prompt see it.

Its own module so that the prompt (``prompts``) and the answerers that build it
(``answerers``) both depend on it and not on each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HistoryTurn:
    speaker: str  # "shopper" or "assistant"
    text: str
