"""Which payment provider is offered, built from the environment.

``EASYFLOW_PAYMENT_PROVIDER`` picks one; each real provider's ``from_env(env,
public_url)`` raises ``SettingsError`` naming a missing variable, so an unconfigured
provider is never offered.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path

from actions.integrations.base import OrderSource
from actions.payments.base import PaymentProvider
from actions.payments.demo import DemoPaymentProvider

PROVIDERS = {
    "yookassa": "actions.payments.yookassa:YooKassaProvider",
    "tbank": "actions.payments.tbank:TBankProvider",
    "sber": "actions.payments.sber:SberProvider",
    "stripe": "actions.payments.stripe:StripeProvider",
}


def build_provider(
    name: str,
    data_dir: Path,
    public_url: str,
    orders: OrderSource,
    env: Mapping[str, str],
) -> PaymentProvider:
    if name == "demo":
        return DemoPaymentProvider(
            data_dir / "demo_payments.sqlite", public_url, orders
        )
    module_name, class_name = PROVIDERS[name].split(":")
    provider_class = getattr(importlib.import_module(module_name), class_name)
    return provider_class.from_env(env, public_url)
