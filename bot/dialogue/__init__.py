"""Dialogue: policies named in ``config.yml``, the language-aware response generator
named in ``endpoints.yml`` and the per-turn guards it installs (failed actions,
repeated actions, typed payloads, speed-ups)."""
