"""An e-mail as a shopper may see it: enough to recognise, not to learn.

``tanya@example.ru`` becomes ``t***@e***.ru``: the first letter of the mailbox and
of the domain, and the top-level domain. Whoever asks about an order learns where
its code went, not the buyer's address.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def is_email(value: str | None) -> bool:
    return bool(value) and bool(_EMAIL.match(value.strip()))  # type: ignore[union-attr]


def mask_email(value: str | None) -> str:
    """``t***@e***.ru``; ``***`` for anything that is not an e-mail."""
    if not is_email(value):
        return "***"
    local, _, domain = (value or "").strip().rpartition("@")
    name, _, tld = domain.rpartition(".")
    return f"{local[0]}***@{name[0]}***.{tld}"
