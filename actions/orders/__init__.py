"""Order requests: the order form (``form``), the dispatcher that answers it
(``dispatch``) and one module per request kind (``status``, ``cancel``,
``address``; returns, refunds and payments live in their own domains).

rasa-sdk imports every module of the ``actions`` package, so each action registers
wherever it lives; the names below are what other modules and tests use.
"""

from actions.orders.cancel import cancel_confirmed
from actions.orders.dispatch import ActionHandleOrderRequest
from actions.orders.form import ActionAskOrderSource, ValidateOrderForm
from actions.orders.lookup import pick_source
from actions.orders.one_time_code import ActionAskOneTimeCode
from actions.orders.slots import PENDING

__all__ = [
    "PENDING",
    "ActionAskOneTimeCode",
    "ActionAskOrderSource",
    "ActionHandleOrderRequest",
    "ValidateOrderForm",
    "cancel_confirmed",
    "pick_source",
]
