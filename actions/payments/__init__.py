"""Payment providers: create a payment link for an order and learn when it is paid.

``base`` defines the interface; ``demo`` is the embedded default with a local "pay"
page (``pay_page``). YooKassa, T-Bank, Sber and Stripe implement the same interface.
"""
