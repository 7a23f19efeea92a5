"""The order form's slot names and the names shoppers know the order sources by."""

from __future__ import annotations

ORDER_ID = "order_id"
ATTEMPTS = "order_id_attempts"
ADDRESS = "delivery_address"
PHONE = "phone_last4"
# The one-time code sent to the order's e-mail when it has no phone.
CODE = "one_time_code"
REQUEST = "order_request"
# Where an order number that several sources have was bought (asked with buttons).
SOURCE = "order_source"
PENDING = "pending"
# Marketplace names as shoppers know them (proper names, the same in every language).
SOURCE_NAMES = {
    "wildberries": "Wildberries",
    "ozon": "Ozon",
    "bitrix24": "Bitrix24",
    "shopify": "Shopify",
    "demo": "Easy Flow",
}
MARKETPLACE_APPS = frozenset({"wildberries", "ozon"})
