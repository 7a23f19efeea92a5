"""Order sources: where the assistant looks up orders, products, returns and refunds.

``base`` defines the interface; ``demo_store`` is the embedded default. Marketplace
clients (Wildberries, Ozon, Bitrix24, Shopify) implement the same interface.
"""
