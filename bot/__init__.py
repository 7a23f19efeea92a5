"""Rasa engine extensions, imported only by the Rasa process.

- ``bot.nlu``: NLU pipeline components (``config.yml``, ``pipeline``);
- ``bot.dialogue``: policies (``config.yml``, ``policies``), the response generator
  and the guards it installs (``endpoints.yml``, ``nlg``);
- ``bot.stores``: tracker stores, lock stores and the event broker
  (``endpoints.yml``).

Input channels live in ``connectors/``, shared helpers in ``common/``, the outbox
relay in ``outbox/``.
"""
