"""The exchange's slot names and intent."""

from __future__ import annotations

INTENT = "exchange_item"
# The SKU of the order's item to exchange (asked with a button per item).
ITEM = "exchange_item"
# The size and colour wanted, encoded by ``Variant.encode`` ("43/black", "/red").
VARIANT = "exchange_variant"
# Set by the order handler when the item or the variant is still unknown: the
# rule that starts exchange_form follows it (data/rules/exchange.yml).
ASKS = "exchange_asks"
