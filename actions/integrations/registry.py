"""Which order sources exist and how each is built from the environment.

``EASYFLOW_ORDER_SOURCES`` lists the enabled ones (``demo`` by default). Each
marketplace client has ``from_env(env)``, which raises ``SettingsError`` naming a
missing variable, so a misconfigured source stops start-up.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path

from actions.integrations.base import OrderSource
from actions.integrations.demo_store import DemoStore
from actions.integrations.router import RoutingOrderSource

MARKETPLACES = {
    "wildberries": "actions.integrations.wildberries:WildberriesSource",
    "ozon": "actions.integrations.ozon:OzonSource",
    "bitrix24": "actions.integrations.bitrix24:Bitrix24Source",
    "shopify": "actions.integrations.shopify:ShopifySource",
}
NAMES = ("demo", *MARKETPLACES)


def build_sources(
    names: tuple[str, ...], demo_store_path: Path, env: Mapping[str, str]
) -> tuple[OrderSource, DemoStore | None]:
    """The order source to use (a router when several), and the demo store if on."""
    sources: list[OrderSource] = []
    demo: DemoStore | None = None
    for name in names:
        if name == "demo":
            demo = DemoStore(demo_store_path)
            demo.ensure_ready()
            sources.append(demo)
            continue
        module_name, class_name = MARKETPLACES[name].split(":")
        source_class = getattr(importlib.import_module(module_name), class_name)
        sources.append(source_class.from_env(env))
    source = sources[0] if len(sources) == 1 else RoutingOrderSource(sources)
    return source, demo
