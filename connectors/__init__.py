"""Messenger connectors loaded by the Rasa server from ``credentials.yml``.

One module per platform (``telegram``, ``vk``, ``whatsapp``, ``viber``, ``alice``)
on shared pieces: ``security`` (constant-time checks), ``dedupe`` (each delivery
once), ``http`` (platform client with bounded retries), ``text`` (splitting) and
``base`` (handing a verified delivery to Rasa). ``python -m connectors setup``
registers webhooks.
"""
