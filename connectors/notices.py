"""Replies a channel gives by itself, without running a turn: a response's text
from the loaded model's domain, in the shopper's language."""

from __future__ import annotations

from typing import Any

from common.language import ENGLISH, detect


def domain_text(
    domain: Any, name: str, language: str | None = None, channel: str | None = None
) -> str | None:
    """The text of response ``name``: the English variation (``condition:
    language == en``) for English, else the default; a variation for ``channel``
    is preferred over a general one."""
    variations = [v for v in domain.responses.get(name, []) if v.get("text")]

    def wanted(variation: dict[str, Any]) -> bool:
        conditions = variation.get("condition") or []
        english = any(
            c.get("name") == "language" and c.get("value") == ENGLISH
            for c in conditions
        )
        return english if language == ENGLISH else not conditions

    matching = [v for v in variations if wanted(v)]
    matching.sort(key=lambda v: v.get("channel") != channel)
    for variation in matching:
        if variation.get("channel") in (None, channel):
            return str(variation["text"])
    return None


def notice(agent: Any, name: str, shopper_text: str, channel: str) -> str | None:
    """Response ``name`` in the language of ``shopper_text``; ``None`` while no
    model is loaded."""
    domain = getattr(agent, "domain", None)
    if domain is None:
        return None
    return domain_text(domain, name, detect(shopper_text[:500]), channel)
