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


class PaymentProvider(abc.ABC):
    name: str

    @abc.abstractmethod
    async def create_payment(
        self, order_id: str, amount: int, currency: str, sender_id: str | None = None
    ) -> Payment:
        """A payment link for the order; reuses a pending one for the same order."""

    @abc.abstractmethod
    async def get_payment(self, payment_id: str) -> Payment | None:
        """The payment's current state, or ``None`` when the provider has none."""
