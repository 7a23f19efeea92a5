"""Pure-Python helpers shared by every process: the Rasa server (``bot/``,
``connectors/``), the action server (``actions/``) and the outbox relay.

Nothing here imports ``rasa`` or ``rasa_sdk``; ``actions/`` imports only from here,
never from ``bot/`` or ``connectors/``.

- ``http``: the platform HTTP client (base URL, timeouts, retries, typed errors);
- ``security``: constant-time comparisons and HMAC helpers;
- ``order_ids``: the order-number formats of every order source;
- ``language``, ``translit``: the shopper's language, Russian typed in Latin letters;
- ``minilm``: the English sentence encoder read from shipped weights;
- ``metrics``: Prometheus metrics on prometheus-client (multiprocess-aware);
- ``logging``: JSON log lines with bound context, through structlog.
"""
