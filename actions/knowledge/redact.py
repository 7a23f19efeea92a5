"""Removing personal data before text leaves for an LLM or reaches a log.

Phones, e-mails, payment card numbers (Luhn-checked), Russian passport numbers and
street addresses are replaced by tags such as ``[phone]``. Order numbers are kept:
the shopper's question may need them and they identify no person.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# +7 916 123-45-67, 8 (916) 123 45 67, 89161234567, +44 20 7946 0958
_PHONE = re.compile(
    r"(?<![\w-])(?:\+7|8|\+\d{1,3})[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?![\w-])"
    r"|(?<![\w-])\+\d{1,3}[\s-]?\(?\d{2,4}\)?(?:[\s-]?\d{2,4}){2,3}(?![\w-])"
)
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
# Russian passport: series 4 digits (often "45 10") and number 6 digits.
_PASSPORT = re.compile(
    r"(?i)(?:паспорт\w*|passport)[^\d\n]{0,20}(\d{2}\s?\d{2}\s?№?\s?\d{6})"
    r"|(?<!\d)\d{2}\s\d{2}\s\d{6}(?!\d)"
)
_ADDRESS = re.compile(
    r"(?i)\b(?:ул\.?|улица|пр-т|пр\.|проспект|пер\.?|переулок|бульвар|б-р|шоссе|"
    r"street|st\.|avenue|ave\.|road|rd\.)\s*[^\n,.;]{2,40}?,?\s*"
    r"(?:д\.?|дом|house|bld\.?)?\s*\d+[а-яa-z]?"
    r"(?:\s*,?\s*(?:кв\.?|квартира|apt\.?|apartment|корп\.?|стр\.?)\s*\d+)*"
)


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[card]" if 13 <= len(digits) <= 19 and _luhn(digits) else match.group(0)


def _passport(match: re.Match[str]) -> str:
    if match.group(1):
        return match.group(0).replace(match.group(1), "[passport]")
    return "[passport]"


def redact(text: str) -> str:
    """The text with personal data replaced by ``[email]``, ``[phone]``… tags."""
    if not text:
        return text
    text = _EMAIL.sub("[email]", text)
    text = _CARD.sub(_card, text)
    text = _PASSPORT.sub(_passport, text)
    text = _PHONE.sub("[phone]", text)
    return _ADDRESS.sub("[address]", text)
