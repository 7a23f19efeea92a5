"""Which order sources exist, how each reads its settings and how it is built.

``EASYFLOW_ORDER_SOURCES`` lists the enabled ones (``demo`` by default). Each
marketplace has a typed config whose ``from_env(reader)`` raises ``SettingsError``
naming a missing variable, read once at start (``actions/settings.py``), so a
misconfigured source stops start-up; ``build_sources`` builds the clients from them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from actions.integrations.base import OrderSource
from actions.integrations.demo_store import DemoStore
from actions.integrations.router import RoutingOrderSource
from common.settings import Reader

# name -> (module, config class, source class); imported only when enabled.
MARKETPLACES = {
    "wildberries": (
        "actions.integrations.wildberries",
        "WildberriesConfig",
        "WildberriesSource",
    ),
    "ozon": ("actions.integrations.ozon", "OzonConfig", "OzonSource"),
    "bitrix24": ("actions.integrations.bitrix24", "Bitrix24Config", "Bitrix24Source"),
    "shopify": ("actions.integrations.shopify", "ShopifyConfig", "ShopifySource"),
}
NAMES = ("demo", *MARKETPLACES)


def _member(name: str, index: int) -> Any:
    module_name = MARKETPLACES[name][0]
    return getattr(importlib.import_module(module_name), MARKETPLACES[name][index])


def read_source_configs(names: tuple[str, ...], reader: Reader) -> dict[str, Any]:
    """The typed config of every enabled marketplace (the demo store needs none)."""
    return {name: _member(name, 1).from_env(reader) for name in names if name != "demo"}


def build_sources(
    names: tuple[str, ...], demo_store_path: Path, configs: Mapping[str, Any]
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
        sources.append(_member(name, 2).from_config(configs[name]))
    source = sources[0] if len(sources) == 1 else RoutingOrderSource(sources)
    return source, demo
