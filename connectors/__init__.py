"""Messenger connectors loaded by the Rasa server from ``credentials.yml``.

One module per platform (Telegram, VK, WhatsApp, Viber, Yandex Alice) plus shared
webhook security; they arrive in their own issue. The web chat and ``rasa shell``
use Rasa's built-in REST channel until then.
"""
