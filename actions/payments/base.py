"""The payment-provider interface."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class PaymentState(str, Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Payment:
    payment_id: str
    order_id: str
    amount: int
    currency: str
    state: PaymentState
    url: str
    created_at: datetime


class PaymentError(RuntimeError):
    """The provider cannot create or report a payment now."""


@dataclass(frozen=True)
class ProviderRefund:
    """A refund the provider accepted; ``amount`` in whole units, as the ledger.

    ``succeeded`` is false while the provider still processes it (``pending``).
    """

    refund_id: str
    payment_id: str
    amount: int
    currency: str
    succeeded: bool


class WebhookRejected(Exception):
    """A notification that is not authentic or not well formed; nothing changes."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class WebhookEvent:
    """What a verified provider notification says about one of our payments.

    ``amount`` is in whole roubles (or the currency's main unit), as in the ledger;
    ``None`` when the notification does not carry it.
    """

    payment_id: str
    succeeded: bool
    amount: int | None = None
    currency: str | None = None


# The longest a shopper waits for a payment link, retries included. Rasa's action
# guard answers "temporary failure" after 10 s (5 s in tests); this answers first.
DEFAULT_TIMEOUT_S = 3.0
# Why a provider's variable is required: "<name>: required when ... is stripe".
PROVIDER_IS = "EASYFLOW_PAYMENT_PROVIDER is"


class PaymentProvider(abc.ABC):
    name: str
    # ``create_payment`` as a whole, seconds (``<PROVIDER>_TIMEOUT_S``).
    timeout_s: float = DEFAULT_TIMEOUT_S

    @abc.abstractmethod
    async def create_payment(
        self, order_id: str, amount: int, currency: str, sender_id: str | None = None
    ) -> Payment:
        """A payment link for the order; reuses a pending one for the same order."""

    @abc.abstractmethod
    async def get_payment(self, payment_id: str) -> Payment | None:
        """The payment's current state, or ``None`` when the provider has none."""

    async def refund(
        self, payment_id: str, amount: int, currency: str, key: str
    ) -> ProviderRefund:
        """Returns ``amount`` of a succeeded payment to the shopper.

        ``key`` names this refund (a return, a cancellation): it is sent as the
        provider's idempotency key where the provider has one, so a retried call
        never refunds twice. Checking the amount against what was paid is the
        caller's job (``actions.payments.refunds``); providers check it too.
        Raises ``PaymentError``. Providers without refunds keep this default.
        """
        raise PaymentError(f"{self.name} cannot refund")

    async def parse_webhook(
        self, headers: dict[str, str], body: bytes, remote_ip: str | None
    ) -> WebhookEvent | None:
        """Verifies a notification (signature, source, re-fetch as the provider
        documents) and reads it; ``None`` for events that need no action. Raises
        ``WebhookRejected``. Providers without webhooks keep this default."""
        raise WebhookRejected(404, f"{self.name} has no webhooks")

    def acknowledgement(self) -> tuple[int, str, str]:
        """The answer the provider expects: status, body, content type."""
        return 200, "", "text/plain"
