"""What happens when a provider says a payment succeeded (webhook or demo page).

The payment must be in our ledger with the same amount and currency; it is marked
succeeded once; then the order is marked paid and the shopper told. Anything else
changes nothing and is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from actions.integrations.base import OrderSource
from actions.payments.ledger import PaymentLedger

logger = logging.getLogger(__name__)


class Notifier(Protocol):
    """``RasaNotifier``, or the ``NoticeQueue`` that retries it."""

    async def payment_received(self, sender_id: str, order_id: str) -> bool: ...


class Outcome(str, Enum):
    PAID = "paid"
    DUPLICATE = "duplicate"
    UNKNOWN_PAYMENT = "unknown_payment"
    AMOUNT_MISMATCH = "amount_mismatch"


@dataclass
class Settlement:
    ledger: PaymentLedger
    orders: OrderSource
    notifier: Notifier | None

    async def succeeded(
        self,
        provider: str,
        payment_id: str,
        amount: int | None = None,
        currency: str | None = None,
    ) -> Outcome:
        entry = await self.ledger.get(provider, payment_id)
        if entry is None:
            logger.warning(
                "payments.unknown",
                extra={"provider": provider, "payment_id": payment_id},
            )
            return Outcome.UNKNOWN_PAYMENT
        if (amount is not None and amount != entry.amount) or (
            currency is not None and currency.upper() != entry.currency.upper()
        ):
            logger.error(
                "payments.amount_mismatch",
                extra={
                    "provider": provider,
                    "payment_id": payment_id,
                    "expected": f"{entry.amount} {entry.currency}",
                    "got": f"{amount} {currency}",
                },
            )
            return Outcome.AMOUNT_MISMATCH
        if not await self.ledger.mark_succeeded(provider, payment_id):
            return Outcome.DUPLICATE
        await self.orders.mark_paid(entry.order_id)
        logger.info(
            "payments.paid", extra={"provider": provider, "order_id": entry.order_id}
        )
        if self.notifier is not None and entry.sender_id:
            await self.notifier.payment_received(entry.sender_id, entry.order_id)
        return Outcome.PAID
