"""The e-mail factor of order privacy: one-time codes and the senders that deliver
them (``actions/privacy.py`` decides when a code is asked).

- ``codes``: issuing and checking codes (random, stored hashed, expiring, one use,
  sends limited per order).
- ``stores``: where codes and sends are kept (SQLite on the embedded default,
  Redis when ``EASYFLOW_REDIS_URL`` is set).
- ``senders``: the ``CodeSender`` interface, the file sender for development and
  the factory; ``smtp``: the SMTP sender for production.
- ``mask``: the e-mail as the shopper may see it (``t***@e***.ru``).
- ``factory``: the sender and store ``EASYFLOW_CODE_SENDER`` and
  ``EASYFLOW_REDIS_URL`` choose (``Services.codes``).
"""
