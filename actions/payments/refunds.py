"""Refunding a paid payment through its provider, at most once per reason.

A flow that needs a refund (a cancelled paid order, an accepted return) names it
with a ``key`` (for example ``cancel:A-10240`` or ``return:R-7``). The ledger books
the amount under that key first, atomically, refusing a payment that is not ours
or not paid and any amount beyond what is left of it; then the provider is asked
(``PaymentProvider.refund``, which sends the key as its idempotency key where the
provider has one). Asking again with the same key returns the booked refund
without calling the provider, so retries by the flow, Rasa or the shopper never
refund twice. A request the provider refused is released; one that got no answer
(timeout) stays booked and is sent again on the next call with the same key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from actions.payments.base import PaymentError, PaymentProvider
from actions.payments.demo import DemoPaymentProvider
from actions.payments.ledger import PaymentLedger, RefundEntry, RefundRefused

logger = logging.getLogger(__name__)

__all__ = ["RefundRefused", "Refunds", "refund_payment"]


@dataclass
class Refunds:
    ledger: PaymentLedger
    provider: PaymentProvider

    async def refund(self, payment_id: str, amount: int, key: str) -> RefundEntry:
        """Refunds ``amount`` (whole units) of the payment once for ``key``.

        Raises ``RefundRefused`` (not refundable) or ``PaymentError`` (the
        provider failed; safe to retry with the same key).
        """
        name = self.provider.name
        entry, ask = await self.ledger.reserve_refund(name, payment_id, key, amount)
        if not ask:
            logger.info(
                "payments.refund.repeat",
                extra={"provider": name, "payment_id": payment_id, "key": key},
            )
            return entry
        try:
            done = await self.provider.refund(
                payment_id, entry.amount, entry.currency, key
            )
        except PaymentError as error:
            refused = _refused(error)
            if refused:
                await self.ledger.release_refund(entry)
            logger.error(
                "payments.refund.failed",
                extra={"provider": name, "payment_id": payment_id, "key": key,
                       "released": refused, "error": str(error)},
            )  # fmt: skip
            raise
        settled = await self.ledger.settle_refund(entry, done.refund_id, done.succeeded)
        logger.info(
            "payments.refunded",
            extra={"provider": name, "payment_id": payment_id, "key": key,
                   "amount": entry.amount, "state": settled.state},
        )  # fmt: skip
        return settled


async def refund_payment(
    ledger: PaymentLedger, provider: PaymentProvider, order_id: str
) -> None:
    """A cancelled order paid through a real provider in this dialog gets its
    money back through that provider, once (key ``cancel:<order>``). The demo
    provider's refunds are the demo store's; marketplaces refund themselves.
    """
    if isinstance(provider, DemoPaymentProvider):
        return
    paid = await ledger.paid_for_order(provider.name, order_id)
    if paid is None:
        return
    try:
        await Refunds(ledger, provider).refund(
            paid.payment_id, paid.amount, f"cancel:{order_id}"
        )
    except (PaymentError, RefundRefused):
        # Logged by Refunds with the reason; the merchant refunds by hand.
        logger.error("orders.refund_failed", extra={"order_id": order_id})


def _refused(error: PaymentError) -> bool:
    """A definite "no" from the provider (not a timeout or a 5xx)."""
    cause = error.__cause__
    status = getattr(cause, "status", None)
    if status is None and cause is not None:
        return False  # unreachable or timed out: it may have been done
    # 4xx, or an error inside a 200 answer; 429 and 5xx may still be done later.
    return status is None or (int(status) < 500 and int(status) != 429)
