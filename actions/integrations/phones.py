"""Phone spellings for searching a store by the shopper's verified phone.

Stores keep phones as typed: "+7 916 123-45-67", "89161234567", "+79161234567".
Two phones are the same when their last ten digits are (as ``actions/privacy.py``
and the demo store compare them); a platform search takes exact spellings, so
the sources ask for the few a Russian or international number is written in and
then check the last ten digits of what comes back.
"""

from __future__ import annotations

import re

TAIL = 10


def digits(phone: str | None) -> str:
    return re.sub(r"\D", "", phone or "")


def last_ten(phone: str | None) -> str:
    """The last ten digits, or "" for a phone shorter than that."""
    found = digits(phone)
    return found[-TAIL:] if len(found) >= TAIL else ""


def same_phone(left: str | None, right: str | None) -> bool:
    wanted = last_ten(left)
    return bool(wanted) and wanted == last_ten(right)


def spellings(phone: str) -> list[str]:
    """The spellings to search for: as given, in E.164, and for a Russian
    number with 7, +7 and 8 in front (a ten-digit number is taken as Russian)."""
    found = digits(phone)
    if len(found) < TAIL:
        return []
    ten = found[-TAIL:]
    variants = [f"+{found}", found]
    if len(found) == TAIL or (len(found) == TAIL + 1 and found[0] in "78"):
        variants += [f"+7{ten}", f"7{ten}", f"8{ten}"]
    return list(dict.fromkeys(variants))
