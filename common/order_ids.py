"""Order numbers in the formats shoppers actually type.

- Wildberries: 7-12 digits (``3728419056``).
- Ozon: posting number ``48213307-0051-1`` or order number ``48213307-0051``.
- Shop: a letter code and digits (``A-10234``; in Latin capitals also ``A10234``,
  and ``A 10234`` for a one-letter code) or ``#45871`` / ``№45871``.
- Ozon typed with spaces for dashes (``48213307 0051 1``) is read as Ozon.

Pure functions shared by the NLU extractor (``bot.nlu.components``) and the actions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class OrderIdKind(str, Enum):
    WILDBERRIES = "wildberries"
    OZON = "ozon"
    SHOP = "shop"


# Cyrillic letters that look like Latin ones: shoppers type "А-10234" with a Russian А.
_LOOKALIKES = str.maketrans("АВЕКМНОРСТХаеокрсух", "ABEKMHOPCTXAEOKPCYX")

_OZON = re.compile(r"^\d{6,10}-\d{4}(?:-\d{1,2})?$")
_SHOP_CODE = re.compile(r"^[A-Z]{1,3}-?\d{4,7}$")
_SHOP_HASH = re.compile(r"^(?:#|№|N)\s?(\d{4,8})$")
_WILDBERRIES = re.compile(r"^\d{7,12}$")
_SHORT_SHOP = re.compile(r"^\d{4,6}$")
_OZON_SPACED = re.compile(r"^(\d{6,10})\s+(\d{4})(?:\s+(\d{1,2}))?$")

# Where an order number stands inside a sentence. Longest formats first.
_IN_TEXT = re.compile(
    r"(?<![\w#№-])("
    r"\d{6,10}-\d{4}(?:-\d{1,2})?"  # Ozon
    r"|\d{6,10} \d{4} \d{1,2}"  # Ozon typed with spaces
    r"|[A-Za-zА-ВЕКМНОРСТХа-векмнорстх]{1,3}-\d{4,7}"  # shop code
    # Without the dash only in Latin capitals: «в 12000 рублей» is no order.
    r"|(?-i:[A-Z]{1,3}\d{4,7}|[A-Z] \d{4,7})"
    r"|[#№]\s?\d{4,8}"  # shop number
    r"|\d{7,12}"  # Wildberries
    r")(?![\w-])"
)
# A phone number is not an order number: +7 916 ..., 8 (916) ..., 89161234567.
_PHONE = re.compile(r"^(?:\+?7|8)9\d{9}$")


@dataclass(frozen=True)
class OrderId:
    value: str
    kind: OrderIdKind


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


def find_in_text(text: str) -> list[Span]:
    """Every order number written inside a message, in order of appearance."""
    spans = []
    for match in _IN_TEXT.finditer(text or ""):
        raw = match.group(1)
        if _PHONE.match(raw):
            continue
        spans.append(Span(match.start(1), match.end(1), raw))
    return spans


def latin_codes(text: str) -> str:
    """``text`` with every shop code spelled in Latin letters: «А-22906 где?» (a
    Russian А) becomes «A-22906 где?». Same length, so entity offsets stay."""
    spans = [s for s in find_in_text(text) if not s.text[:1].isdigit()]
    for span in spans:
        latin = span.text.translate(_LOOKALIKES).upper()
        text = text[: span.start] + latin + text[span.end :]
    return text


def normalize(raw: str | None, allow_short: bool = False) -> OrderId | None:
    """The canonical order number, or ``None`` when ``raw`` is not one.

    ``allow_short`` accepts a bare 4-6 digit shop number, which is only safe when
    the bot has just asked for an order number.
    """
    if raw is None:
        return None
    spaced = _OZON_SPACED.match(str(raw).strip())
    if spaced:
        raw = "-".join(part for part in spaced.groups() if part)
    text = re.sub(r"\s+", "", str(raw)).strip(".,;:!?()\"'«»").translate(_LOOKALIKES)
    text = text.upper()
    if _OZON.match(text):
        return OrderId(text, OrderIdKind.OZON)
    if _SHOP_CODE.match(text):
        letters = re.match(r"^[A-Z]+", text).group(0)  # type: ignore[union-attr]
        digits = text[len(letters) :].lstrip("-")
        return OrderId(f"{letters}-{digits}", OrderIdKind.SHOP)
    hashed = _SHOP_HASH.match(text)
    if hashed:
        return OrderId(hashed.group(1), OrderIdKind.SHOP)
    if _WILDBERRIES.match(text) and not _PHONE.match(text):
        return OrderId(text, OrderIdKind.WILDBERRIES)
    if allow_short and _SHORT_SHOP.match(text):
        return OrderId(text, OrderIdKind.SHOP)
    return None
