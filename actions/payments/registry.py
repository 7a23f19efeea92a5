"""Which payment provider is offered, how it reads its settings and is built.

``EASYFLOW_PAYMENT_PROVIDER`` picks one; each real provider has a typed config whose
``from_env(reader, public_url)`` raises ``SettingsError`` naming a missing variable,
read once at start (``actions/settings.py``), so an unconfigured provider is never
offered.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from actions.integrations.base import OrderSource
from actions.payments.base import PaymentProvider
from actions.payments.demo import DemoPaymentProvider
from common.settings import Reader

# name -> (module, config class, provider class); imported only when chosen.
PROVIDERS = {
    "yookassa": ("actions.payments.yookassa", "YooKassaConfig", "YooKassaProvider"),
    "tbank": ("actions.payments.tbank", "TBankConfig", "TBankProvider"),
    "sber": ("actions.payments.sber", "SberConfig", "SberProvider"),
    "stripe": ("actions.payments.stripe", "StripeConfig", "StripeProvider"),
}


def _member(name: str, index: int) -> Any:
    module_name = PROVIDERS[name][0]
    return getattr(importlib.import_module(module_name), PROVIDERS[name][index])


def read_payment_config(name: str, reader: Reader, public_url: str) -> Any | None:
    """The chosen provider's typed config; ``None`` for the demo provider."""
    if name == "demo":
        return None
    return _member(name, 1).from_env(reader, public_url)


def build_provider(
    name: str,
    data_dir: Path,
    public_url: str,
    orders: OrderSource,
    config: Any | None,
) -> PaymentProvider:
    if name == "demo":
        return DemoPaymentProvider(
            data_dir / "demo_payments.sqlite", public_url, orders
        )
    return _member(name, 2).from_config(config)
