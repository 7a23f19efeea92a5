"""Helpers the marketplace order sources share: times, money, errors."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NoReturn

from actions.integrations.base import OrderSourceError
from common.http import PlatformError

logger = logging.getLogger(__name__)

_FRACTION = re.compile(r"\.(\d+)")


# --- settings -----------------------------------------------------------------

# Why a source's variable is required: "<name>: required when ... includes ozon".
SOURCES_INCLUDE = "EASYFLOW_ORDER_SOURCES includes"


# --- values -------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time as a naive local datetime (the demo store's convention).

    Accepts ``Z`` and any number of fraction digits, which Python 3.10 does not.
    """
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00")
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        logger.warning("marketplace.time.unparsed", extra={"value": str(value)})
        return None
    return parsed.astimezone().replace(tzinfo=None) if parsed.tzinfo else parsed


def parse_date(value: Any) -> date | None:
    parsed = parse_time(value)
    return parsed.date() if parsed else None


def whole_units(value: Any) -> Decimal:
    """A decimal amount ("1390.0000", 1390.5) as a Decimal; 0 when unreadable."""
    try:
        return Decimal(str(value if value not in (None, "") else 0))
    except InvalidOperation:
        return Decimal(0)


def rounded(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- errors -------------------------------------------------------------------


def raise_source_error(
    source: str, error: PlatformError, path: str, credentials: str
) -> NoReturn:
    """Logs ``<source>.auth.failed`` or ``<source>.request.failed`` and raises."""
    extra = {"status": error.status, "path": path, "body": error.body[:300]}
    if error.status in (401, 403):
        logger.error(f"{source}.auth.failed", extra=extra)
        raise OrderSourceError(
            f"{source} refused the credentials ({error.status}): check {credentials}"
        ) from error
    logger.error(f"{source}.request.failed", extra=extra)
    raise OrderSourceError(f"{source} answered {error.status} on {path}") from error
