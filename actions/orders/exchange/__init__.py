"""Exchanges for another size or colour: what the shopper wants (``wish``), the
offer and the exchange itself (``flow``), and exchange_form for what the first
message left out (``form``). The order itself comes from order_form."""

from actions.orders.exchange.flow import exchange_confirmed, handle_exchange
from actions.orders.exchange.form import (
    ActionAskExchangeItem,
    ActionAskExchangeVariant,
    ActionExchangeOffer,
    ValidateExchangeForm,
)

__all__ = [
    "ActionAskExchangeItem",
    "ActionAskExchangeVariant",
    "ActionExchangeOffer",
    "ValidateExchangeForm",
    "exchange_confirmed",
    "handle_exchange",
]
